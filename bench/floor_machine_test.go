package bench

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// The smallest per-call retry machine the design allows: a pooled run
// state, Start -begin-> Attempt, a choice state whose function calls the
// protected function, -success-> Done (and -failure-> Failed). It is
// DESIGN.md's prototype retry run by the engine, with none of what
// errorrecovery adds around it: no context for the function, no
// classification beyond the error, no metrics, no breaker or deadline
// hooks. BenchmarkFloor's engine-RetryMachine row measures it, as the
// floor of RetryFirstSuccess/statecraft-RetryExecutor under the design's
// constraint that every step is a transition of the definition.
//
// With a breaker, Start -begin-> Check, a choice state whose function
// takes a permit (an atomic load of the breaker's state and an atomic
// add, as breaker.Allow and Permit.Done do between them), -allowed->
// Attempt: the floor of FallbackRetryBreaker (engine-RetryBreakerMachine).

type floorState uint8
type floorEvent uint8

const (
	floorStart floorState = iota
	floorCheck
	floorAttempt
	floorDone
	floorFailed
)

const (
	floorBegin floorEvent = iota
	floorSuccess
	floorFailure
	floorAllowed
	floorOpen
)

type floorCall struct {
	fn  func(context.Context) (int, error)
	res int
	err error
}

func floorRetryRunner(tb testing.TB, withBreaker bool) *engine.Runner[floorState, floorEvent, floorCall] {
	tb.Helper()
	b := fsm.New[floorState, floorEvent, floorCall]("floor-retry")
	b.State(floorStart, states.Initial)
	b.Choice(floorAttempt, states.Chooser("call", func(ctx context.Context, m states.Machine[floorState, floorEvent, floorCall]) (floorEvent, error) {
		d := m.Data()
		if d.res, d.err = d.fn(ctx); d.err != nil {
			return floorFailure, nil
		}
		return floorSuccess, nil
	}))
	b.State(floorDone, states.Final)
	b.State(floorFailed, states.Final)
	if withBreaker {
		var state, outcomes atomic.Uint64
		b.Choice(floorCheck, states.Chooser("permit", func(context.Context, states.Machine[floorState, floorEvent, floorCall]) (floorEvent, error) {
			if state.Load() != 0 {
				return floorOpen, nil
			}
			outcomes.Add(1)
			return floorAllowed, nil
		}))
		b.On(floorStart, floorBegin, floorCheck)
		b.On(floorCheck, floorAllowed, floorAttempt)
		b.On(floorCheck, floorOpen, floorFailed)
	} else {
		b.On(floorStart, floorBegin, floorAttempt)
	}
	b.On(floorAttempt, floorSuccess, floorDone)
	b.On(floorAttempt, floorFailure, floorFailed)
	def, err := b.Build()
	require.NoError(tb, err)
	return engine.NewRunner(def)
}

// floorRetry is one execution of the machine: its state from the pool,
// the function set, Begin fired, the result read, the state recycled.
func floorRetry(ctx context.Context, r *engine.Runner[floorState, floorEvent, floorCall], fn func(context.Context) (int, error)) (int, error) {
	run, err := r.Begin(ctx)
	if err != nil {
		return 0, err
	}
	d := run.Data()
	d.fn = fn
	if _, err := run.Fire(ctx, floorBegin); err != nil {
		run.Release()
		return 0, err
	}
	res, ferr := d.res, d.err
	run.Release()
	return res, ferr
}

// The floor machines answer as a retry's first attempt would.
func TestFloorRetryMachine(t *testing.T) {
	for _, withBreaker := range []bool{false, true} {
		r := floorRetryRunner(t, withBreaker)
		v, err := floorRetry(context.Background(), r, okIntCtx)
		require.NoError(t, err)
		require.Equal(t, 1, v)
		_, err = floorRetry(context.Background(), r, func(context.Context) (int, error) { return 0, errBoom })
		require.ErrorIs(t, err, errBoom)
	}
}
