package cli

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// demoConfig is the layered workflow the demo simulates and "render
// workflow" draws. testdata/configs/layered.yaml is the same file, so that
// it can be simulated and edited from the shell; a test keeps them equal.
//
//go:embed demo.yaml
var demoConfig []byte

// demoConfigName is the name demo.yaml goes by in messages and output.
const demoConfigName = "layered.yaml (built in)"

// A machine is a diagram render can draw by name.
type machine struct {
	name  string
	about string
	draw  func() (fsm.Graph, fsm.DiagramOptions, error)
}

// machines returns the built-in machines in the order the usage lists
// them.
func machines() []machine {
	return []machine{
		{"workflow", "the demo's layered workflow (bulkhead, deadline, retry, circuit breaker, fallback), with its shared machines", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return workflowDiagram(demoConfigName, demoConfig)
		}},
		{"recovery", "the card's per-call machine: retry, deadline, fallback and compensate (Attempt → Backoff → Retry → Fallback → Compensate)", recoveryDiagram},
		{"hedge", "a hedged workflow's per-call machine: retry, circuit breaker and hedge (Attempt → Hedge when slow), with its breaker", hedgeDiagram},
		{"retry", "a retry executor's per-call machine (DefaultRetryConfig)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			r, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[any]())
			if err != nil {
				return fsm.Graph{}, fsm.DiagramOptions{}, err
			}
			return r.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"deadline", "a deadline executor's per-call machine (DefaultDeadlineConfig)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			d, err := errorrecovery.NewDeadline[any](errorrecovery.DefaultDeadlineConfig())
			if err != nil {
				return fsm.Graph{}, fsm.DiagramOptions{}, err
			}
			return d.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"breaker", "the circuit breaker (breaker.Definition)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return breaker.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"bulkhead", "the bulkhead (bulkhead.Definition)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return bulkhead.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"adaptive", "the adaptive concurrency limiter (adaptive.Definition)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return adaptive.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"perkey", "a circuit breaker per host, as a perkey.Registry keeps them (perkey.Diagram, perkey.DefaultConfig)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			g, opts := perkey.Diagram(breaker.Definition().Graph(), "host", perkey.DefaultConfig())
			return g, opts, nil
		}},
		{"ratelimit", "the rate limiter (ratelimit.Definition)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return ratelimit.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"budget", "the retry budget (budget.Definition)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return budget.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"cache", "a result cache's entry: what it answers and what becomes of it (cache.Definition)", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return cache.Definition().Graph(), fsm.DiagramOptions{}, nil
		}},
		{"saga", "a three-step order saga: reserve inventory, charge payment, create shipment", sagaDiagram},
		{"protected-saga", "the order saga with its steps protected by a retry workflow and its compensations by another, drawn as clusters", protectedSagaDiagram},
		{"door", "a sample door: initial and final states, a guard, actions, a delayed transition", func() (fsm.Graph, fsm.DiagramOptions, error) {
			return sampleDoor().Graph(), fsm.DiagramOptions{}, nil
		}},
	}
}

func lookupMachine(name string) (machine, bool) {
	for _, m := range machines() {
		if m.name == name {
			return m, true
		}
	}
	return machine{}, false
}

func machineNames() string {
	var names []string
	for _, m := range machines() {
		names = append(names, m.name)
	}
	return strings.Join(names, ", ")
}

// workflowDiagram builds the workflow a config file describes and returns
// its diagram, with its shared machines as clusters.
func workflowDiagram(name string, data []byte) (fsm.Graph, fsm.DiagramOptions, error) {
	cfg, err := config.Parse[any](name, data)
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, err
	}
	w, err := errorrecovery.NewWorkflow(cfg)
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, err
	}
	if b := w.Breaker(); b != nil {
		defer b.Close()
	}
	g, opts := w.Diagram(fsm.DiagramOptions{})
	return g, opts, nil
}

// sagaDiagram returns the machine of a sample saga whose steps do nothing.
func sagaDiagram() (fsm.Graph, fsm.DiagramOptions, error) {
	type order struct{}
	noop := func(context.Context, saga.Call[order]) (struct{}, error) { return struct{}{}, nil }
	undo := func(context.Context, saga.Call[order], struct{}) error { return nil }
	var steps []saga.Step[order]
	for _, name := range []string{"reserve inventory", "charge payment", "create shipment"} {
		steps = append(steps, saga.NewStep(name, noop, undo))
	}
	s, err := saga.New("order", saga.DefaultConfig(), steps)
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, fmt.Errorf("sample saga: %w", err)
	}
	return s.Definition().Graph(), fsm.DiagramOptions{}, nil
}

// recoveryWorkflow is the card's workflow: retry, an overall deadline, a
// fallback function and COMPENSATE.
func recoveryWorkflow() (*errorrecovery.Workflow[any], error) {
	retry := errorrecovery.DefaultRetryConfig[any]()
	fb := errorrecovery.FallbackConfig[any]{Func: func(err error) (any, error) { return nil, err }}
	return errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[any]{
		Name:    "recovery",
		Primary: errorrecovery.StrategyRetry,
		Secondary: []errorrecovery.Strategy{errorrecovery.StrategyDeadline, errorrecovery.StrategyFallback,
			errorrecovery.StrategyCompensate},
		Retry: &retry, Fallback: &fb,
	})
}

// recoveryDiagram draws the card's per-call machine.
func recoveryDiagram() (fsm.Graph, fsm.DiagramOptions, error) {
	w, err := recoveryWorkflow()
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, err
	}
	g, opts := w.Diagram(fsm.DiagramOptions{})
	return g, opts, nil
}

// protectedSagaDiagram draws the sample saga with its steps protected by
// a retry workflow and its compensations by another.
func protectedSagaDiagram() (fsm.Graph, fsm.DiagramOptions, error) {
	type order struct{}
	noop := func(context.Context, saga.Call[order]) (struct{}, error) { return struct{}{}, nil }
	undo := func(context.Context, saga.Call[order], struct{}) error { return nil }
	steps, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[struct{}]())
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, err
	}
	undos, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[struct{}]())
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, err
	}
	var list []saga.Step[order]
	for _, name := range []string{"reserve inventory", "charge payment", "create shipment"} {
		list = append(list, saga.NewStep(name, noop, undo).ProtectedBy(steps))
	}
	cfg := saga.DefaultConfig()
	cfg.Compensation.CompensationRetry = undos
	s, err := saga.New("order", cfg, list)
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, fmt.Errorf("sample saga: %w", err)
	}
	g, opts := s.Diagram(fsm.DiagramOptions{})
	return g, opts, nil
}

// hedgeDiagram draws a hedged workflow: retry, a circuit breaker that
// each hedge asks too, and up to two hedges 100ms apart.
func hedgeDiagram() (fsm.Graph, fsm.DiagramOptions, error) {
	w, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[any]{
		Name:      "hedged",
		Primary:   errorrecovery.StrategyHedge,
		Secondary: []errorrecovery.Strategy{errorrecovery.StrategyRetry, errorrecovery.StrategyCircuitBreaker},
		Hedge:     &errorrecovery.HedgeConfig{Delay: 100 * time.Millisecond, MaxHedges: 2},
	})
	if err != nil {
		return fsm.Graph{}, fsm.DiagramOptions{}, err
	}
	defer w.Breaker().Close()
	g, opts := w.Diagram(fsm.DiagramOptions{})
	return g, opts, nil
}
