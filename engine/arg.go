package engine

import (
	"context"

	"github.com/statecraft/statecraft/states"
)

// FireWith is Instance.Fire with an argument for the step: the guards,
// actions and choice functions that run for e, and for the events raised
// meanwhile, read it with ArgOf. It is how a caller hands per-call data to
// a shared machine's actions (a waiter to enqueue, the caller's context)
// and gets their answer back (the slot it took), without putting it in
// the machine's data, which every caller shares, and without allocating:
// arg is the caller's own pointer, seen by nothing once FireWith returns.
// A nil arg is no argument.
//
// Steps taken by timers have no argument. A Run needs none: its single
// owner can put per-step data in the run's data.
func FireWith[A any, S, E comparable, D any](ctx context.Context, i *Instance[S, E, D], e E, arg *A) (Result[S], error) {
	if arg == nil {
		return i.Fire(ctx, e)
	}
	i.lock()
	c := &i.core
	c.arg = arg
	res, err := c.fire(ctx, e)
	c.arg = nil
	return res, i.unlock(err)
}

// ArgOf returns the argument that FireWith passed for the step m is taking,
// and reports whether there is one of type *A. m is the machine a guard,
// action or choice function was given.
func ArgOf[A any, S, E comparable, D any](m states.Machine[S, E, D]) (*A, bool) {
	c, ok := m.(*core[S, E, D])
	if !ok {
		return nil, false
	}
	a, ok := c.arg.(*A)
	return a, ok && a != nil
}
