// Package transitions declares the transitions of a statecraft machine: the
// event or delay that triggers them, their target, the named guards that
// must hold, and the actions they run.
//
// For one source state and one event, transitions are tried in the order
// they were declared and the first whose guard holds is taken; at most one
// of them may be unguarded and it must come last (the "else"). Package fsm
// checks these rules when a definition is built.
package transitions

import (
	"time"

	"github.com/statecraft/statecraft/states"
)

// DelayFunc computes the delay of a delayed transition when its source state
// is entered, for delays that depend on the machine's data (a retry's
// backoff, say). A negative result is treated as zero.
type DelayFunc[S, E comparable, D any] func(m states.Machine[S, E, D]) time.Duration

// Spec describes one transition. Specs are made by package fsm's builder
// and refined with the chaining methods below.
type Spec[S, E comparable, D any] struct {
	// From is the source state.
	From S
	// To is the target state. For an internal transition it must equal From.
	To S
	// Event triggers the transition. It is ignored when Delayed is true.
	Event E
	// Delayed marks a transition triggered by a timer armed when From is
	// entered (an "after d" transition) instead of by an event.
	Delayed bool
	// After is the fixed delay of a delayed transition; zero means at once.
	After time.Duration
	// AfterFn, when set, computes the delay instead of After; AfterName
	// names it in diagrams.
	AfterFn   DelayFunc[S, E, D]
	AfterName string
	// Guard must hold for the transition to be taken. The zero Guard always
	// holds and makes the transition unguarded.
	Guard Guard[S, E, D]
	// Actions run, in order, after the guard holds and before the source's
	// exit actions.
	Actions []states.Action[S, E, D]
	// Internal marks a transition that runs its actions without leaving its
	// state: no exit or entry actions, timers stay armed, and the state's
	// generation is unchanged.
	Internal bool
}

// When sets the transition's guard and returns t, for chaining.
func (t *Spec[S, E, D]) When(g Guard[S, E, D]) *Spec[S, E, D] {
	t.Guard = g
	return t
}

// Do appends actions and returns t, for chaining.
func (t *Spec[S, E, D]) Do(a ...states.Action[S, E, D]) *Spec[S, E, D] {
	t.Actions = append(t.Actions, a...)
	return t
}

// AsInternal marks the transition internal and returns t, for chaining.
func (t *Spec[S, E, D]) AsInternal() *Spec[S, E, D] {
	t.Internal = true
	return t
}
