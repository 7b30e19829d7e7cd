package fsm

import (
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Name returns the name the machine was built with.
func (d *Definition[S, E, D]) Name() string { return d.m.Name }

// Initial returns the initial state.
func (d *Definition[S, E, D]) Initial() S { return d.m.States[d.m.Initial].ID }

// States returns the states in declaration order.
func (d *Definition[S, E, D]) States() []S {
	out := make([]S, len(d.m.States))
	for i := range d.m.States {
		out[i] = d.m.States[i].ID
	}
	return out
}

// StateSpecs returns copies of the state specs, in declaration order.
func (d *Definition[S, E, D]) StateSpecs() []states.Spec[S, E, D] {
	return append([]states.Spec[S, E, D](nil), d.stateSpecs...)
}

// Transitions returns copies of the transition specs in declaration order;
// a transition's position here is its Decl index in traces and overlays.
func (d *Definition[S, E, D]) Transitions() []transitions.Spec[S, E, D] {
	return append([]transitions.Spec[S, E, D](nil), d.transSpecs...)
}

// Events returns the events the machine knows, in order of first use.
func (d *Definition[S, E, D]) Events() []E { return append([]E(nil), d.m.Events...) }

// Finals returns the final states in declaration order.
func (d *Definition[S, E, D]) Finals() []S {
	var out []S
	for i := range d.m.States {
		if d.m.States[i].Kind == states.Final {
			out = append(out, d.m.States[i].ID)
		}
	}
	return out
}

// Accepts returns the events that have at least one transition out of s, in
// order of first use; it returns nil for an unknown state.
func (d *Definition[S, E, D]) Accepts(s S) []E {
	i := d.m.StateIndex(s)
	if i < 0 {
		return nil
	}
	var out []E
	for e := range d.m.Events {
		if len(d.m.Candidates(i, e)) > 0 {
			out = append(out, d.m.Events[e])
		}
	}
	return out
}

// Label returns the printed label of s, and false for an unknown state.
func (d *Definition[S, E, D]) Label(s S) (string, bool) {
	i := d.m.StateIndex(s)
	if i < 0 {
		return "", false
	}
	return d.m.States[i].Label, true
}

// ErrorState returns the error state declared with Builder.ErrorState, and
// false when there is none.
func (d *Definition[S, E, D]) ErrorState() (S, bool) {
	if d.m.ErrorState < 0 {
		var zero S
		return zero, false
	}
	return d.m.States[d.m.ErrorState].ID, true
}

// Warnings returns the defects Build tolerated (unreachable states, when
// the builder allowed them).
func (d *Definition[S, E, D]) Warnings() []*ValidationError {
	return append([]*ValidationError(nil), d.warnings...)
}

// CommitsRegardless reports whether the machine's steps commit whatever
// the caller's context does (Builder.CommitRegardless).
func (d *Definition[S, E, D]) CommitsRegardless() bool { return d.m.CommitRegardless }

// Fingerprint returns a hash of the machine's structure: its name, state
// labels and kinds, event labels, and each transition's source, target,
// event, guard name, internal flag and delay. Snapshots carry it so that a
// snapshot of one definition is not restored into another. Code (the
// bodies of actions and guards) is not part of it.
func (d *Definition[S, E, D]) Fingerprint() uint64 { return d.fingerprint }
