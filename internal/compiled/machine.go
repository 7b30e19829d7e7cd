// Package compiled holds a machine definition as its drivers read it:
// states and events interned to dense indices, transitions laid out in a
// table indexed by (state, event), and the lookups the drivers make when
// they fire.
//
// Package fsm fills a Machine when it builds a Definition and keeps it
// inside; package engine reaches it through Of. Nothing here is part of
// statecraft's API: users read a definition through fsm.Definition's
// methods (States, Transitions, Graph, …), and this layout may change with
// any release.
//
// Indices are dense: states are 0..len(States)-1 in declaration order,
// events 0..len(Events)-1 in order of first use. Transitions are known by
// two numbers. An edge's slot is its index in Edges, the driver's table,
// which groups the event transitions by (source, event) in declaration
// order and puts the delayed transitions last. An edge's Decl is its
// position in declaration order (fsm.Definition.Transitions), the number
// traces, diagram overlays and snapshots use.
package compiled

import (
	"sort"
	"time"

	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Machine is a built definition's tables. Package fsm sets the exported
// fields while it validates the specs, then calls Layout; after that a
// Machine is read-only and safe for concurrent use.
type Machine[S, E comparable, D any] struct {
	// Name is the machine's name.
	Name string
	// States are the states in declaration order.
	States []State[S, E, D]
	// Events are the events in order of first use, and EventLabels their
	// printed labels.
	Events      []E
	EventLabels []string
	// Edges is the driver's table of transitions, indexed by slot.
	Edges []Edge[S, E, D]
	// Initial is the index of the initial state.
	Initial int
	// ErrorState is the index of the error state, or -1 when none is
	// declared (fsm.Builder.ErrorState).
	ErrorState int
	// CommitRegardless: see fsm.Builder.CommitRegardless.
	CommitRegardless bool
	// Hier reports a hierarchical machine: some state has a parent. Only
	// then do drivers walk parents, and only then are the hierarchy fields
	// of State and Edge other than their flat defaults.
	Hier bool
	// Start is the leaf a driver starts in: Initial, or for a composite
	// Initial its initial descendant. StartPath lists the states entered
	// on start, outermost first, ending with Start.
	Start     int
	StartPath []int32
	// QuietStart reports that starting does nothing but set the current
	// state to Start: no state of the start path has entry actions or
	// delayed transitions, and Start is no choice state.
	QuietStart bool

	stateIdx indexer[S]
	eventIdx indexer[E]
	// spans[s*len(Events)+e] is the run of Edges holding the candidates of
	// state s on event e.
	spans []span
	// links[s*len(Events)+e] is the transition (s, e) takes when that is a
	// Bare one (then it is the only candidate), as Run's chain of choices
	// takes it; else its Slot is -1. hops[s*len(Events)+e] is that
	// transition when it is a Plain one (a subset), as the drivers'
	// lock-free paths take it; else its Dest is -1.
	links []Link[S, E, D]
	hops  []Hop[S]
	ids   []S // ids[i] == States[i].ID, compact for hot reads
	// byDecl[decl] is the slot of the transition declared at decl.
	byDecl []int32
}

type span struct{ start, n int32 }

// State is a state as a driver sees it, at its interned index.
type State[S, E comparable, D any] struct {
	ID    S
	Label string
	Kind  states.Kind
	Entry []states.Action[S, E, D]
	Exit  []states.Action[S, E, D]
	// Choose is the choice function of a Choice state, nil otherwise.
	Choose     states.ChoiceFunc[S, E, D]
	ChooseName string
	// Delayed lists the slots of the delayed transitions armed when the
	// state is entered.
	Delayed []int32
	// Parent is the index of the state's parent, or -1 for a top-level
	// state. InitialChild is the index of a composite state's initial
	// child, or -1 for a leaf. Depth is 0 for a top-level state.
	Parent, InitialChild, Depth int
}

// Edge is a transition as a driver sees it: source, target and event by
// interned index, the guard compiled to one function.
type Edge[S, E comparable, D any] struct {
	// Decl is the transition's position in declaration order.
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
	// Dest is the leaf the transition comes to rest in: To, or for a
	// composite To its initial descendant. Domain is the innermost state
	// that is a proper ancestor of both From and To (-1 for none, and
	// always -1 in a flat machine): the transition exits the active states
	// below it, innermost first, and enters Enter, outermost first (nil in
	// a flat machine, where it would be just To).
	Dest, Domain int
	Enter        []int32
}

// DelayLabel is how a delayed transition is printed: "after " and its
// fixed delay, or the name of its delay function when it has one (fn).
func DelayLabel(after time.Duration, fn bool, name string) string {
	if fn {
		return "after " + name
	}
	return "after " + after.String()
}

// Layout builds the lookup tables and the edge table from the transition
// specs, in declaration order. States and Events must be set, and specs
// must be those of a valid definition: every source and target is one of
// States and every event of a transition that is not delayed is one of
// Events.
func (m *Machine[S, E, D]) Layout(specs []*transitions.Spec[S, E, D]) {
	m.ids = make([]S, len(m.States))
	for i := range m.States {
		m.ids[i] = m.States[i].ID
	}
	m.stateIdx = newIndexer(m.ids)
	m.eventIdx = newIndexer(m.Events)
	m.Start = m.Initial
	if m.Hier {
		m.Start = m.Drill(m.Initial)
		m.StartPath = m.enterPath(-1, m.Initial)
	}

	nE := len(m.Events)
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
	}
	rank := func(i int) (int, int, bool) {
		t := specs[i]
		if t.Delayed {
			return m.StateIndex(t.From), -1, true
		}
		return m.StateIndex(t.From), m.EventIndex(t.Event), false
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
	m.spans = make([]span, len(m.States)*nE)
	m.byDecl = make([]int32, len(specs))
	m.Edges = make([]Edge[S, E, D], len(specs))
	for slot, i := range order {
		t := specs[i]
		from, to := m.StateIndex(t.From), m.StateIndex(t.To)
		e := Edge[S, E, D]{
			Decl: i, From: from, To: to, Event: -1, Dest: to, Domain: -1,
			Guard: t.Guard.Compile(), GuardName: t.Guard.Name(),
			Actions: t.Actions, Internal: t.Internal,
			After: t.After, AfterFn: t.AfterFn,
		}
		if t.Delayed {
			e.Trigger = DelayLabel(t.After, t.AfterFn != nil, t.AfterName)
			m.States[from].Delayed = append(m.States[from].Delayed, int32(slot))
		} else {
			e.Event = m.EventIndex(t.Event)
			e.Trigger = m.EventLabels[e.Event]
			sp := &m.spans[from*nE+e.Event]
			if sp.n == 0 {
				sp.start = int32(slot)
			}
			sp.n++
		}
		m.Edges[slot] = e
		m.byDecl[i] = int32(slot)
	}
	if m.Hier {
		m.layoutHier()
	} else {
		m.layoutFlat()
	}
	m.layoutStart()
}

// layoutFlat classifies a flat machine's transitions and fills the
// drivers' fast-path tables.
func (m *Machine[S, E, D]) layoutFlat() {
	for i := range m.Edges {
		e := &m.Edges[i]
		src, dst := &m.States[e.From], &m.States[e.To]
		e.Bare = e.Guard == nil && len(e.Actions) == 0 && !e.Internal &&
			len(src.Exit) == 0 && len(src.Delayed) == 0 &&
			len(dst.Entry) == 0 && len(dst.Delayed) == 0
		e.Plain = e.Bare && dst.Choose == nil
	}
	m.newFastTables()
	for k, sp := range m.spans {
		if sp.n > 0 && m.Edges[sp.start].Plain {
			m.hops[k] = m.hop(k/len(m.Events), sp.start)
		}
		if sp.n == 0 {
			continue
		}
		if e := &m.Edges[sp.start]; e.Bare {
			m.links[k] = m.link(sp.start, false)
		} else if m.entering(e) {
			m.links[k] = m.link(sp.start, true)
		}
	}
}

// entering reports whether flat edge e is Bare but for the entry actions
// of its target, which is no choice state: a Link with Enter set.
func (m *Machine[S, E, D]) entering(e *Edge[S, E, D]) bool {
	src, dst := &m.States[e.From], &m.States[e.To]
	return e.Guard == nil && len(e.Actions) == 0 && !e.Internal &&
		len(src.Exit) == 0 && len(src.Delayed) == 0 &&
		len(dst.Entry) > 0 && len(dst.Delayed) == 0 && dst.Choose == nil
}

// Hop is a Plain transition as the drivers' fast paths take it: where it
// goes, its declaration position, and the IDs of its source and target,
// so that a driver builds its Result from the entry alone.
type Hop[S comparable] struct {
	Dest, Decl int32
	From, To   S
}

// Link is a Bare transition as Run's chain of choices takes it: its slot
// and what a step reads of it and of its target, so that a step reads one
// entry.
type Link[S, E comparable, D any] struct {
	// Choose is the target's choice function; nil when the target is no
	// choice state.
	Choose states.ChoiceFunc[S, E, D]
	// Slot is the transition's slot in Edges (-1: not Bare), Dest its
	// target and Decl its declaration position.
	Slot, Dest, Decl int32
	// Flat is set when the transition exits no state with timers but a
	// flat machine's (Edge.Domain < 0): its leftover timers are cleared.
	Flat bool
	// Enter is set when the states the transition enters have entry
	// actions, which the step runs once it has committed the transition;
	// then the target is no choice state (Choose is nil). Such a
	// transition is not Bare: its entry actions are its user code.
	Enter bool
	// To is the target's ID.
	To S
}

// newFastTables makes links and hops, each entry empty.
func (m *Machine[S, E, D]) newFastTables() {
	m.links = make([]Link[S, E, D], len(m.spans))
	m.hops = make([]Hop[S], len(m.spans))
	for k := range m.spans {
		m.links[k].Slot, m.hops[k].Dest = -1, -1
	}
}

// link is the Link of the transition at slot, which is Bare, or Bare
// but for the entry actions of the states it enters (enter).
func (m *Machine[S, E, D]) link(slot int32, enter bool) Link[S, E, D] {
	e := &m.Edges[slot]
	return Link[S, E, D]{Choose: m.States[e.Dest].Choose, Slot: slot, Dest: int32(e.Dest),
		Decl: int32(e.Decl), Flat: e.Domain < 0, Enter: enter, To: m.ids[e.Dest]}
}

// hop is the Hop of the transition at slot taken from state index s: a
// hierarchical machine's leaf takes its ancestors' transitions too, and
// the Result names the leaf it left, not the state that declared them.
func (m *Machine[S, E, D]) hop(s int, slot int32) Hop[S] {
	e := &m.Edges[slot]
	return Hop[S]{Dest: int32(e.Dest), Decl: int32(e.Decl), From: m.ids[s], To: m.ids[e.Dest]}
}

// PlainHop returns the transition out of state index s on event index e
// when it is a Plain one (and so the only candidate) as a Hop, whose Dest
// is -1 when it is not. Drivers try it first: it is one table read, with
// no Edge to load. The result must not be modified.
func (m *Machine[S, E, D]) PlainHop(s, e int) *Hop[S] { return &m.hops[s*len(m.Events)+e] }

// Plain is what a driver's lock-free path reads to take a plain hop: the
// direct event table and the hop table, copied out of the Machine into
// the driver's own state, so that the path's chain of dependent loads
// starts one pointer closer (the driver's state, not the Machine it
// points to). Its zero value takes no hop.
type Plain[S, E comparable] struct {
	table []int32 // the direct event table; empty when events are looked up otherwise
	min   int64
	hops  []Hop[S]
	n     int // len(Events)
	// Regardless is CommitRegardless: the context need not be asked.
	Regardless bool
	// Lookup is set when events are not read from a direct table: Hop
	// finds none, and the driver looks e up (Machine.EventIndex).
	Lookup bool
}

// Plain returns m's Plain.
func (m *Machine[S, E, D]) Plain() Plain[S, E] {
	return Plain[S, E]{table: m.eventIdx.table, min: m.eventIdx.min, hops: m.hops, n: len(m.Events),
		Regardless: m.CommitRegardless, Lookup: m.eventIdx.table == nil}
}

// Hop returns e's index in the direct table (-1 when e is not in it, as
// for every e when Lookup is set) and, when e is in it, the hop entry out
// of state index s on it, whose Dest is -1 when the transition is not
// plain. It is small enough to inline. (Without a table, intOf reads
// whatever e holds, and the empty table's bound refuses it.)
func (p *Plain[S, E]) Hop(s int, e E) (*Hop[S], int) {
	if v := uint64(intOf(&e) - p.min); v < uint64(len(p.table)) {
		if ev := int(p.table[v]); ev >= 0 {
			return &p.hops[s*p.n+ev], ev
		}
	}
	return nil, -1
}

// layoutStart sets QuietStart, once the states' delayed transitions are
// known.
func (m *Machine[S, E, D]) layoutStart() {
	path := m.StartPath
	if !m.Hier {
		path = []int32{int32(m.Start)}
	}
	m.QuietStart = m.States[m.Start].Choose == nil
	for _, s := range path {
		if st := &m.States[s]; len(st.Entry) > 0 || len(st.Delayed) > 0 {
			m.QuietStart = false
		}
	}
}

// StateIndex returns the interned index of s, or -1 for an unknown state.
func (m *Machine[S, E, D]) StateIndex(s S) int { return m.stateIdx.index(s) }

// EventIndex returns the interned index of e, or -1 for an unknown event.
// For integer-kind events it reads a direct table, with no hashing.
func (m *Machine[S, E, D]) EventIndex(e E) int { return m.eventIdx.index(e) }

// NoTable is EventSlot's answer when events are not read from a direct
// table.
const NoTable = -2

// EventSlot returns EventIndex(e) when events are read from a direct
// table (integer kinds whose values lie close together), and NoTable
// otherwise. It is small enough to inline into a driver's fast path,
// which EventIndex, holding the other cases too, is not.
func (m *Machine[S, E, D]) EventSlot(e E) int { return m.eventIdx.slot(e) }

// State returns the state at interned index i. The result must not be
// modified.
func (m *Machine[S, E, D]) State(i int) *State[S, E, D] { return &m.States[i] }

// ID returns the state at interned index i; it is State(i).ID from a
// compact table.
func (m *Machine[S, E, D]) ID(i int) S { return m.ids[i] }

// Edge returns the edge at slot i. The result must not be modified.
func (m *Machine[S, E, D]) Edge(slot int) *Edge[S, E, D] { return &m.Edges[slot] }

// DeclEdge returns the edge of the transition declared at position decl.
func (m *Machine[S, E, D]) DeclEdge(decl int) *Edge[S, E, D] { return &m.Edges[m.byDecl[decl]] }

// Decls returns how many transitions were declared. Edges may be longer:
// a hierarchical machine copies inherited transitions into its leaves' rows.
func (m *Machine[S, E, D]) Decls() int { return len(m.byDecl) }

// Slot returns the slot of the transition declared at position decl.
func (m *Machine[S, E, D]) Slot(decl int) int { return int(m.byDecl[decl]) }

// BareLink returns the transition out of state index s on event index e
// when it is a Bare one (Plain transitions, and also transitions into a
// choice state whose choice function is their only user code), or one
// Bare but for the entry actions of the states it enters, which is no
// choice state (Link.Enter), as a Link, whose Slot is -1 when it is
// neither. The result must not be modified.
func (m *Machine[S, E, D]) BareLink(s, e int) *Link[S, E, D] {
	return &m.links[s*len(m.Events)+e]
}

// Candidates returns the transitions out of state index s on event index e,
// in declaration order; the first whose guard holds is to be taken. The
// result must not be modified.
func (m *Machine[S, E, D]) Candidates(s, e int) []Edge[S, E, D] {
	sp := m.spans[s*len(m.Events)+e]
	return m.Edges[sp.start : sp.start+sp.n]
}
