package fsm

import (
	"fmt"
	"strings"

	"github.com/statecraft/statecraft/states"
)

// Hierarchical graphs (some GraphState.HasParent) in diagrams. In dot, a
// composite state is a cluster (subgraph cluster_s3) titled with its text,
// holding a small point, its node, from which an arrow leads to its
// initial child; an edge into or out of a composite state from outside it
// ends at the cluster's border (compound=true, lhead and ltail). In
// Mermaid, a composite state is a composite state block (state "text" as
// s3 { … }) in which [*] leads to its initial child. A flat graph is drawn
// exactly as before.

// resolveParents checks the parents of m's graph and, when it has any,
// lists each state's children.
func (m *diagramMachine) resolveParents() error {
	g := &m.g
	n := len(g.States)
	for i, s := range g.States {
		if !s.HasParent {
			continue
		}
		if s.Parent < 0 || s.Parent >= n || s.Parent == i {
			return diagramError(g.Name, s.Label, fmt.Sprintf("parent %d is not another state of the graph's %d", s.Parent, n))
		}
		m.hier = true
	}
	if !m.hier {
		return nil
	}
	m.children = make([][]int, n)
	for i, s := range g.States {
		// A cycle of parents would nest forever: walk at most n parents.
		k, steps := i, 0
		for g.States[k].HasParent && steps <= n {
			k, steps = g.States[k].Parent, steps+1
		}
		if steps > n {
			return diagramError(g.Name, s.Label, "its parents form a cycle")
		}
		if s.HasParent {
			m.children[s.Parent] = append(m.children[s.Parent], i)
		} else {
			m.top = append(m.top, i)
		}
	}
	return nil
}

// within reports whether state s is a or inside it.
func (m *diagramMachine) within(s, a int) bool {
	for {
		if s == a {
			return true
		}
		if !m.g.States[s].HasParent {
			return false
		}
		s = m.g.States[s].Parent
	}
}

func (m *diagramMachine) composite(i int) bool { return m.hier && len(m.children[i]) > 0 }

// clusterEnds returns the dot attributes that end an edge from state from
// to state to at the border of a composite state's cluster, when the
// other end is outside it.
func (m *diagramMachine) clusterEnds(prefix string, from, to int) []string {
	var attrs []string
	if m.composite(from) && !m.within(to, from) {
		attrs = append(attrs, fmt.Sprintf("ltail=cluster_%ss%d", prefix, from))
	}
	if m.composite(to) && !m.within(from, to) {
		attrs = append(attrs, fmt.Sprintf("lhead=cluster_%ss%d", prefix, to))
	}
	return attrs
}

// writeDotNested writes state i: its node, or for a composite state its
// cluster with its children inside.
func writeDotNested(b *strings.Builder, indent, prefix string, m *diagramMachine, i int) {
	if !m.composite(i) {
		writeDotNode(b, indent, prefix, m, i)
		return
	}
	in := indent + "\t"
	fmt.Fprintf(b, "%ssubgraph cluster_%ss%d {\n%slabel=", indent, prefix, i, in)
	writeDotString(b, stateText(m.g.States[i]))
	b.WriteString(";\n")
	switch {
	case i == m.highlight:
		fmt.Fprintf(b, "%sstyle=\"rounded,filled\";\n%sfillcolor=%q;\n%spenwidth=2;\n", in, in, highlightColor, in)
	default:
		fmt.Fprintf(b, "%sstyle=rounded;\n", in)
	}
	if i == m.errState {
		fmt.Fprintf(b, "%scolor=%q;\n%sfontcolor=%q;\n", in, errorColor, in, errorColor)
	}
	fmt.Fprintf(b, "%s%ss%d [shape=point, width=0.1, label=\"\"];\n", in, prefix, i)
	for _, c := range m.children[i] {
		writeDotNested(b, in, prefix, m, c)
	}
	for _, c := range m.children[i] {
		if m.g.States[c].InitialChild {
			fmt.Fprintf(b, "%s%ss%d -> %ss%d", in, prefix, i, prefix, c)
			if m.composite(c) {
				fmt.Fprintf(b, " [lhead=cluster_%ss%d]", prefix, c)
			}
			b.WriteString(";\n")
		}
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

// writeMermaidNested writes state i: its declaration, or for a composite
// state its block with its children inside.
func writeMermaidNested(b *strings.Builder, indent, prefix string, m *diagramMachine, i int) {
	s := m.g.States[i]
	text := mermaidText(stateText(s), true)
	switch {
	case s.Kind == states.Choice:
		fmt.Fprintf(b, "%sstate %ss%d <<choice>>\n", indent, prefix, i)
		fmt.Fprintf(b, "%snote right of %ss%d : %s\n", indent, prefix, i, text)
	case !m.composite(i):
		fmt.Fprintf(b, "%sstate \"%s\" as %ss%d\n", indent, text, prefix, i)
	default:
		fmt.Fprintf(b, "%sstate \"%s\" as %ss%d {\n", indent, text, prefix, i)
		for _, c := range m.children[i] {
			writeMermaidNested(b, indent+"    ", prefix, m, c)
		}
		for _, c := range m.children[i] {
			if m.g.States[c].InitialChild {
				fmt.Fprintf(b, "%s    [*] --> %ss%d\n", indent, prefix, c)
			}
		}
		fmt.Fprintf(b, "%s}\n", indent)
	}
}
