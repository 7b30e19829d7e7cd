// Ordersaga processes orders with a saga: reserve inventory, charge
// payment, create shipment, each with a compensation (release inventory,
// refund payment, cancel shipment). It shows the two ways a saga ends up
// undoing its work:
//
//   - Part 1: the shipment fails, and the saga compensates the steps that
//     took effect, last first: refund, then release. Run returns a
//     *saga.Error saying why.
//   - Part 2: the process dies in the middle of an order. The saga
//     journals every step before and after its effect in a SQLite file
//     (package sqlitejournal), so a restarted process finds the order
//     unfinished and saga.Recover rolls it back. Every action
//     carries an idempotency key, which the payment provider uses to
//     refuse to charge the customer twice.
//
// Run it with
//
//	go run ./examples/ordersaga
//	go run ./examples/ordersaga -db /tmp/orders.db   # keep the journal to look at it
//
// The remote services are in-process fakes (services.go). The crash is
// simulated in-process: the first process's journal panics instead of
// writing the record it was asked to, so nothing after that point reaches
// the file, just as if the process had been killed there; the example
// then closes the file and opens it again as a restarted process would.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/statecraft/statecraft/engine"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/sqlitejournal"
)

// Order is the saga's state: every action is given it, and the journal
// keeps it as JSON.
type Order struct {
	ID       string `json:"id"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	Cents    int    `json:"cents"` // the amount to charge
	Address  string `json:"address"`
}

// The saga's name and its steps' names. Recover finds a journaled saga by
// its name and checks the journaled step names against the registered
// saga's, so they must not change while sagas may be in a journal.
const (
	sagaName    = "order"
	stepReserve = "reserve inventory"
	stepCharge  = "charge payment"
	stepShip    = "create shipment"
)

// The demo's two orders: no courier serves the first one's address.
var (
	order1 = Order{ID: "order-1", Item: "gopher plush", Quantity: 2, Cents: 3998, Address: unservedAddress}
	order2 = Order{ID: "order-2", Item: "Go mug", Quantity: 1, Cents: 1250, Address: "1 Main Street, Springfield"}
)

// defaultCrash is where the first process dies in Part 2: the shipping
// company has created order-2's shipment, but the saga has not yet
// journaled it. After a restart, the journal says the shipment was
// started and no more, the most delicate case for recovery.
var defaultCrash = crashPoint{id: order2.ID, kind: saga.RecordStepDone, step: stepShip}

// main runs the demo, on the journal file -db names or on one in a
// temporary folder.
func main() {
	db := flag.String("db", "", "the SQLite journal file to create; it must not exist (default: orders.db in a new temporary folder)")
	flag.Parse()
	if err := mainErr(*db); err != nil {
		fmt.Fprintln(os.Stderr, "ordersaga:", err)
		os.Exit(1)
	}
}

// mainErr runs the demo on the journal file path, or on one in a
// temporary folder (removed afterwards) when path is empty.
func mainErr(path string) error {
	if path == "" {
		dir, err := os.MkdirTemp("", "ordersaga-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "orders.db")
	} else if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: the demo's order ids are fixed, so it needs a journal of its own", path)
	}
	return run(os.Stdout, path)
}

// run runs both parts of the demo against the journal file path, printing
// to w.
func run(w io.Writer, path string) error {
	return runDemo(w, path, NewServices(), defaultCrash)
}

// runDemo runs the demo with the given services, the first process dying
// at crashAt. The services are shared by both processes, as remote
// services would be; only they and the journal file outlive the crash.
func runDemo(w io.Writer, path string, svc *Services, crashAt crashPoint) error {
	ctx := context.Background()
	if err := firstProcess(ctx, w, path, svc, crashAt); err != nil {
		return err
	}
	return restartedProcess(ctx, w, path, svc)
}

// firstProcess runs Part 1 to its end, then Part 2 until the process
// "dies" at crashAt.
func firstProcess(ctx context.Context, w io.Writer, path string, svc *Services, crashAt crashPoint) error {
	j, err := sqlitejournal.Open(ctx, path)
	if err != nil {
		return err
	}
	defer j.Close() // the operating system closes the file of a process that died, too
	p, err := newProcess(w, svc, crashingJournal{Journal: j, at: crashAt})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "Part 1: the shipment fails, so the saga undoes what took effect, last step first")
	fmt.Fprintln(w)
	_, err = p.run(ctx, order1)
	p.printPath()
	if err := explain(w, err); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Part 2: the process dies in the middle of an order; a restart recovers it")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  journal: %s (SQLite), written before and after every effect\n", filepath.Base(path))
	svc.Payments.LoseReplies = 1 // the network loses the reply to order-2's charge
	crashed, err := p.runUntilCrash(ctx, order2)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", order2.ID, err)
	case !crashed:
		return fmt.Errorf("%s finished: the process passed no point %v", order2.ID, crashAt)
	}
	fmt.Fprintf(w, "  *** the process dies %v ***\n", crashAt)
	return nil
}

// restartedProcess opens the journal again, shows what the crashed
// process left in it, and recovers.
func restartedProcess(ctx context.Context, w io.Writer, path string, svc *Services) error {
	j, err := sqlitejournal.Open(ctx, path)
	if err != nil {
		return err
	}
	defer j.Close()
	p, err := newProcess(w, svc, j)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  a new process starts and opens the journal again")
	logs, err := j.Incomplete(ctx)
	if err != nil {
		return err
	}
	if len(logs) == 0 {
		fmt.Fprintln(w, "  the journal holds no unfinished saga: the order never began")
	}
	for _, log := range logs {
		describe(w, log)
	}

	// Recover at startup, before new runs: a saga that is still running in
	// this process would look just like a crashed one.
	reg, err := saga.NewRegistry(p.saga)
	if err != nil {
		return err
	}
	results, err := saga.Recover(ctx, j, reg)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	for _, r := range results {
		fmt.Fprintf(w, "  recovered %s: %v\n", r.ID, r.State)
		p.printPath()
	}

	again, err := saga.Recover(ctx, j, reg)
	if err != nil {
		return fmt.Errorf("recover again: %w", err)
	}
	left, err := j.Incomplete(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  the journal now holds %d unfinished sagas; a second Recover finds %d to do\n", len(left), len(again))
	fmt.Fprintln(w)
	printCharges(w, svc.Payments.Charges())
	return nil
}

// process is one run of the order-processing program: the saga, built
// over the program's journal, and what its machine did. A crash ends a
// process; only the journal file and the remote services carry over to
// the next one.
type process struct {
	w    io.Writer
	svc  *Services
	saga *saga.Saga[Order]
	path []string // the states the saga's machine has gone through since the last printPath
}

// newProcess builds the order saga over journal j.
func newProcess(w io.Writer, svc *Services, j saga.Journal) (*process, error) {
	p := &process{w: w, svc: svc}
	// The charge goes through a retry: a request whose reply was lost is
	// sent again, at once, with the same idempotency key.
	retryCfg := er.DefaultRetryConfig[struct{}]()
	retryCfg.MaxAttempts, retryCfg.Backoff, retryCfg.InitialDelay, retryCfg.JitterRange = 3, er.BackoffFixed, er.None, er.None
	retryCfg.RetryOn = []er.ErrorMatcher{er.ErrorIs(ErrNoReply)}
	retry, err := er.NewRetry(retryCfg)
	if err != nil {
		return nil, err
	}
	steps := []saga.Step[Order]{
		saga.NewStep(stepReserve, p.reserve, p.release).ResolvedBy(p.askInventory),
		saga.NewStep(stepCharge, p.charge, p.refund).ProtectedBy(retry).ResolvedBy(p.askPayments),
		saga.NewStep(stepShip, p.ship, p.cancelShipment).ResolvedBy(p.askShipping),
	}
	cfg := saga.DefaultConfig()
	cfg.SaveState, cfg.Journal = true, j
	// The observer sees every transition of the saga's machine: one per
	// step, compensation and end.
	watch := engine.ObserverFunc(func(r engine.Record) {
		if r.Transition < 0 {
			return
		}
		if len(p.path) == 0 {
			p.path = append(p.path, r.From)
		}
		p.path = append(p.path, r.To)
	})
	p.saga, err = saga.New(sagaName, cfg, steps, engine.WithObserver(watch))
	return p, err
}

// run runs the saga for o, with the order's id as the run's id (so the
// idempotency keys derive from it).
func (p *process) run(ctx context.Context, o Order) (Order, error) {
	fmt.Fprintf(p.w, "  %s: %d × %s, %s, to %q\n", o.ID, o.Quantity, o.Item, money(o.Cents), o.Address)
	return p.saga.Run(ctx, o.ID, o)
}

// runUntilCrash runs the saga for o and reports whether the process
// "died" on the way: the crashing journal panicked, and the saga passed
// the panic on, leaving the journal as a killed process would.
func (p *process) runUntilCrash(ctx context.Context, o Order) (crashed bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(crash); !ok {
				panic(v)
			}
			crashed = true
		}
	}()
	_, err = p.run(ctx, o)
	return false, err
}

// printPath prints the states the saga's machine went through, and
// forgets them.
func (p *process) printPath() {
	if len(p.path) > 0 {
		fmt.Fprintf(p.w, "  machine: %s\n", strings.Join(p.path, " → "))
	}
	p.path = nil
}

// say prints one action of the saga: do (a step's action), undo (its
// compensation) or ask (a question to a service during recovery), the
// step, the action's idempotency key and what came of it.
func (p *process) say(verb string, c saga.Call[Order], format string, args ...any) {
	fmt.Fprintf(p.w, "  %-4s %-17s [key %s]  %s\n", verb, c.Step, short(c.Key), fmt.Sprintf(format, args...))
}

// replayed explains a reply that the service replayed from its record of
// keys instead of acting again.
func replayed(r Reply, what string) string {
	if !r.Replayed {
		return ""
	}
	return " (a replay: this key was seen before, so nothing was " + what + " again)"
}

// reserve is the action of "reserve inventory". Its output, the
// reservation id, is journaled and given to release.
func (p *process) reserve(ctx context.Context, c saga.Call[Order]) (string, error) {
	r, err := p.svc.Inventory.Reserve(ctx, c.Key, c.State.Item, c.State.Quantity)
	if err != nil {
		p.say("do", c, "%v", err)
		return "", err
	}
	p.say("do", c, "reserved %d × %s as %s%s", c.State.Quantity, c.State.Item, r.ID, replayed(r, "reserved"))
	return r.ID, nil
}

// release is the compensation of "reserve inventory".
func (p *process) release(ctx context.Context, c saga.Call[Order], reservation string) error {
	r, err := p.svc.Inventory.Release(ctx, c.Key, reservation)
	if err != nil {
		p.say("undo", c, "%v", err)
		return err
	}
	p.say("undo", c, "released %s%s", reservation, replayed(r, "released"))
	return nil
}

// charge is the action of "charge payment", run through the retry. Its
// output is the charge's id.
func (p *process) charge(ctx context.Context, c saga.Call[Order]) (string, error) {
	r, err := p.svc.Payments.Charge(ctx, c.Key, c.State.ID, c.State.Cents)
	if err != nil {
		p.say("do", c, "%v: charged or not? the retry asks again with the same key", err)
		return "", err
	}
	p.say("do", c, "charged %s as %s%s", money(c.State.Cents), r.ID, replayed(r, "charged"))
	return r.ID, nil
}

// refund is the compensation of "charge payment".
func (p *process) refund(ctx context.Context, c saga.Call[Order], charge string) error {
	r, err := p.svc.Payments.Refund(ctx, c.Key, charge)
	if err != nil {
		p.say("undo", c, "%v", err)
		return err
	}
	p.say("undo", c, "refunded %s%s", charge, replayed(r, "refunded"))
	return nil
}

// ship is the action of "create shipment". Its output is the shipment's
// id.
func (p *process) ship(ctx context.Context, c saga.Call[Order]) (string, error) {
	r, err := p.svc.Shipping.Create(ctx, c.Key, c.State.ID, c.State.Address)
	if err != nil {
		p.say("do", c, "%v", err)
		return "", err
	}
	p.say("do", c, "created %s%s", r.ID, replayed(r, "created"))
	return r.ID, nil
}

// cancelShipment is the compensation of "create shipment".
func (p *process) cancelShipment(ctx context.Context, c saga.Call[Order], shipment string) error {
	r, err := p.svc.Shipping.Cancel(ctx, c.Key, shipment)
	if err != nil {
		p.say("undo", c, "%v", err)
		return err
	}
	p.say("undo", c, "cancelled %s%s", shipment, replayed(r, "cancelled"))
	return nil
}

// The resolve hooks: during Recover, for a step whose action started but
// whose outcome the journal does not know, ask the service whether it
// acted on the step's key, and if so for the output to compensate.

// askInventory resolves "reserve inventory".
func (p *process) askInventory(ctx context.Context, c saga.Call[Order]) (bool, any, error) {
	id, ok := p.svc.Inventory.Lookup(ctx, c.Key)
	return p.resolved(c, "inventory", id, ok)
}

// askPayments resolves "charge payment".
func (p *process) askPayments(ctx context.Context, c saga.Call[Order]) (bool, any, error) {
	id, ok := p.svc.Payments.Lookup(ctx, c.Key)
	return p.resolved(c, "payments", id, ok)
}

// askShipping resolves "create shipment".
func (p *process) askShipping(ctx context.Context, c saga.Call[Order]) (bool, any, error) {
	id, ok := p.svc.Shipping.Lookup(ctx, c.Key)
	return p.resolved(c, "shipping", id, ok)
}

// resolved prints and returns a service's answer to a resolve hook.
func (p *process) resolved(c saga.Call[Order], service, id string, ok bool) (bool, any, error) {
	if ok {
		p.say("ask", c, "%s made %s with this key: the step took effect", service, id)
		return true, id, nil
	}
	p.say("ask", c, "%s has nothing with this key: the step took no effect", service)
	return false, nil, nil
}
