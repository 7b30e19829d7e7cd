package inspect

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// The diagram's measures, in SVG user units. Labels are set in a
// monospace font, so a label's width is its length times charW.
const (
	charW    = 7.8  // width of one character at fontSize
	fontSize = 13   // px
	boxH     = 34.0 // a state's box
	boxPad   = 14.0 // on each side of a state's label
	minBoxW  = 70.0
	gapX     = 56.0 // between boxes of one rank
	gapY     = 92.0 // between ranks, room for edge labels
	margin   = 30.0
	bendX    = 34.0 // how far apart parallel edges bend
	maxLabel = 42   // longer edge labels are cut, the whole one in a tooltip
)

// drawSVG draws g as a standalone SVG document: each state a box (a
// diamond for a choice state, a double border for a final one, a dot and
// an arrow into the initial one, a red dashed border for the error state),
// the transitions from one state to another as one arrow labelled with
// each transition's "event [guard] / action" on a line of its own, the
// highlight's state filled, and each transition's count from visits after
// its label, visited arrows drawn thicker. Every label is escaped. States
// carry data-state="label" and counts data-edge="index", so that a page can
// update them in place.
func drawSVG(g fsm.Graph, highlight string, visits map[int]int) []byte {
	l := newLayout(g)
	var edges bytes.Buffer
	most := 0
	for _, n := range visits {
		most = max(most, n)
	}
	for _, grp := range groups(g) {
		l.arrow(&edges, grp, visits, most)
	}
	var nodes bytes.Buffer
	for i, s := range g.States {
		l.state(&nodes, i, s, s.Label == highlight && highlight != "")
	}
	// Labels left of the leftmost box shift the drawing right.
	dx, dy := math.Ceil(max(0, margin-l.minX)), math.Ceil(max(0, margin-l.minY))
	w, h := math.Ceil(l.maxX+dx+margin), math.Ceil(l.maxY+dy+margin)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`,
		w, h, w, h, fontSize)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`)
	b.WriteString(`<title>`)
	esc(&b, g.Name)
	b.WriteString(`</title>`)
	fmt.Fprintf(&b, `<g transform="translate(%.0f,%.0f)">`, dx, dy)
	b.Write(edges.Bytes())
	b.Write(nodes.Bytes())
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// group is the transitions from one state to another (or to itself),
// drawn as one arrow.
type group struct {
	from, to int
	edges    []int // indices into Graph.Edges, in declaration order
}

// groups gathers g's edges by (from, to), in order of first declaration.
func groups(g fsm.Graph) []group {
	var gs []group
	at := map[[2]int]int{}
	for i, e := range g.Edges {
		key := [2]int{e.From, e.To}
		k, ok := at[key]
		if !ok {
			k = len(gs)
			at[key] = k
			gs = append(gs, group{from: e.From, to: e.To})
		}
		gs[k].edges = append(gs[k].edges, i)
	}
	return gs
}

// labelW is the width of one character of an edge label (11px monospace),
// and lineH the height of one line of labels.
const (
	labelW = 6.7
	lineH  = 13.0
)

// arrow draws one group of transitions: a loop on the right of the box for
// a state's own, a straight arrow to the next rank down, and otherwise (back
// up, along a rank, or down past a rank) a curve bent to the right, further
// the more ranks it spans; an arrow down with one back up beside it bends
// to the left. The labels stand beside the arrow's middle, one per line.
func (l *layout) arrow(b *bytes.Buffer, grp group, visits map[int]int, most int) {
	g := l.g
	n := 0
	delayed := true
	for _, i := range grp.edges {
		n += visits[i]
		delayed = delayed && g.Edges[i].Delayed
	}
	class := "edge"
	width := 1.2
	if n > 0 {
		class += " visited"
		width += 3 * float64(n) / float64(max(most, 1))
	}
	if delayed {
		class += " delayed"
	}
	var d string
	var lx, ly float64
	anchor := "start"
	if grp.from == grp.to {
		x, y := l.x[grp.from]+l.w[grp.from]/2, l.y[grp.from]
		d = fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x, y-8, x+36, y-30, x+36, y+30, x, y+8)
		lx, ly = x+32, y
	} else {
		from, to := grp.from, grp.to
		x0, y0, x1, y1 := l.x[from], l.y[from], l.x[to], l.y[to]
		mx, my := (x0+x1)/2, (y0+y1)/2
		span := l.rank[to] - l.rank[from]
		var cx, cy float64 // the control point of a quadratic curve
		switch {
		case span == 1 && l.hasEdge(to, from):
			// Down, with one back up: the two bend apart, this one left.
			cx, cy = mx-bendX, my
		case span == 1:
			cx, cy = mx, my
		case span == 0:
			cx, cy = mx, my-(boxH+bendX) // along a rank: over the top
		case span == -1 && l.hasEdge(to, from):
			// Back up beside an arrow down: this one bends right.
			cx, cy = mx+bendX, my
		default:
			// Back up, or down past a rank: out to the right, its middle
			// clear of the boxes and loop labels of the ranks it passes.
			right := max(x0+l.w[from]/2, x1+l.w[to]/2)
			lo, hi := min(l.rank[from], l.rank[to]), max(l.rank[from], l.rank[to])
			for s := range g.States {
				if l.rank[s] > lo && l.rank[s] < hi {
					right = max(right, l.rightOf(s))
				}
			}
			// Each such arrow goes a little further out than the last, so
			// that two never coincide.
			cx, cy = 2*(right+bendX*float64(abs(span))+bendX/2*float64(l.bent))-mx, my
			l.bent++
		}
		sx, sy := l.clip(from, cx, cy)
		tx, ty := l.clip(to, cx, cy)
		d = fmt.Sprintf("M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f", sx, sy, cx, cy, tx, ty)
		l.maxX = max(l.maxX, cx) // the control point bounds the curve
		// The curve's middle, where the labels go.
		lx, ly = 0.25*sx+0.5*cx+0.25*tx, 0.25*sy+0.5*cy+0.25*ty
		// Labels stand on the outer side of a bent arrow, and on the side
		// a straight one leans to.
		if cx < mx || cx == mx && (x1 < x0 || l.straightRightOf(grp)) {
			anchor, lx = "end", lx-6
		} else {
			lx += 6
		}
	}
	fmt.Fprintf(b, `<g class="%s"><path d="%s" stroke-width="%.1f" fill="none" marker-end="url(#arrow)"/>`, class, d, width)
	// The block of labels moves up or down, half a line at a time, until
	// it clears the boxes and the labels drawn before it.
	labels := make([]string, len(grp.edges))
	blockW := 0.0
	for k, i := range grp.edges {
		labels[k] = g.Edges[i].Label()
		if r := []rune(labels[k]); len(r) > maxLabel {
			labels[k] = string(r[:maxLabel-1]) + "…"
		}
		// Room for the label and a count of a few digits.
		blockW = max(blockW, float64(len([]rune(labels[k]))+6)*labelW)
	}
	top := ly - float64(len(grp.edges)-1)*lineH/2 + 4
	block := func() rect {
		r := rect{x0: lx, y0: top - lineH + 3, x1: lx + blockW, y1: top + float64(len(grp.edges)-1)*lineH + 3}
		if anchor == "end" {
			r.x0, r.x1 = lx-blockW, lx
		}
		return r
	}
	start := top
	for k := 1; k <= 60 && l.collides(block()); k++ {
		// Try half a line up, half a line down, a line up, ...
		step := float64((k+1)/2) * lineH / 2
		if k%2 == 1 {
			step = -step
		}
		top = start + step
	}
	if l.collides(block()) {
		top = start
	}
	l.taken = append(l.taken, block())
	for k, i := range grp.edges {
		full, label := g.Edges[i].Label(), labels[k]
		cls := "edge-label"
		if visits[i] > 0 {
			cls += " visited"
		}
		y := top + float64(k)*lineH
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s"><title>`, lx, y, anchor, cls)
		esc(b, full)
		b.WriteString(`</title>`)
		esc(b, label)
		fmt.Fprintf(b, `<tspan class="count" data-edge="%d">`, i)
		if visits[i] > 0 {
			fmt.Fprintf(b, " ×%d", visits[i])
		}
		b.WriteString(`</tspan></text>`)
		if anchor == "end" {
			l.minX = min(l.minX, lx-blockW)
		} else {
			l.maxX = max(l.maxX, lx+blockW)
		}
		l.minY = min(l.minY, y-lineH)
		l.maxY = max(l.maxY, y+4)
	}
	b.WriteString(`</g>`)
	l.maxX = max(l.maxX, lx)
}

// rightOf returns the right edge of state s's box, or of the labels of
// its own transitions, drawn on its right.
func (l *layout) rightOf(s int) float64 {
	right := l.x[s] + l.w[s]/2
	for _, e := range l.g.Edges {
		if e.From == s && e.To == s {
			n := min(len([]rune(e.Label())), maxLabel) + 4
			right = max(right, l.x[s]+l.w[s]/2+38+float64(n)*labelW)
		}
	}
	return right
}

// straightRightOf reports whether another straight arrow leaves grp's
// source for a state further right, so that grp's labels go on its left.
func (l *layout) straightRightOf(grp group) bool {
	for _, e := range l.g.Edges {
		if e.From == grp.from && e.To != grp.to && e.To != e.From &&
			l.rank[e.To] == l.rank[e.From]+1 && l.x[e.To] > l.x[grp.to] && !l.hasEdge(e.To, e.From) {
			return true
		}
	}
	return false
}

// hasEdge reports whether g has a transition from one state to another.
func (l *layout) hasEdge(from, to int) bool {
	for _, e := range l.g.Edges {
		if e.From == from && e.To == to {
			return true
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// clip returns where the line from state s's centre towards (x, y) leaves
// its box.
func (l *layout) clip(s int, x, y float64) (float64, float64) {
	cx, cy := l.x[s], l.y[s]
	dx, dy := x-cx, y-cy
	if dx == 0 && dy == 0 {
		return cx, cy
	}
	hw, hh := l.w[s]/2, boxH/2
	t := math.Inf(1)
	if dx != 0 {
		t = hw / math.Abs(dx)
	}
	if dy != 0 {
		t = min(t, hh/math.Abs(dy))
	}
	return cx + dx*t, cy + dy*t
}

// state draws state i.
func (l *layout) state(b *bytes.Buffer, i int, s fsm.GraphState, current bool) {
	class := "state " + s.Kind.String()
	if s.Error {
		class += " error"
	}
	if current {
		class += " current"
	}
	if l.composite(i) {
		class += " composite"
	}
	x, y, w, h := l.x[i], l.y[i], l.w[i], boxH
	b.WriteString(`<g class="`)
	esc(b, class)
	b.WriteString(`" data-state="`)
	esc(b, s.Label)
	b.WriteString(`"><title>`)
	esc(b, l.stateTitle(i))
	b.WriteString(`</title>`)
	switch s.Kind {
	case states.Choice:
		fmt.Fprintf(b, `<polygon class="box" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`,
			x-w/2, y, x, y-h/2-6, x+w/2, y, x, y+h/2+6)
	default:
		fmt.Fprintf(b, `<rect class="box" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="8"/>`, x-w/2, y-h/2, w, h)
		if s.Kind == states.Final {
			fmt.Fprintf(b, `<rect class="inner" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="none"/>`, x-w/2+3, y-h/2+3, w-6, h-6)
		}
	}
	if s.Kind == states.Initial && !s.HasParent {
		fmt.Fprintf(b, `<circle class="start" cx="%.1f" cy="%.1f" r="5"/><path class="edge-line" d="M%.1f,%.1f L%.1f,%.1f" marker-end="url(#arrow)"/>`,
			x, y-h/2-24, x, y-h/2-19, x, y-h/2)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" class="label">`, x, y+4.5)
	esc(b, s.Label)
	b.WriteString(`</text></g>`)
}

// composite reports whether state i has children. The layout draws a
// composite state as a box of its own (dashed, see style.css), its
// children beside it; its tooltip names them, and theirs their parent.
func (l *layout) composite(i int) bool {
	for _, s := range l.g.States {
		if s.HasParent && s.Parent == i {
			return true
		}
	}
	return false
}

// stateTitle is state i's tooltip: its label, kind and actions, and its
// place in a hierarchy.
func (l *layout) stateTitle(i int) string {
	s := l.g.States[i]
	var t strings.Builder
	fmt.Fprintf(&t, "%s (%s)", s.Label, s.Kind)
	if s.HasParent {
		fmt.Fprintf(&t, " in %s", l.g.States[s.Parent].Label)
	}
	var children []string
	for _, c := range l.g.States {
		if c.HasParent && c.Parent == i {
			children = append(children, c.Label)
		}
	}
	if len(children) > 0 {
		fmt.Fprintf(&t, "\ncomposite of: %s", strings.Join(children, ", "))
	}
	if s.Error {
		t.WriteString(", the error state")
	}
	if s.Choice != "" {
		fmt.Fprintf(&t, "\nchoice: %s", s.Choice)
	}
	if len(s.Entry) > 0 {
		fmt.Fprintf(&t, "\nentry: %s", strings.Join(s.Entry, ", "))
	}
	if len(s.Exit) > 0 {
		fmt.Fprintf(&t, "\nexit: %s", strings.Join(s.Exit, ", "))
	}
	return t.String()
}

// esc writes s escaped for XML text and attribute values.
func esc(b *bytes.Buffer, s string) {
	xml.EscapeText(b, []byte(s)) //nolint:errcheck // a bytes.Buffer does not fail
}
