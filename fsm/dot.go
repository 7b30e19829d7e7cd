package fsm

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/statecraft/statecraft/states"
)

// DiagramOptions adds to a diagram what the definition alone does not say:
// where a running machine is, the path it took, and the shared machines it
// uses. The zero DiagramOptions draws the graph alone.
type DiagramOptions struct {
	// Highlight is the label of a state to fill with colour, such as a
	// running machine's current state. Empty means none.
	Highlight string
	// Visits maps a transition's declaration index (its position in
	// Graph.Edges and Definition.Transitions, its Decl in a trace) to the
	// number of times it was taken. Each visited edge shows the count after
	// its label ("open ×3"); in dot it is also coloured and drawn thicker in
	// proportion to the most visited edge. Nil means no overlay; a count of
	// zero draws the edge as if it were absent from the map.
	Visits map[int]int
	// Clusters are shared machines the main machine uses, each drawn in a
	// box beside it.
	Clusters []Cluster
}

// Cluster is a shared machine (a circuit breaker, a bulkhead) drawn in its
// own box beside the main machine, with its own highlight and overlay.
type Cluster struct {
	// Graph is the shared machine; its Name labels the box.
	Graph Graph
	// Visits overlays visit counts on the cluster's edges, as
	// DiagramOptions.Visits does on the main machine's.
	Visits map[int]int
	// Highlight is the label of a state of the cluster to fill, or "".
	Highlight string
	// Uses are the edges joining the main machine to the cluster.
	Uses []Use
}

// Use is a "uses" edge from a state of the main machine to a state of a
// cluster, meaning that the main machine, in state From, works through the
// shared machine, which is then in (or expected in) state To.
type Use struct {
	// From is the label of a state of the main machine.
	From string
	// To is the label of a state of the cluster.
	To string
	// Label is the edge's text; empty means "uses".
	Label string
}

// ErrDiagram is the kind of error WriteDot and WriteMermaid return, inside
// a *ValidationError, when the graph or the options do not fit together:
// an edge whose From or To is not an index of Graph.States, more than one
// error state, a highlight or
// a Use naming a state the graph does not have, a visit count for a
// transition the graph does not have, or a negative count.
var ErrDiagram = errors.New("diagram names something the graph does not have")

// WriteDot writes g to w as a Graphviz dot digraph, laid out left to right,
// with opts added.
//
// The output is deterministic, byte for byte, and every label is escaped,
// so any label a definition accepts can be drawn. Nodes have synthetic IDs
// (s0, s1, … in state order; c0_s0, … in the first cluster; init for the
// initial mark), and every state is listed, isolated ones too.
//
// The marks: an arrow from a small point to the initial state; a double
// circle for a final state and a diamond for a choice state; a rounded box
// for the others. A node's label is the state's label followed by one line
// per kind of action: "entry / a, b", "exit / c", and for a choice state
// "choose / f". An edge's label is GraphEdge.Label, "event [guard] /
// action"; an internal transition is dashed, a delayed one ("after 30s")
// dotted. Clusters are boxes titled with their Graph.Name, joined to the
// main machine by dashed grey "uses" edges with an open arrowhead. A
// highlighted state is filled yellow. The error state (GraphState.Error)
// is drawn in red, with a dashed red edge into it from each state whose
// entry action or choice function can fail, labelled "entry failed" or
// "choice failed": the moves the driver makes when one does.
//
// Labels go through Graphviz's escString rules (a backslash is doubled, a
// quote escaped, a newline written as \n), and an "&" that could start an
// HTML entity is written "&amp;", since Graphviz decodes entities in
// labels. Control characters other than newline are drawn as their Unicode
// control pictures (U+2400 block) and invalid UTF-8 as U+FFFD, so only
// labels holding those come out different from what the definition says.
//
// WriteDot returns a *ValidationError wrapping ErrDiagram when g and opts
// do not fit together (see ErrDiagram), and otherwise the error of the one
// call to w.Write, if any.
func WriteDot(w io.Writer, g Graph, opts DiagramOptions) error {
	p, err := prepareDiagram(g, opts)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("digraph ")
	writeDotString(&b, g.Name)
	b.WriteString(" {\n")
	b.WriteString("\trankdir=LR;\n")
	if p.hier() {
		b.WriteString("\tcompound=true;\n")
	}
	b.WriteString("\tnode [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=12];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=10];\n")
	writeDotMachine(&b, "\t", "", &p.main)
	for i := range p.clusters {
		c := &p.clusters[i]
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n", i)
		b.WriteString("\t\tlabel=")
		writeDotString(&b, c.g.Name)
		b.WriteString(";\n\t\tstyle=\"rounded,dashed\";\n\t\tcolor=gray50;\n")
		writeDotMachine(&b, "\t\t", clusterPrefix(i), c)
		b.WriteString("\t}\n")
	}
	for _, u := range p.uses {
		fmt.Fprintf(&b, "\ts%d -> %ss%d [label=", u.from, clusterPrefix(u.cluster), u.to)
		writeDotString(&b, u.label)
		b.WriteString(", style=dashed, arrowhead=open, color=gray40, fontcolor=gray40];\n")
	}
	b.WriteString("}\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// Dot returns the definition as a Graphviz dot digraph with no options;
// see WriteDot for what it shows.
func (d *Definition[S, E, D]) Dot() string {
	var b strings.Builder
	if err := WriteDot(&b, d.Graph(), DiagramOptions{}); err != nil {
		// A built definition's graph always fits, and a strings.Builder
		// does not fail.
		panic("fsm: " + err.Error())
	}
	return b.String()
}

const (
	highlightColor = "#ffd54f"
	visitColor     = "#1565c0"
	errorColor     = "#c62828"
)

func writeDotMachine(b *strings.Builder, indent, prefix string, m *diagramMachine) {
	if len(m.initials) > 0 {
		fmt.Fprintf(b, "%s%sinit [shape=point, width=0.15];\n", indent, prefix)
	}
	if m.hier {
		for _, i := range m.top {
			writeDotNested(b, indent, prefix, m, i)
		}
	} else {
		for i := range m.g.States {
			writeDotNode(b, indent, prefix, m, i)
		}
	}
	for _, i := range m.initials {
		fmt.Fprintf(b, "%s%sinit -> %ss%d;\n", indent, prefix, prefix, i)
	}
	for i, e := range m.g.Edges {
		fmt.Fprintf(b, "%s%ss%d -> %ss%d", indent, prefix, e.From, prefix, e.To)
		n := m.visits[i]
		var attrs []string
		if m.hier {
			attrs = m.clusterEnds(prefix, e.From, e.To)
		}
		if label := edgeText(e, false, n); label != "" {
			var lb strings.Builder
			lb.WriteString("label=")
			writeDotString(&lb, label)
			attrs = append(attrs, lb.String())
		}
		switch {
		case e.Internal:
			attrs = append(attrs, "style=dashed")
		case e.Delayed:
			attrs = append(attrs, "style=dotted")
		}
		if n > 0 {
			width := 1 + 3*float64(n)/float64(m.maxVisits)
			attrs = append(attrs, "penwidth="+strconv.FormatFloat(width, 'f', 1, 64),
				"color="+strconv.Quote(visitColor),
				"fontcolor="+strconv.Quote(visitColor))
		}
		if len(attrs) > 0 {
			b.WriteString(" [")
			b.WriteString(strings.Join(attrs, ", "))
			b.WriteByte(']')
		}
		b.WriteString(";\n")
	}
	for _, i := range m.failing {
		fmt.Fprintf(b, "%s%ss%d -> %ss%d [label=%q, style=dashed, arrowhead=empty, color=%q, fontcolor=%q",
			indent, prefix, i, prefix, m.errState, failureLabel(m.g.States[i]), errorColor, errorColor)
		if m.hier {
			for _, a := range m.clusterEnds(prefix, i, m.errState) {
				b.WriteString(", ")
				b.WriteString(a)
			}
		}
		b.WriteString("];\n")
	}
}

// writeDotNode writes the node of state i.
func writeDotNode(b *strings.Builder, indent, prefix string, m *diagramMachine, i int) {
	s := m.g.States[i]
	fmt.Fprintf(b, "%s%ss%d [label=", indent, prefix, i)
	writeDotString(b, stateText(s))
	switch s.Kind {
	case states.Final:
		b.WriteString(", shape=doublecircle")
	case states.Choice:
		b.WriteString(", shape=diamond")
	}
	if i == m.errState {
		fmt.Fprintf(b, ", color=%q, fontcolor=%q", errorColor, errorColor)
	}
	if i == m.highlight {
		fmt.Fprintf(b, ", style=\"rounded,filled\", fillcolor=%q, penwidth=2", highlightColor)
	}
	b.WriteString("];\n")
}

// failureLabel is the text of the edge from s into the error state.
func failureLabel(s GraphState) string {
	if s.Kind == states.Choice {
		return "choice failed"
	}
	return "entry failed"
}

// writeDotString writes s as a quoted dot string holding a Graphviz
// escString: see WriteDot for the rules.
func writeDotString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '&' && startsEntity(s[i+1:]):
			b.WriteString("&amp;")
		case r == utf8.RuneError:
			// Invalid UTF-8 and U+FFFD itself. Graphviz decodes the
			// entity; gonum's dot parser refuses a raw U+FFFD.
			b.WriteString("&#65533;")
		default:
			b.WriteRune(controlPicture(r))
		}
	}
	b.WriteByte('"')
}

// startsEntity reports whether an "&" followed by rest could be read as
// the start of an HTML entity, named or numeric, with or without its
// closing ";" (HTML reads some names without it).
func startsEntity(rest string) bool {
	if rest == "" {
		return false
	}
	c := rest[0]
	return c == '#' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// controlPicture returns the Unicode control picture of a control
// character other than newline, and any other rune unchanged.
func controlPicture(r rune) rune {
	switch {
	case r == '\n':
		return r
	case r < 0x20:
		return 0x2400 + r
	case r == 0x7f:
		return 0x2421
	}
	return r
}

// stateText returns the text of a state's node: its label, then a line per
// kind of action.
func stateText(s GraphState) string {
	var b strings.Builder
	b.WriteString(s.Label)
	line := func(kind string, names []string) {
		if len(names) > 0 {
			b.WriteString("\n")
			b.WriteString(kind)
			b.WriteString(" / ")
			b.WriteString(strings.Join(names, ", "))
		}
	}
	line("entry", s.Entry)
	line("exit", s.Exit)
	if s.Kind == states.Choice && s.Choice != "" {
		line("choose", []string{s.Choice})
	}
	return b.String()
}

// edgeText returns an edge's label with the marks that the format cannot
// draw otherwise: " (internal)" when internal is set and the edge is
// internal, and " ×n" for n > 0 visits.
func edgeText(e GraphEdge, internal bool, n int) string {
	parts := make([]string, 0, 3)
	if l := e.Label(); l != "" {
		parts = append(parts, l)
	}
	if internal && e.Internal {
		parts = append(parts, "(internal)")
	}
	if n > 0 {
		parts = append(parts, "×"+strconv.Itoa(n))
	}
	return strings.Join(parts, " ")
}

func clusterPrefix(i int) string { return "c" + strconv.Itoa(i) + "_" }

// diagramMachine is one machine of a diagram, checked and resolved.
type diagramMachine struct {
	g         Graph
	initials  []int
	highlight int // state index, or -1
	errState  int // state index, or -1
	// failing are the states whose entry action or choice function can
	// fail, each drawn with an edge into errState.
	failing   []int
	visits    []int
	maxVisits int
	// children[i] are the children of state i in state order, and top the
	// top-level states; both are set only for a hierarchical graph (hier).
	hier     bool
	children [][]int
	top      []int
}

type diagramUse struct {
	from, cluster, to int
	label             string
}

type diagram struct {
	main     diagramMachine
	clusters []diagramMachine
	uses     []diagramUse
}

// hier reports whether any machine of the diagram is hierarchical.
func (p *diagram) hier() bool {
	for i := range p.clusters {
		if p.clusters[i].hier {
			return true
		}
	}
	return p.main.hier
}

// prepareDiagram checks g and opts against each other and resolves labels
// to state indices.
func prepareDiagram(g Graph, opts DiagramOptions) (*diagram, error) {
	p := &diagram{}
	var err error
	if p.main, err = prepareMachine(g, opts.Highlight, opts.Visits); err != nil {
		return nil, err
	}
	for ci, c := range opts.Clusters {
		m, err := prepareMachine(c.Graph, c.Highlight, c.Visits)
		if err != nil {
			return nil, err
		}
		p.clusters = append(p.clusters, m)
		for _, u := range c.Uses {
			from, ok := stateByLabel(g, u.From)
			if !ok {
				return nil, diagramError(g.Name, u.From, "use of cluster "+strconv.Itoa(ci)+": no such state in the main machine")
			}
			to, ok := stateByLabel(c.Graph, u.To)
			if !ok {
				return nil, diagramError(c.Graph.Name, u.To, "use of cluster "+strconv.Itoa(ci)+": no such state in the cluster")
			}
			label := u.Label
			if label == "" {
				label = "uses"
			}
			p.uses = append(p.uses, diagramUse{from: from, cluster: ci, to: to, label: label})
		}
	}
	return p, nil
}

func prepareMachine(g Graph, highlight string, visits map[int]int) (diagramMachine, error) {
	m := diagramMachine{g: g, highlight: -1, errState: -1, visits: make([]int, len(g.Edges))}
	if err := m.resolveParents(); err != nil {
		return m, err
	}
	for i, s := range g.States {
		if s.Kind == states.Initial && !s.HasParent {
			m.initials = append(m.initials, i)
		}
		if s.Error {
			if m.errState >= 0 {
				return m, diagramError(g.Name, s.Label, "a second error state (the first is "+quote(g.States[m.errState].Label)+")")
			}
			m.errState = i
		}
	}
	if m.errState >= 0 {
		for i, s := range g.States {
			if i != m.errState && (len(s.Entry) > 0 || s.Kind == states.Choice) {
				m.failing = append(m.failing, i)
			}
		}
	}
	for i, e := range g.Edges {
		if e.From < 0 || e.From >= len(g.States) || e.To < 0 || e.To >= len(g.States) {
			return m, diagramError(g.Name, "", fmt.Sprintf("edge %d joins state %d to state %d, but the graph has %d states", i, e.From, e.To, len(g.States)))
		}
	}
	if highlight != "" {
		i, ok := stateByLabel(g, highlight)
		if !ok {
			return m, diagramError(g.Name, highlight, "highlighted state is not in the graph")
		}
		m.highlight = i
	}
	for _, decl := range slices.Sorted(maps.Keys(visits)) {
		n := visits[decl]
		if decl < 0 || decl >= len(g.Edges) {
			return m, diagramError(g.Name, "", fmt.Sprintf("visits for transition %d, but the graph has %d", decl, len(g.Edges)))
		}
		if n < 0 {
			return m, diagramError(g.Name, "", fmt.Sprintf("visits for transition %d are negative (%d)", decl, n))
		}
		m.visits[decl] = n
		m.maxVisits = max(m.maxVisits, n)
	}
	return m, nil
}

func stateByLabel(g Graph, label string) (int, bool) {
	for i, s := range g.States {
		if s.Label == label {
			return i, true
		}
	}
	return -1, false
}

func diagramError(machine, state, detail string) error {
	return &ValidationError{Err: ErrDiagram, State: state, Detail: "machine " + quote(machine) + ": " + detail}
}
