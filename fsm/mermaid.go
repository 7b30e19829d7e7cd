package fsm

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/statecraft/statecraft/states"
)

// WriteMermaid writes g to w as a Mermaid state diagram (stateDiagram-v2),
// laid out left to right, with opts added.
//
// The output is deterministic, byte for byte. States have synthetic IDs
// (s0, s1, … in state order; c0_s0, … in the first cluster) and each is
// declared once, as state "label" as s0, so that labels never need to be
// identifiers; isolated states are listed too.
//
// The marks: [*] --> s0 for the initial state and s3 --> [*] for each
// final state. A choice state is declared state s2 <<choice>>, which
// Mermaid draws as a bare diamond, so its label goes in a note beside it.
// A state's text is its label followed by one line per kind of action, as
// WriteDot draws it ("entry / a, b", "exit / c", "choose / f"). An edge's
// text is GraphEdge.Label; Mermaid cannot dash or dot an edge, so an
// internal transition's text ends in " (internal)", and a delayed one is
// told by its "after 30s" trigger. Visit counts are appended as " ×3".
// Clusters are composite states titled with their Graph.Name, joined to the
// main machine by edges labelled "uses" (or Use.Label). A highlighted state
// gets the class "current", filled yellow. The error state gets the class
// "error", outlined in red, with an edge into it from each state whose
// entry action or choice function can fail, labelled "entry failed" or
// "choice failed".
//
// Mermaid has no backslash escapes, so labels are escaped with its entity
// codes: #quot; for a quote and #N; (decimal) for # : ; < > { } % \ `,
// for an "&" that could start an HTML entity, for a space at either end of
// a label (Mermaid trims them), for the "[" of "[[" and the "d" of
// "direction" (both trigger Mermaid keywords), and for ﬂ and ¶ (Mermaid's
// own entity placeholders use them). A newline is written <br>. An empty
// state label is written as one space, as Mermaid cannot declare an empty
// one. Control characters and invalid UTF-8 are treated as in WriteDot.
//
// WriteMermaid returns a *ValidationError wrapping ErrDiagram when g and
// opts do not fit together (see ErrDiagram), and otherwise the error of
// the one call to w.Write, if any.
func WriteMermaid(w io.Writer, g Graph, opts DiagramOptions) error {
	p, err := prepareDiagram(g, opts)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n    direction LR\n")
	writeMermaidMachine(&b, "    ", "", &p.main)
	for i := range p.clusters {
		c := &p.clusters[i]
		fmt.Fprintf(&b, "    state \"%s\" as c%d {\n", mermaidText(c.g.Name, true), i)
		writeMermaidMachine(&b, "        ", clusterPrefix(i), c)
		b.WriteString("    }\n")
	}
	for _, u := range p.uses {
		fmt.Fprintf(&b, "    s%d --> %ss%d : %s\n", u.from, clusterPrefix(u.cluster), u.to, mermaidText(u.label, true))
	}
	writeMermaidClass(&b, p, "error", fmt.Sprintf("stroke:%s,stroke-width:2px,color:%s", errorColor, errorColor),
		func(m *diagramMachine) int { return m.errState })
	writeMermaidClass(&b, p, "current", fmt.Sprintf("fill:%s,stroke:#333,stroke-width:2px", highlightColor),
		func(m *diagramMachine) int { return m.highlight })
	_, err = io.WriteString(w, b.String())
	return err
}

// Mermaid returns the definition as a Mermaid state diagram with no
// options; see WriteMermaid for what it shows.
func (d *Definition[S, E, D]) Mermaid() string {
	var b strings.Builder
	if err := WriteMermaid(&b, d.Graph(), DiagramOptions{}); err != nil {
		// A built definition's graph always fits, and a strings.Builder
		// does not fail.
		panic("fsm: " + err.Error())
	}
	return b.String()
}

// writeMermaidClass defines a class with the given style and gives it to
// the state pick chooses in the main machine and in each cluster (pick
// returns -1 for none); it writes nothing when no machine has one.
func writeMermaidClass(b *strings.Builder, p *diagram, class, style string, pick func(*diagramMachine) int) {
	var ids []string
	if i := pick(&p.main); i >= 0 {
		ids = append(ids, fmt.Sprintf("s%d", i))
	}
	for c := range p.clusters {
		if i := pick(&p.clusters[c]); i >= 0 {
			ids = append(ids, fmt.Sprintf("%ss%d", clusterPrefix(c), i))
		}
	}
	if len(ids) > 0 {
		fmt.Fprintf(b, "    classDef %s %s\n", class, style)
		fmt.Fprintf(b, "    class %s %s\n", strings.Join(ids, ","), class)
	}
}

func writeMermaidMachine(b *strings.Builder, indent, prefix string, m *diagramMachine) {
	for _, i := range m.top {
		writeMermaidNested(b, indent, prefix, m, i)
	}
	for i, s := range m.g.States {
		if m.hier {
			break
		}
		text := mermaidText(stateText(s), true)
		if s.Kind == states.Choice {
			fmt.Fprintf(b, "%sstate %ss%d <<choice>>\n", indent, prefix, i)
			fmt.Fprintf(b, "%snote right of %ss%d : %s\n", indent, prefix, i, text)
			continue
		}
		fmt.Fprintf(b, "%sstate \"%s\" as %ss%d\n", indent, text, prefix, i)
	}
	for _, i := range m.initials {
		fmt.Fprintf(b, "%s[*] --> %ss%d\n", indent, prefix, i)
	}
	for i, e := range m.g.Edges {
		fmt.Fprintf(b, "%s%ss%d --> %ss%d", indent, prefix, e.From, prefix, e.To)
		if label := edgeText(e, true, m.visits[i]); label != "" {
			b.WriteString(" : ")
			b.WriteString(mermaidText(label, false))
		}
		b.WriteByte('\n')
	}
	for _, i := range m.failing {
		fmt.Fprintf(b, "%s%ss%d --> %ss%d : %s\n", indent, prefix, i, prefix, m.errState, failureLabel(m.g.States[i]))
	}
	for i, s := range m.g.States {
		if s.Kind == states.Final {
			fmt.Fprintf(b, "%s%ss%d --> [*]\n", indent, prefix, i)
		}
	}
}

// mermaidText escapes s for Mermaid: see WriteMermaid for the rules. When
// nonEmpty is set, an empty s is written as an escaped space, for the
// places where Mermaid requires some text.
func mermaidText(s string, nonEmpty bool) string {
	if s == "" && nonEmpty {
		return "#32;"
	}
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		rs = append(rs, controlPicture(r))
	}
	var b strings.Builder
	for i, r := range rs {
		atEnd := i == 0 || i == len(rs)-1
		switch {
		case r == '\n':
			b.WriteString("<br>")
		case r == '"':
			b.WriteString("#quot;")
		case strings.ContainsRune("#:;<>{}%\\`ﬂ¶", r),
			r == '&' && i+1 < len(rs) && startsEntity(string(rs[i+1])),
			r == '[' && i+1 < len(rs) && rs[i+1] == '[',
			(r == 'd' || r == 'D') && hasDirection(rs[i:]),
			atEnd && (unicode.IsSpace(r) || r == '\ufeff'):
			fmt.Fprintf(&b, "#%d;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hasDirection reports whether rs starts with "direction", in any case:
// Mermaid takes a line holding "direction LR" anywhere for a direction
// statement.
func hasDirection(rs []rune) bool {
	const word = "direction"
	if len(rs) < len(word) {
		return false
	}
	for i := range len(word) {
		if r := rs[i]; r >= utf8.RuneSelf || unicode.ToLower(r) != rune(word[i]) {
			return false
		}
	}
	return true
}
