package fsm

import (
	"strings"

	"github.com/statecraft/statecraft/states"
)

// Graph is what a diagram shows of a definition, free of the definition's
// type parameters, so that machines of different types can be drawn
// together (a workflow's per-call machine beside the shared breaker it
// uses). Definition.Graph makes one; the exporters read it.
type Graph struct {
	// Name is the machine's name.
	Name string
	// States are in declaration order.
	States []GraphState
	// Edges are in declaration order, so Edges[i] is transition i of
	// Definition.Transitions.
	Edges []GraphEdge
}

// GraphState is one state of a Graph.
type GraphState struct {
	Label string
	Kind  states.Kind
	// Entry and Exit are the names of the state's entry and exit actions.
	Entry, Exit []string
	// Choice names a choice state's choice function.
	Choice string
	// Error marks the machine's error state (Builder.ErrorState), where the
	// driver moves the machine when an entry action or a choice function
	// fails. At most one state of a graph is marked.
	Error bool
	// Parent is the index in Graph.States of the composite state this
	// state is a child of, when HasParent is set. Diagrams draw a
	// composite state as a box around its children.
	Parent    int
	HasParent bool
	// InitialChild marks the child entered when a transition targets its
	// parent (a child of Kind Initial, or one marked by states.Spec.First).
	InitialChild bool
}

// GraphEdge is one transition of a Graph.
type GraphEdge struct {
	// From and To index Graph.States.
	From, To int
	// Trigger is the event's label, or "after d" for a delayed transition.
	Trigger string
	Delayed bool
	// Guard is the guard's printed form, "" when unguarded.
	Guard string
	// Actions are the names of the transition's actions.
	Actions  []string
	Internal bool
}

// Label returns the edge's label as diagrams print it:
// "trigger [guard] / action1, action2", omitting the parts that are empty.
func (e GraphEdge) Label() string {
	var b strings.Builder
	b.WriteString(e.Trigger)
	if e.Guard != "" {
		b.WriteString(" [")
		b.WriteString(e.Guard)
		b.WriteByte(']')
	}
	if len(e.Actions) > 0 {
		b.WriteString(" / ")
		b.WriteString(strings.Join(e.Actions, ", "))
	}
	return b.String()
}

// Graph returns the definition's drawing data.
func (d *Definition[S, E, D]) Graph() Graph {
	m := &d.m
	g := Graph{Name: m.Name, States: make([]GraphState, len(m.States)), Edges: make([]GraphEdge, len(d.transSpecs))}
	for i := range m.States {
		s := &m.States[i]
		g.States[i] = GraphState{Label: s.Label, Kind: s.Kind, Entry: actionNames(s.Entry), Exit: actionNames(s.Exit), Choice: s.ChooseName, Error: i == m.ErrorState,
			Parent: max(s.Parent, 0), HasParent: s.Parent >= 0}
		if s.Parent >= 0 && m.States[s.Parent].InitialChild == i {
			g.States[i].InitialChild = true
		}
	}
	for decl := range d.transSpecs {
		e := m.DeclEdge(decl)
		ge := GraphEdge{From: e.From, To: e.To, Guard: e.GuardName, Actions: actionNames(e.Actions), Internal: e.Internal}
		if e.Event >= 0 {
			ge.Trigger = m.EventLabels[e.Event]
		} else {
			ge.Delayed = true
			ge.Trigger = d.transitionDelay(e)
		}
		g.Edges[decl] = ge
	}
	return g
}

func actionNames[S, E comparable, D any](as []states.Action[S, E, D]) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}
