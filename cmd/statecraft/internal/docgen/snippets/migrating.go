package snippets

import (
	"context"
	"fmt"
	"log"
	"time"

	lfsm "github.com/looplab/fsm"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/fsm/looplab"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/states"
)

// snippet:looplab-events begin
var doorEvents = lfsm.Events{ // the events given to looplab's NewFSM, unchanged
	{Name: "open", Src: []string{"closed"}, Dst: "open"},
	{Name: "close", Src: []string{"open"}, Dst: "closed"},
}

// snippet:looplab-events end

// Looplab is the first snippet of docs/migrating.md.
func Looplab(ctx context.Context) error {
	// snippet:looplab-import begin
	def, warnings, err := looplab.Import("door", "closed", doorEvents)
	if err != nil {
		return err // a *fsm.BuildError listing every defect
	}
	for _, w := range warnings {
		log.Print("door: ", w) // unreachable states, events declared twice
	}
	fmt.Print(def.Mermaid())

	door, err := engine.NewInstance(def, struct{}{})
	if err != nil {
		return err
	}
	res, err := door.Fire(ctx, "open") // looplab: fsm.Event(ctx, "open")
	if err != nil {
		return err // an *engine.UnhandledError: errors.Is(err, engine.ErrUnhandled)
	}
	fmt.Println(res.From, "->", res.To, door.State()) // closed -> open open
	// snippet:looplab-import end
	return nil
}

// LooplabCallbacks is the second snippet of docs/migrating.md.
func LooplabCallbacks(def *looplab.Definition) (*looplab.Definition, error) {
	// snippet:looplab-callbacks begin
	// looplab's callbacks map {"enter_open": …} becomes a named entry action.
	chime := states.Do("chime", func(ctx context.Context, m states.Machine[string, string, struct{}]) error {
		log.Print("door opened")
		return nil
	})
	b := fsm.New[string, string, struct{}](def.Name())
	for _, s := range def.StateSpecs() {
		spec := b.State(s.ID, s.Kind)
		*spec = s
		if s.ID == "open" {
			spec.OnEntry(chime)
		}
	}
	for _, t := range def.Transitions() {
		if t.Internal {
			*b.Internal(t.From, t.Event) = t
		} else {
			*b.On(t.From, t.Event, t.To) = t
		}
	}
	return b.Build()
	// snippet:looplab-callbacks end
}

// Failsafe is the third snippet of docs/migrating.md: the statecraft form
// of a fallback around retries around a breaker around an attempt timeout.
func Failsafe(ctx context.Context) (Quote, error) {
	// snippet:failsafe begin
	retry := errorrecovery.DefaultRetryConfig[Quote]()
	retry.MaxAttempts = 3                                                  // WithMaxRetries(2)
	retry.InitialDelay, retry.MaxDelay = 100*time.Millisecond, time.Second // WithBackoff(100ms, 1s)
	retry.Backoff, retry.Multiplier = errorrecovery.BackoffExponential, 2

	bc := breaker.DefaultConfig()
	bc.FailureThreshold, bc.WindowSize = 5, 5 // WithFailureThreshold(5): 5 in a row
	bc.WindowDuration = breaker.CountOnly     // count-based
	bc.SuccessThreshold = 1                   // WithSuccessThreshold(1)
	bc.OpenTimeout = 30 * time.Second         // WithDelay(30s)

	fb := errorrecovery.FallbackValue(Quote{Stale: true}) // fallback.NewWithResult

	w, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[Quote]{
		Retry:    &retry,
		Breaker:  &bc,
		Fallback: &fb,
		Deadline: &errorrecovery.DeadlineConfig{AttemptTimeout: 250 * time.Millisecond}, // timeout.New, inside the retry
	})
	if err != nil {
		return Quote{}, err
	}
	return w.Execute(ctx, getQuote) // failsafe.With(fallback, retry, breaker, timeout).Get(…)
	// snippet:failsafe end
}
