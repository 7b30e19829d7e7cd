package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

func ExampleNewInstance() {
	type machine = states.Machine[string, string, int]
	countCoin := states.Do("count coin", func(ctx context.Context, m machine) error {
		*m.Data()++
		return nil
	})

	b := fsm.New[string, string, int]("turnstile")
	b.State("Locked", states.Initial)
	b.State("Unlocked", states.Normal)
	b.On("Locked", "coin", "Unlocked").Do(countCoin)
	b.On("Unlocked", "push", "Locked")
	def := b.MustBuild()

	// One Instance is shared by every goroutine that uses the turnstile.
	turnstile, err := engine.NewInstance(def, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, event := range []string{"coin", "push", "push"} {
		res, err := turnstile.Fire(ctx, event)
		if errors.Is(err, engine.ErrUnhandled) {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s -> %s\n", event, res.From, res.To)
	}
	turnstile.Do(func(state string, coins *int) { fmt.Println(state, "with", *coins, "coin") })
	// Output:
	// coin: Locked -> Unlocked
	// push: Unlocked -> Locked
	// turnstile: event "push" in state "Locked": no transition
	// Locked with 1 coin
}

// Fire's error says what happened and so where the machine is: a failed
// guard or action changes nothing, and a panic in user code is returned,
// not raised.
func ExampleInstance_Fire() {
	type Account struct{ Balance, Amount int }
	type machine = states.Machine[string, string, Account]
	funded := transitions.If("funded", func(m machine) bool { return m.Data().Balance >= m.Data().Amount })
	debit := states.Do("debit", func(ctx context.Context, m machine) error {
		return errors.New("ledger unavailable")
	})
	audit := states.Do("audit", func(ctx context.Context, m machine) error { panic("audit log full") })

	b := fsm.New[string, string, Account]("withdrawal")
	b.State("Pending", states.Initial)
	b.State("Paid", states.Final)
	b.On("Pending", "approve", "Paid").When(funded).Do(debit)
	b.On("Pending", "force", "Paid").Do(audit)

	withdrawal, _ := engine.NewInstance(b.MustBuild(), Account{Balance: 50, Amount: 80})
	ctx := context.Background()

	_, err := withdrawal.Fire(ctx, "approve")
	var unhandled *engine.UnhandledError
	if errors.As(err, &unhandled) {
		fmt.Println("guarded:", unhandled.Guarded, "state:", withdrawal.State())
	}

	withdrawal.Do(func(_ string, a *Account) { a.Balance = 100 })
	_, err = withdrawal.Fire(ctx, "approve")
	var failed *engine.ActionError
	if errors.As(err, &failed) {
		fmt.Println(failed.Phase, failed.Action, "failed:", failed.Err, "state:", withdrawal.State())
	}

	_, err = withdrawal.Fire(ctx, "force")
	var panicked *engine.PanicError
	if errors.As(err, &panicked) {
		fmt.Println("panic:", panicked.Value, "state:", withdrawal.State())
	}
	// Output:
	// guarded: true state: Pending
	// action debit failed: ledger unavailable state: Pending
	// panic: audit log full state: Pending
}

// A Runner starts short-lived Runs, one per call, each owned by the
// goroutine that started it. Here a choice state calls the card processor
// and leaves by the outcome, with no trip through an event queue.
func ExampleNewRunner() {
	type Payment struct {
		Card   string
		Status string
	}
	type machine = states.Machine[string, string, Payment]
	chargeCard := states.Chooser("charge card", func(ctx context.Context, m machine) (string, error) {
		if m.Data().Card == "4000-0000-0000-0002" { // the test card that is always declined
			return "declined", nil
		}
		return "approved", nil
	})

	b := fsm.New[string, string, Payment]("payment")
	b.State("Start", states.Initial)
	b.Choice("Charging", chargeCard)
	b.State("Paid", states.Final)
	b.State("Declined", states.Final)
	b.On("Start", "pay", "Charging")
	b.On("Charging", "approved", "Paid")
	b.On("Charging", "declined", "Declined")
	runner := engine.NewRunner(b.MustBuild())

	ctx := context.Background()
	for _, card := range []string{"4242-4242-4242-4242", "4000-0000-0000-0002"} {
		run, err := runner.Start(ctx, Payment{Card: card})
		if err != nil {
			fmt.Println(err)
			return
		}
		res, err := run.Fire(ctx, "pay")
		fmt.Println(card, res.To, run.Done(), err)
		run.Release() // recycles the run's state for the next Start
	}
	// Output:
	// 4242-4242-4242-4242 Paid true <nil>
	// 4000-0000-0000-0002 Declined true <nil>
}

// Wait takes a run's delayed transitions as they fall due, sleeping on the
// run's clock. With enginetest's manual clock the test decides when time
// passes: here it advances the clock whenever the run is waiting on it.
func ExampleRun_Wait() {
	b := fsm.New[string, string, struct{}]("light")
	b.State("Green", states.Initial)
	b.State("Yellow", states.Normal)
	b.State("Red", states.Final)
	b.After("Green", 5*time.Second, "Yellow")
	b.After("Yellow", 2*time.Second, "Red")

	clock := enginetest.NewClock(time.Time{})
	logStep := engine.ObserverFunc(func(r engine.Record) {
		fmt.Printf("%s %s --%s--> %s\n", r.Time.Format(time.TimeOnly), r.From, r.Event, r.To)
	})
	runner := engine.NewRunner(b.MustBuild(), engine.WithClock(clock), engine.WithObserver(logStep))

	ctx, cancel := context.WithCancel(context.Background())
	run, _ := runner.Start(ctx, struct{}{})
	defer run.Release()

	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		for clock.BlockUntilWaiters(ctx, 1) == nil {
			clock.AdvanceToNext()
		}
	}()
	err := run.Wait(ctx)
	cancel()
	<-advanced
	fmt.Println(run.State(), err)
	// Output:
	// 00:00:05 Green --after 5s--> Yellow
	// 00:00:07 Yellow --after 2s--> Red
	// Red <nil>
}

// A delayed transition on an Instance is a timer on its clock: with the
// manual clock it fires when the test advances time past it.
func ExampleWithClock() {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Open", states.Normal)
	b.On("Closed", "open", "Open")
	b.On("Open", "close", "Closed")
	b.Timeout("Open", 30*time.Second, "Closed")

	clock := enginetest.NewClock(time.Time{})
	door, _ := engine.NewInstance(b.MustBuild(), struct{}{}, engine.WithClock(clock))
	defer door.Close()

	door.Fire(context.Background(), "open")
	clock.Advance(29 * time.Second)
	fmt.Println(door.State())
	clock.Advance(time.Second)
	fmt.Println(door.State())
	// Output:
	// Open
	// Closed
}

// A snapshot survives a restart: its JSON form carries the state, the data
// and each pending timer's deadline. Restore fires the timers that fell due
// while the machine was down.
func ExampleInstance_Snapshot() {
	b := fsm.New[string, string, int]("session")
	b.State("Active", states.Initial)
	b.State("Expired", states.Final)
	b.After("Active", 15*time.Minute, "Expired")
	def := b.MustBuild()

	clock := enginetest.NewClock(time.Time{})
	session, _ := engine.NewInstance(def, 42, engine.WithClock(clock))
	clock.Advance(10 * time.Minute)
	snap, err := session.Snapshot()
	session.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	saved, _ := json.Marshal(snap)

	// Later, perhaps in another process:
	clock.Advance(time.Hour)
	snap, err = engine.DecodeSnapshot(saved)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.State, "until", snap.Timers[0].Deadline.Format(time.TimeOnly))
	restored, err := engine.Restore(def, snap, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer restored.Close()
	restored.Do(func(state string, user *int) { fmt.Println(state, "for user", *user) })
	// Output:
	// Active until 00:15:00
	// Expired for user 42
}

// An observer sees a Record of every step: the event, the guards tried and
// the transition taken, or the error.
func ExampleWithObserver() {
	type machine = states.Machine[string, string, int]
	underLimit := transitions.If("under limit", func(m machine) bool { return *m.Data() < 3 })

	b := fsm.New[string, string, int]("login")
	b.State("LoggedOut", states.Initial)
	b.State("LoggedIn", states.Normal)
	b.State("LockedOut", states.Final)
	b.On("LoggedOut", "fail", "LoggedOut").When(underLimit).
		Do(states.Do("count", func(ctx context.Context, m machine) error { *m.Data()++; return nil }))
	b.On("LoggedOut", "fail", "LockedOut")
	b.On("LoggedOut", "succeed", "LoggedIn")
	b.On("LoggedIn", "logout", "LoggedOut")

	logStep := engine.ObserverFunc(func(r engine.Record) {
		fmt.Printf("%s --%s", r.From, r.Event)
		for _, g := range r.Guards {
			fmt.Printf(" [%s]=%t", g.Guard, g.Held)
		}
		fmt.Printf("--> %s", r.To)
		if r.Err != nil {
			fmt.Print(": ", r.Err)
		}
		fmt.Println()
	})
	login, _ := engine.NewInstance(b.MustBuild(), 2, engine.WithObserver(logStep))
	login.Fire(context.Background(), "fail")
	login.Fire(context.Background(), "fail")
	login.Fire(context.Background(), "succeed")
	// Output:
	// LoggedOut --fail [under limit]=true--> LoggedOut
	// LoggedOut --fail [under limit]=false--> LockedOut
	// LockedOut --succeed--> LockedOut: login: event "succeed" in state "LockedOut": the machine is in a final state
}

// WithTimeout makes a context whose deadline runs on a Clock, so a test
// decides when it passes.
func ExampleWithTimeout() {
	clock := enginetest.NewClock(time.Time{})
	ctx, cancel := engine.WithTimeout(context.Background(), clock, 30*time.Second)
	defer cancel()

	clock.Advance(29 * time.Second)
	fmt.Println(ctx.Err())
	clock.Advance(time.Second)
	fmt.Println(ctx.Err())
	// Output:
	// <nil>
	// context deadline exceeded
}
