package fsm

import (
	"slices"

	"github.com/statecraft/statecraft/transitions"
)

// Edit returns a Builder holding d's states (with their actions), options
// and transitions, each transition passed through edit first: edit may
// change the copy it is given (its guard, target, actions) and returns
// false to leave it out. More may be declared on the Builder before Build.
// It is how a variant of a prewired machine is made, such as a breaker
// without one edge, to run with engine.WithDefinition; a nil edit keeps
// every transition as it is.
func (d *Definition[S, E, D]) Edit(edit func(t *transitions.Spec[S, E, D]) bool) *Builder[S, E, D] {
	b := New[S, E, D](d.m.Name)
	b.allowUnreachable = d.allowUnreachable
	b.commitRegardless = d.m.CommitRegardless
	if s, ok := d.ErrorState(); ok {
		b.errorState = &s
	}
	// Clipped, so that appending to a copy's actions never writes into
	// d's.
	for _, sp := range d.StateSpecs() {
		sp.Entry, sp.Exit = slices.Clip(sp.Entry), slices.Clip(sp.Exit)
		b.states = append(b.states, &sp)
	}
	for _, t := range d.Transitions() {
		t.Actions = slices.Clip(t.Actions)
		if edit == nil || edit(&t) {
			b.trans = append(b.trans, &t)
		}
	}
	return b
}
