package fsm

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

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
	name       string
	stateSpecs []states.Spec[S, E, D]
	transSpecs []transitions.Spec[S, E, D]

	states   []StateInfo[S, E, D]
	events   []E
	evLabels []string
	stateIdx indexer[S]
	eventIdx indexer[E]

	// edges holds event transitions grouped by (from, event) in declaration
	// order, followed by delayed transitions; spans indexes the groups.
	edges []Edge[S, E, D]
	spans []span
	// plain[s*NumEvents+e] is the slot of the transition (s, e) takes when
	// that is a Plain one (then it is the only candidate), else -1; bare
	// likewise for Bare ones (a superset).
	plain    []int32
	bare     []int32
	ids      []S // ids[i] == states[i].ID, compact for hot reads
	byDecl   []int32
	initial  int
	errState int // -1 when none is declared
	// commitRegardless: see Builder.CommitRegardless.
	commitRegardless bool

	warnings    []*ValidationError
	fingerprint uint64
}

type span struct{ start, n int32 }

// StateInfo is a state as a driver sees it, at its interned index.
type StateInfo[S, E comparable, D any] struct {
	ID    S
	Label string
	Kind  states.Kind
	Entry []states.Action[S, E, D]
	Exit  []states.Action[S, E, D]
	// Choose is the choice function of a Choice state, nil otherwise.
	Choose     states.ChoiceFunc[S, E, D]
	ChooseName string
	// Delayed lists the edge indices (see Definition.Edge) of the delayed
	// transitions armed when the state is entered.
	Delayed []int32
}

// Edge is a transition as a driver sees it: source, target and event by
// interned index, the guard compiled to one function.
type Edge[S, E comparable, D any] struct {
	// Decl is the transition's index in declaration order, as Transitions
	// lists it and as traces and diagram overlays refer to it.
	Decl int
	// From and To are interned state indices.
	From, To int
	// Event is the interned event index, or -1 for a delayed transition.
	Event int
	// Trigger is the event's label, or "after d" for a delayed transition.
	Trigger string
	// Guard is the compiled guard, nil when the transition is unguarded.
	Guard     transitions.GuardFunc[S, E, D]
	GuardName string
	Actions   []states.Action[S, E, D]
	Internal  bool
	// After and AfterFn give a delayed transition's delay.
	After   time.Duration
	AfterFn transitions.DelayFunc[S, E, D]
	// Plain reports that taking the transition runs no user code and
	// touches no timer: no guard, no actions, no exit actions or delayed
	// transitions on the source, no entry actions, choice function or
	// delayed transitions on the target. Drivers take such a transition on a
	// fast path with no panic recovery (Instance: with one atomic
	// compare-and-swap and no lock).
	Plain bool
	// Bare reports a transition that is Plain but for its target being a
	// choice state: the target's choice function is the only user code it
	// runs. A single-owner driver takes such a transition on a fast path.
	Bare bool
}

// Build checks the collected specs and returns the Definition, or a
// *BuildError listing every defect found: no initial state or more than
// one, duplicate states or labels, transitions naming undeclared states,
// unreachable states, non-final states with no way out, final states with
// a way out, unnamed guards or actions, an unguarded transition that is not
// the last for its state and event, misplaced choice functions, internal
// transitions that change state, and negative delays.
func (b *Builder[S, E, D]) Build() (*Definition[S, E, D], error) {
	d := &Definition[S, E, D]{name: b.name, initial: -1, errState: -1, commitRegardless: b.commitRegardless}
	var problems []*ValidationError
	bad := func(err error, state, event, detail string) {
		problems = append(problems, &ValidationError{Err: err, State: state, Event: event, Detail: detail})
	}

	// States: unique IDs and labels, one initial, choice functions.
	seen := make(map[S]int, len(b.states))
	labels := make(map[string]S, len(b.states))
	var ids []S
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
		seen[sp.ID] = len(ids)
		ids = append(ids, sp.ID)
		switch {
		case sp.Kind > states.Choice:
			bad(ErrChoice, label, "", "unknown kind "+sp.Kind.String())
		case sp.Kind == states.Choice && (sp.Choose.Fn == nil || sp.Choose.Name == ""):
			bad(ErrChoice, label, "", "choice state needs a named choice function")
		case sp.Kind != states.Choice && sp.Choose.Fn != nil:
			bad(ErrChoice, label, "", "a "+sp.Kind.String()+" state cannot have a choice function")
		case sp.Kind == states.Initial:
			if d.initial >= 0 {
				bad(ErrMultipleInitial, label, "", "also "+d.states[d.initial].Label)
			} else {
				d.initial = len(d.states)
			}
		}
		for _, a := range append(append([]states.Action[S, E, D](nil), sp.Entry...), sp.Exit...) {
			if a.Name == "" || a.Fn == nil {
				bad(ErrUnnamedAction, label, "", "entry or exit action "+strconv.Quote(a.Name))
			}
		}
		d.stateSpecs = append(d.stateSpecs, *sp)
		d.states = append(d.states, StateInfo[S, E, D]{
			ID: sp.ID, Label: label, Kind: sp.Kind,
			Entry: sp.Entry, Exit: sp.Exit,
			Choose: sp.Choose.Fn, ChooseName: sp.Choose.Name,
		})
	}
	if d.initial < 0 {
		bad(ErrNoInitial, "", "", "declare one state with kind states.Initial")
	}
	d.stateIdx = newIndexer(ids)

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
			stLabel = d.states[from].Label
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
		if fok && d.states[from].Kind == states.Final {
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
			ev = len(d.events)
			evSeen[t.Event] = ev
			d.events = append(d.events, t.Event)
			d.evLabels = append(d.evLabels, fmt.Sprint(t.Event))
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
				bad(ErrGuardOrder, d.states[k.from].Label, d.evLabels[k.event],
					fmt.Sprintf("transition %d is unguarded but %d more follow it", i, len(g)-1-j))
				break
			}
		}
	}
	d.eventIdx = newIndexer(d.events)

	// Graph checks: reachability from the initial state, a way out of every
	// non-final state.
	out := make([][]int, len(d.states))
	for i, t := range b.trans {
		if known[i] {
			f := seen[t.From]
			out[f] = append(out[f], seen[t.To])
		}
	}
	if d.initial >= 0 {
		reached := make([]bool, len(d.states))
		reached[d.initial] = true
		queue := []int{d.initial}
		if b.errorState != nil {
			if e, ok := seen[*b.errorState]; ok {
				d.errState = e
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
				if !reached[t] {
					reached[t] = true
					queue = append(queue, t)
				}
			}
		}
		for i, r := range reached {
			if r {
				continue
			}
			p := &ValidationError{Err: ErrUnreachable, State: d.states[i].Label}
			if b.allowUnreachable {
				d.warnings = append(d.warnings, p)
			} else {
				problems = append(problems, p)
			}
		}
	}
	for i, st := range d.states {
		if st.Kind != states.Final && len(out[i]) == 0 {
			bad(ErrDeadEnd, st.Label, "", "declare a transition out of it or make it final")
		}
	}
	if len(problems) > 0 {
		return nil, &BuildError{Machine: b.name, Problems: problems}
	}

	d.layout(b.trans, seen, evSeen)
	d.fingerprint = d.computeFingerprint()
	return d, nil
}

func (d *Definition[S, E, D]) eventLabel(t *transitions.Spec[S, E, D]) string {
	if t.Delayed {
		return delayLabel(t.After, t.AfterFn != nil, t.AfterName)
	}
	return fmt.Sprint(t.Event)
}

func delayLabel(after time.Duration, fn bool, name string) string {
	if fn {
		return "after " + name
	}
	return "after " + after.String()
}

// layout builds the edge table of a valid definition.
func (d *Definition[S, E, D]) layout(specs []*transitions.Spec[S, E, D], seen map[S]int, evSeen map[E]int) {
	nE := len(d.events)
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
	}
	rank := func(i int) (int, int, bool) {
		t := specs[i]
		if t.Delayed {
			return seen[t.From], -1, true
		}
		return seen[t.From], evSeen[t.Event], false
	}
	sort.SliceStable(order, func(a, b int) bool {
		fa, ea, da := rank(order[a])
		fb, eb, db := rank(order[b])
		if da != db {
			return !da
		}
		if fa != fb {
			return fa < fb
		}
		return ea < eb
	})
	d.spans = make([]span, len(d.states)*nE)
	d.byDecl = make([]int32, len(specs))
	d.edges = make([]Edge[S, E, D], len(specs))
	for slot, i := range order {
		t := specs[i]
		from, to := seen[t.From], seen[t.To]
		e := Edge[S, E, D]{
			Decl: i, From: from, To: to, Event: -1,
			Guard: t.Guard.Compile(), GuardName: t.Guard.Name(),
			Actions: t.Actions, Internal: t.Internal,
			After: t.After, AfterFn: t.AfterFn,
		}
		e.Trigger = d.eventLabel(t)
		if t.Delayed {
			d.states[from].Delayed = append(d.states[from].Delayed, int32(slot))
		} else {
			e.Event = evSeen[t.Event]
			sp := &d.spans[from*nE+e.Event]
			if sp.n == 0 {
				sp.start = int32(slot)
			}
			sp.n++
		}
		d.edges[slot] = e
		d.byDecl[i] = int32(slot)
	}
	for i := range d.edges {
		e := &d.edges[i]
		src, dst := &d.states[e.From], &d.states[e.To]
		e.Bare = e.Guard == nil && len(e.Actions) == 0 && !e.Internal &&
			len(src.Exit) == 0 && len(src.Delayed) == 0 &&
			len(dst.Entry) == 0 && len(dst.Delayed) == 0
		e.Plain = e.Bare && dst.Choose == nil
	}
	d.plain = make([]int32, len(d.spans))
	d.bare = make([]int32, len(d.spans))
	for k, sp := range d.spans {
		d.plain[k], d.bare[k] = -1, -1
		if sp.n > 0 && d.edges[sp.start].Plain {
			d.plain[k] = sp.start
		}
		if sp.n > 0 && d.edges[sp.start].Bare {
			d.bare[k] = sp.start
		}
	}
	d.ids = make([]S, len(d.states))
	for i := range d.states {
		d.ids[i] = d.states[i].ID
	}
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
	w("statecraft/fsm", d.name)
	for _, s := range d.states {
		w("s", s.Label, s.Kind.String(), s.ChooseName)
	}
	for _, l := range d.evLabels {
		w("e", l)
	}
	if d.errState >= 0 {
		w("error state", d.states[d.errState].Label)
	}
	for i := range d.transSpecs {
		e := &d.edges[d.byDecl[i]]
		ev := ""
		if e.Event >= 0 {
			ev = d.evLabels[e.Event]
		}
		w("t", d.states[e.From].Label, d.states[e.To].Label, ev, e.GuardName,
			strconv.FormatBool(e.Internal), d.transitionDelay(e))
	}
	return h.Sum64()
}

func (d *Definition[S, E, D]) transitionDelay(e *Edge[S, E, D]) string {
	if e.Event >= 0 {
		return ""
	}
	t := &d.transSpecs[e.Decl]
	return delayLabel(t.After, t.AfterFn != nil, t.AfterName)
}
