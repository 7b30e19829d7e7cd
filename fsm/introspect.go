package fsm

import (
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Name returns the name the machine was built with.
func (d *Definition[S, E, D]) Name() string { return d.name }

// Initial returns the initial state.
func (d *Definition[S, E, D]) Initial() S { return d.states[d.initial].ID }

// States returns the states in declaration order.
func (d *Definition[S, E, D]) States() []S {
	out := make([]S, len(d.states))
	for i := range d.states {
		out[i] = d.states[i].ID
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
func (d *Definition[S, E, D]) Events() []E { return append([]E(nil), d.events...) }

// Finals returns the final states in declaration order.
func (d *Definition[S, E, D]) Finals() []S {
	var out []S
	for i := range d.states {
		if d.states[i].Kind == states.Final {
			out = append(out, d.states[i].ID)
		}
	}
	return out
}

// Accepts returns the events that have at least one transition out of s, in
// order of first use; it returns nil for an unknown state.
func (d *Definition[S, E, D]) Accepts(s S) []E {
	i := d.stateIdx.index(s)
	if i < 0 {
		return nil
	}
	var out []E
	nE := len(d.events)
	for e := range nE {
		if d.spans[i*nE+e].n > 0 {
			out = append(out, d.events[e])
		}
	}
	return out
}

// Label returns the printed label of s, and false for an unknown state.
func (d *Definition[S, E, D]) Label(s S) (string, bool) {
	i := d.stateIdx.index(s)
	if i < 0 {
		return "", false
	}
	return d.states[i].Label, true
}

// ErrorState returns the error state declared with Builder.ErrorState, and
// false when there is none.
func (d *Definition[S, E, D]) ErrorState() (S, bool) {
	if d.errState < 0 {
		var zero S
		return zero, false
	}
	return d.states[d.errState].ID, true
}

// ErrorStateIndex returns the interned index of the error state, or -1.
func (d *Definition[S, E, D]) ErrorStateIndex() int { return d.errState }

// Warnings returns the defects Build tolerated (unreachable states, when
// the builder allowed them).
func (d *Definition[S, E, D]) Warnings() []*ValidationError {
	return append([]*ValidationError(nil), d.warnings...)
}

// CommitsRegardless reports whether the machine's steps commit whatever
// the caller's context does (Builder.CommitRegardless).
func (d *Definition[S, E, D]) CommitsRegardless() bool { return d.commitRegardless }

// Fingerprint returns a hash of the machine's structure: its name, state
// labels and kinds, event labels, and each transition's source, target,
// event, guard name, internal flag and delay. Snapshots carry it so that a
// snapshot of one definition is not restored into another. Code (the
// bodies of actions and guards) is not part of it.
func (d *Definition[S, E, D]) Fingerprint() uint64 { return d.fingerprint }

// The driver view. These methods expose the interned tables to the drivers
// in package engine, and to anyone writing a driver of their own. Indices
// are dense: states 0..NumStates()-1, events 0..NumEvents()-1.

// NumStates returns the number of states.
func (d *Definition[S, E, D]) NumStates() int { return len(d.states) }

// NumEvents returns the number of events.
func (d *Definition[S, E, D]) NumEvents() int { return len(d.events) }

// InitialIndex returns the interned index of the initial state.
func (d *Definition[S, E, D]) InitialIndex() int { return d.initial }

// StateIndex returns the interned index of s, or -1 for an unknown state.
func (d *Definition[S, E, D]) StateIndex(s S) int { return d.stateIdx.index(s) }

// EventIndex returns the interned index of e, or -1 for an unknown event.
// For integer-kind events it reads a direct table, with no hashing.
func (d *Definition[S, E, D]) EventIndex(e E) int { return d.eventIdx.index(e) }

// StateAt returns the state at interned index i. The result must not be
// modified.
func (d *Definition[S, E, D]) StateAt(i int) *StateInfo[S, E, D] { return &d.states[i] }

// EventAt returns the event at interned index i.
func (d *Definition[S, E, D]) EventAt(i int) E { return d.events[i] }

// EventLabel returns the printed label of the event at interned index i.
func (d *Definition[S, E, D]) EventLabel(i int) string { return d.evLabels[i] }

// NumEdges returns the number of transitions.
func (d *Definition[S, E, D]) NumEdges() int { return len(d.edges) }

// Edge returns the edge at index i of the driver's table (not declaration
// order: see Edge.Decl and DeclEdge). The result must not be modified.
func (d *Definition[S, E, D]) Edge(i int) *Edge[S, E, D] { return &d.edges[i] }

// DeclEdge returns the edge of the transition declared at position decl.
func (d *Definition[S, E, D]) DeclEdge(decl int) *Edge[S, E, D] { return &d.edges[d.byDecl[decl]] }

// Slot returns the index in the driver's table (see Edge) of the
// transition declared at position decl.
func (d *Definition[S, E, D]) Slot(decl int) int { return int(d.byDecl[decl]) }

// ID returns the state at interned index i; it is StateAt(i).ID from a
// compact table.
func (d *Definition[S, E, D]) ID(i int) S { return d.ids[i] }

// PlainEdge returns the transition out of state index s on event index e
// when it is a Plain one (and so the only candidate), or nil. Drivers call
// it first: it is one table read.
func (d *Definition[S, E, D]) PlainEdge(s, e int) *Edge[S, E, D] {
	if k := d.plain[s*len(d.events)+e]; k >= 0 {
		return &d.edges[k]
	}
	return nil
}

// BareEdge is PlainEdge for Bare transitions: it also returns transitions
// into a choice state whose choice function is their only user code.
func (d *Definition[S, E, D]) BareEdge(s, e int) *Edge[S, E, D] {
	if k := d.bare[s*len(d.events)+e]; k >= 0 {
		return &d.edges[k]
	}
	return nil
}

// Candidates returns the transitions out of state index s on event index e,
// in declaration order; the first whose guard holds is to be taken. The
// result must not be modified.
func (d *Definition[S, E, D]) Candidates(s, e int) []Edge[S, E, D] {
	sp := d.spans[s*len(d.events)+e]
	return d.edges[sp.start : sp.start+sp.n]
}
