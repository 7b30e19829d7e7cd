package fsm

import (
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/statecraft/statecraft/internal/compiled"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Definition is a built, validated machine: its states and events interned
// to dense indices and its transitions laid out in a table indexed by
// (state, event), so a driver fires without hashing the user's types.
//
// A Definition is immutable and safe for concurrent use; many running
// machines (package engine) may share one.
type Definition[S, E comparable, D any] struct {
	// m holds the tables the drivers read. Package engine reaches it
	// through compiled.Of (see machineOf), not through a method.
	m          compiled.Machine[S, E, D]
	stateSpecs []states.Spec[S, E, D]
	transSpecs []transitions.Spec[S, E, D]

	warnings         []*ValidationError
	fingerprint      uint64
	allowUnreachable bool // as the Builder said, for Edit
}

// The door to the tables. A Definition's compiled.Machine is engine
// plumbing, so it has no exported method: package compiled asks machineOf
// for it, and machineOf reaches it through an unexported method that only
// *Definition has. Go has no generic function values, hence the any on
// both sides; compiled.Of asserts the result back to its typed pointer.

func init() { compiled.Register(machineOf) }

// machineOf returns the *compiled.Machine[S, E, D] of def, a
// *Definition[S, E, D].
func machineOf(def any) any { return def.(hasMachine).machine() }

type hasMachine interface{ machine() any }

func (d *Definition[S, E, D]) machine() any { return &d.m }

// Build checks the collected specs and returns the Definition, or a
// *BuildError listing every defect found: no initial state or more than
// one, duplicate states or labels, transitions naming undeclared states,
// unreachable states, non-final states with no way out, final states with
// a way out, unnamed guards or actions, an unguarded transition that is not
// the last for its state and event, misplaced choice functions, internal
// transitions that change state, negative delays, and a broken hierarchy
// (an undeclared parent, a cycle of parents, a composite state without
// exactly one initial child, a final or choice state with children).
func (b *Builder[S, E, D]) Build() (*Definition[S, E, D], error) {
	d := &Definition[S, E, D]{m: compiled.Machine[S, E, D]{
		Name: b.name, Initial: -1, ErrorState: -1, CommitRegardless: b.commitRegardless,
	}, allowUnreachable: b.allowUnreachable}
	m := &d.m
	var problems []*ValidationError
	bad := func(err error, state, event, detail string) {
		problems = append(problems, &ValidationError{Err: err, State: state, Event: event, Detail: detail})
	}

	// States: unique IDs and labels, one initial, choice functions.
	seen := make(map[S]int, len(b.states))
	labels := make(map[string]S, len(b.states))
	for _, sp := range b.states {
		label := sp.Label
		if label == "" {
			label = fmt.Sprint(sp.ID)
		}
		if _, dup := seen[sp.ID]; dup {
			bad(ErrDuplicateState, label, "", "")
			continue
		}
		if other, dup := labels[label]; dup {
			bad(ErrDuplicateLabel, label, "", fmt.Sprintf("states %#v and %#v", other, sp.ID))
		}
		labels[label] = sp.ID
		seen[sp.ID] = len(m.States)
		switch {
		case sp.Kind > states.Choice:
			bad(ErrChoice, label, "", "unknown kind "+sp.Kind.String())
		case sp.Kind == states.Choice && (sp.Choose.Fn == nil || sp.Choose.Name == ""):
			bad(ErrChoice, label, "", "choice state needs a named choice function")
		case sp.Kind != states.Choice && sp.Choose.Fn != nil:
			bad(ErrChoice, label, "", "a "+sp.Kind.String()+" state cannot have a choice function")
		case sp.Kind == states.Initial && !sp.HasParent:
			if m.Initial >= 0 {
				bad(ErrMultipleInitial, label, "", "also "+m.States[m.Initial].Label)
			} else {
				m.Initial = len(m.States)
			}
		}
		for _, a := range append(append([]states.Action[S, E, D](nil), sp.Entry...), sp.Exit...) {
			if a.Name == "" || a.Fn == nil {
				bad(ErrUnnamedAction, label, "", "entry or exit action "+strconv.Quote(a.Name))
			}
		}
		d.stateSpecs = append(d.stateSpecs, *sp)
		m.States = append(m.States, compiled.State[S, E, D]{
			ID: sp.ID, Label: label, Kind: sp.Kind,
			Entry: sp.Entry, Exit: sp.Exit,
			Choose: sp.Choose.Fn, ChooseName: sp.Choose.Name,
			Parent: -1, InitialChild: -1,
		})
	}
	if m.Initial < 0 {
		bad(ErrNoInitial, "", "", "declare one state with kind states.Initial")
	}
	// The graph checks below assume a sound hierarchy; when it is not,
	// they would only repeat its defects as unreachable states.
	hierProblems := b.hierarchy(m, d.stateSpecs, seen)
	problems = append(problems, hierProblems...)

	// Transitions: known states, well-formed guards and actions, guard order.
	evSeen := make(map[E]int)
	type key struct{ from, event int }
	groups := make(map[key][]int) // decl indices of event transitions
	var groupOrder []key
	known := make([]bool, len(b.trans))
	for i, t := range b.trans {
		d.transSpecs = append(d.transSpecs, *t)
		from, fok := seen[t.From]
		_, tok := seen[t.To]
		evLabel := d.eventLabel(t)
		stLabel := fmt.Sprint(t.From)
		if fok {
			stLabel = m.States[from].Label
		}
		if !fok {
			bad(ErrUnknownState, stLabel, evLabel, "source is not declared")
		}
		if !tok {
			bad(ErrUnknownState, stLabel, evLabel, "target "+strconv.Quote(fmt.Sprint(t.To))+" is not declared")
		}
		if !t.Guard.IsZero() {
			if why := t.Guard.Unnamed(); why != "" {
				bad(ErrUnnamedGuard, stLabel, evLabel, why)
			}
		}
		for _, a := range t.Actions {
			if a.Name == "" || a.Fn == nil {
				bad(ErrUnnamedAction, stLabel, evLabel, "transition action "+strconv.Quote(a.Name))
			}
		}
		if t.Internal && t.From != t.To {
			bad(ErrInternalTarget, stLabel, evLabel, "target "+strconv.Quote(fmt.Sprint(t.To)))
		}
		if t.Internal && t.Delayed {
			bad(ErrInternalTarget, stLabel, evLabel, "a delayed transition cannot be internal")
		}
		if t.Delayed && t.After < 0 {
			bad(ErrBadDelay, stLabel, evLabel, t.After.String())
		}
		if t.Delayed && t.AfterFn != nil && t.AfterName == "" {
			bad(ErrBadDelay, stLabel, evLabel, "delay function has no name")
		}
		if fok && m.States[from].Kind == states.Final {
			bad(ErrFinalHasTransition, stLabel, evLabel, "")
		}
		if !fok || !tok {
			continue
		}
		known[i] = true
		if t.Delayed {
			continue
		}
		ev, ok := evSeen[t.Event]
		if !ok {
			ev = len(m.Events)
			evSeen[t.Event] = ev
			m.Events = append(m.Events, t.Event)
			m.EventLabels = append(m.EventLabels, fmt.Sprint(t.Event))
		}
		k := key{from, ev}
		if groups[k] == nil {
			groupOrder = append(groupOrder, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range groupOrder {
		g := groups[k]
		for j, i := range g {
			if b.trans[i].Guard.IsZero() && j != len(g)-1 {
				bad(ErrGuardOrder, m.States[k.from].Label, m.EventLabels[k.event],
					fmt.Sprintf("transition %d is unguarded but %d more follow it", i, len(g)-1-j))
				break
			}
		}
	}

	// Graph checks: reachability from the initial state, a way out of every
	// non-final state. In a hierarchical machine the walk is over leaves:
	// a leaf leaves by its own transitions and by its ancestors', entering
	// a state enters its initial leaf, and a composite state is reached
	// when one of its leaves is.
	out := make([][]int, len(m.States))
	for i, t := range b.trans {
		if known[i] {
			f := seen[t.From]
			out[f] = append(out[f], seen[t.To])
		}
	}
	for a := range m.States {
		for k := m.States[a].Parent; k >= 0; k = m.States[k].Parent {
			out[a] = append(out[a], out[k]...)
		}
	}
	if m.Initial >= 0 && len(hierProblems) == 0 {
		reached := make([]bool, len(m.States))
		reached[m.Drill(m.Initial)] = true
		queue := []int{m.Drill(m.Initial)}
		if b.errorState != nil {
			if e, ok := seen[*b.errorState]; ok {
				m.ErrorState = e
				e = m.Drill(e)
				reached[e] = true
				queue = append(queue, e)
			} else {
				bad(ErrUnknownState, fmt.Sprint(*b.errorState), "", "the error state is not declared")
			}
		}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, t := range out[s] {
				if t = m.Drill(t); !reached[t] {
					reached[t] = true
					queue = append(queue, t)
				}
			}
		}
		for i := range reached {
			if reached[i] {
				for k := m.States[i].Parent; k >= 0; k = m.States[k].Parent {
					reached[k] = true
				}
			}
		}
		for i, r := range reached {
			if r {
				continue
			}
			p := &ValidationError{Err: ErrUnreachable, State: m.States[i].Label}
			if b.allowUnreachable {
				d.warnings = append(d.warnings, p)
			} else {
				problems = append(problems, p)
			}
		}
	}
	for i, st := range m.States {
		if st.Kind != states.Final && st.InitialChild < 0 && len(out[i]) == 0 && len(hierProblems) == 0 {
			bad(ErrDeadEnd, st.Label, "", "declare a transition out of it or make it final")
		}
	}
	if len(problems) > 0 {
		return nil, &BuildError{Machine: b.name, Problems: problems}
	}

	m.Layout(b.trans)
	d.fingerprint = d.computeFingerprint()
	return d, nil
}

func (d *Definition[S, E, D]) eventLabel(t *transitions.Spec[S, E, D]) string {
	if t.Delayed {
		return compiled.DelayLabel(t.After, t.AfterFn != nil, t.AfterName)
	}
	return fmt.Sprint(t.Event)
}

func (d *Definition[S, E, D]) computeFingerprint() uint64 {
	h := fnv.New64a()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	m := &d.m
	w("statecraft/fsm", m.Name)
	for i, s := range m.States {
		switch {
		case s.Parent >= 0 && s.Kind != states.Initial && m.States[s.Parent].InitialChild == i:
			w("s", s.Label, s.Kind.String(), s.ChooseName, "in", m.States[s.Parent].Label, "first")
		case s.Parent >= 0:
			w("s", s.Label, s.Kind.String(), s.ChooseName, "in", m.States[s.Parent].Label)
		default:
			w("s", s.Label, s.Kind.String(), s.ChooseName)
		}
	}
	for _, l := range m.EventLabels {
		w("e", l)
	}
	if m.ErrorState >= 0 {
		w("error state", m.States[m.ErrorState].Label)
	}
	for i := range d.transSpecs {
		e := m.DeclEdge(i)
		ev := ""
		if e.Event >= 0 {
			ev = m.EventLabels[e.Event]
		}
		w("t", m.States[e.From].Label, m.States[e.To].Label, ev, e.GuardName,
			strconv.FormatBool(e.Internal), d.transitionDelay(e))
	}
	return h.Sum64()
}

func (d *Definition[S, E, D]) transitionDelay(e *compiled.Edge[S, E, D]) string {
	if e.Event >= 0 {
		return ""
	}
	t := &d.transSpecs[e.Decl]
	return compiled.DelayLabel(t.After, t.AfterFn != nil, t.AfterName)
}
