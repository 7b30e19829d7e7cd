package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Machines with integer-kind states and events read their events from a
// direct table, and Run and Instance take a plain transition lock-free
// from it; an observer turns that path off. On random flat machines (plain,
// guarded and acting transitions; events the machine does not know,
// inside the table's range and outside it; contexts already ended; some
// machines committing regardless), Run and Instance without an observer
// must do what an Instance with one does, step for step: the same
// Result, the same kind of error, the same state.
func TestPlainTransitionsFromTheEventTableMatchTheStepper(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for m := range 200 {
		def := randomIntMachine(r, m)
		run, err := engine.NewRunner(def).Start(context.Background(), 0)
		require.NoError(t, err)
		fast, err := engine.NewInstance(def, 0)
		require.NoError(t, err)
		slow, err := engine.NewInstance(def, 0, engine.WithObserver(engine.ObserverFunc(func(engine.Record) {})))
		require.NoError(t, err)
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		for step := range 40 {
			ev := intEvent(r.IntN(8) - 1) // -1 and 5..6 are not the machine's
			ctx := context.Background()
			if r.IntN(6) == 0 {
				ctx = ended
			}
			want, wantErr := slow.Fire(ctx, ev)
			where := fmt.Sprintf("machine %d step %d: event %d in %v", m, step, ev, want.From)
			for name, fire := range map[string]func(context.Context, intEvent) (engine.Result[intState], error){
				"Run": run.Fire, "Instance": fast.Fire,
			} {
				got, gotErr := fire(ctx, ev)
				require.Equal(t, want, got, "%s: %s", name, where)
				require.Equal(t, errorKind(wantErr), errorKind(gotErr), "%s: %s: %v against %v", name, where, gotErr, wantErr)
			}
			require.Equal(t, slow.State(), run.State(), "Run: %s", where)
			require.Equal(t, slow.State(), fast.State(), "Instance: %s", where)
		}
		run.Release()
	}
}

type intState uint8
type intEvent int16

// randomIntMachine is a flat machine of 3 to 7 states and events 0..4,
// each state's transitions plain, guarded (the guard passes or not, by
// the data's parity) or with an action (which counts in the data).
func randomIntMachine(r *rand.Rand, seed int) *fsm.Definition[intState, intEvent, int] {
	b := fsm.New[intState, intEvent, int](fmt.Sprintf("ints%d", seed)).AllowUnreachable()
	if r.IntN(3) == 0 {
		b.CommitRegardless()
	}
	n := 3 + r.IntN(5)
	b.State(0, states.Initial)
	for s := 1; s < n; s++ {
		b.State(intState(s), states.Normal)
	}
	even := transitions.If("even", func(m states.Machine[intState, intEvent, int]) bool { return *m.Data()%2 == 0 })
	count := states.Do("count", func(_ context.Context, m states.Machine[intState, intEvent, int]) error { *m.Data()++; return nil })
	for s := range n {
		for e := range 5 {
			if e > 0 && r.IntN(3) == 0 {
				continue // event 0 always has a way out
			}
			tr := b.On(intState(s), intEvent(e), intState(r.IntN(n)))
			switch r.IntN(4) {
			case 0:
				tr.When(even)
			case 1:
				tr.Do(count)
			}
		}
	}
	return b.MustBuild()
}

// errorKind names the sentinel an error matches, for comparing errors
// whose texts may differ.
func errorKind(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, engine.ErrNotTransitioned):
		return "not transitioned"
	case errors.Is(err, engine.ErrUnhandled):
		return "unhandled"
	}
	return err.Error()
}
