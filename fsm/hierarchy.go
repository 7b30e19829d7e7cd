package fsm

import (
	"fmt"
	"strings"

	"github.com/statecraft/statecraft/internal/compiled"
	"github.com/statecraft/statecraft/states"
)

// hierarchy resolves the parents the specs declare into m's states
// (Parent, InitialChild, Depth) and returns the defects found: undeclared
// parents, cycles of parents, composite states with no initial child or
// more than one, and final or choice states with children. A link that is
// broken (an undeclared parent, a cycle) is dropped, so that the graph
// checks that follow see a forest. It sets m.Hier when any state has a
// parent.
func (b *Builder[S, E, D]) hierarchy(m *compiled.Machine[S, E, D], specs []states.Spec[S, E, D], seen map[S]int) []*ValidationError {
	var problems []*ValidationError
	bad := func(err error, state, detail string) {
		problems = append(problems, &ValidationError{Err: err, State: state, Detail: detail})
	}
	for i := range specs {
		sp := &specs[i]
		if !sp.HasParent {
			if sp.InitialChild {
				bad(ErrNoParent, m.States[i].Label, "First marks the initial child of a parent; declare its parent with In")
			}
			continue
		}
		p, ok := seen[sp.Parent]
		if !ok {
			bad(ErrUnknownParent, m.States[i].Label, "parent "+quote(fmt.Sprint(sp.Parent))+" is not declared")
			continue
		}
		m.States[i].Parent = p
		m.Hier = true
	}
	if !m.Hier {
		return problems
	}
	// Cycles: a state on one reaches itself by parents within n steps.
	// Each cycle is reported once, at its first state in declaration
	// order, and cut there.
	n := len(m.States)
	for i := range m.States {
		k, steps := m.States[i].Parent, 0
		for k >= 0 && k != i && steps < n {
			k, steps = m.States[k].Parent, steps+1
		}
		if k != i {
			continue
		}
		names := []string{m.States[i].Label}
		for k := m.States[i].Parent; k != i; k = m.States[k].Parent {
			names = append(names, m.States[k].Label)
		}
		bad(ErrParentCycle, m.States[i].Label, strings.Join(names, " in ")+" in "+m.States[i].Label)
		m.States[i].Parent = -1
	}
	// Initial children, kinds of composites, depths.
	first := make([]int, n)
	for i := range first {
		first[i] = -1
	}
	for i := range m.States {
		p := m.States[i].Parent
		if p < 0 {
			continue
		}
		for k := p; k >= 0; k = m.States[k].Parent {
			m.States[i].Depth++
		}
		if specs[i].Kind != states.Initial && !specs[i].InitialChild {
			if first[p] < 0 {
				first[p] = -2 // has children, none initial yet
			}
			continue
		}
		if first[p] >= 0 {
			bad(ErrMultipleInitial, m.States[i].Label, "also "+m.States[first[p]].Label+", both children of "+m.States[p].Label)
			continue
		}
		first[p] = i
		m.States[p].InitialChild = i
	}
	for p, f := range first {
		switch {
		case f == -1:
		case m.States[p].Kind == states.Final || m.States[p].Kind == states.Choice:
			bad(ErrCompositeKind, m.States[p].Label, "a "+m.States[p].Kind.String()+" state cannot be composite")
			m.States[p].InitialChild = -1
		case f == -2:
			bad(ErrNoInitialChild, m.States[p].Label, "give one of its children the kind states.Initial, or call First on it")
		}
	}
	return problems
}
