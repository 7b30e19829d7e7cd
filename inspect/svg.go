package inspect

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"slices"
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

// layout places a graph's states: ranks by breadth-first distance from
// the initial state along the edges (states it cannot reach go in a last
// rank), one row per rank, and within a row, in the order of the mean
// position of their predecessors in the rows above, then of declaration.
// The same graph always gets the same layout.
type layout struct {
	g     fsm.Graph
	rank  []int
	x, y  []float64 // centre of each state's box
	w     []float64 // width of each state's box
	width float64
	hgt   float64
}

func newLayout(g fsm.Graph) *layout {
	n := len(g.States)
	l := &layout{g: g, rank: make([]int, n), x: make([]float64, n), y: make([]float64, n), w: make([]float64, n)}
	start := 0
	for i, s := range g.States {
		if s.Kind == states.Initial {
			start = i
			break
		}
	}
	for i := range l.rank {
		l.rank[i] = -1
	}
	out := make([][]int, n)
	for _, e := range g.Edges {
		if e.From != e.To {
			out[e.From] = append(out[e.From], e.To)
		}
	}
	maxRank := 0
	if n > 0 {
		l.rank[start] = 0
		queue := []int{start}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, t := range out[s] {
				if l.rank[t] < 0 {
					l.rank[t] = l.rank[s] + 1
					maxRank = max(maxRank, l.rank[t])
					queue = append(queue, t)
				}
			}
		}
	}
	unreached := false
	for i := range l.rank {
		if l.rank[i] < 0 {
			l.rank[i], unreached = maxRank+1, true
		}
	}
	if unreached {
		maxRank++
	}
	rows := make([][]int, maxRank+1)
	for i := range n {
		rows[l.rank[i]] = append(rows[l.rank[i]], i)
		l.w[i] = boxWidth(g.States[i])
	}
	rowW := make([]float64, len(rows))
	for r, row := range rows {
		for _, s := range row {
			rowW[r] += l.w[s] + gapX
		}
		rowW[r] -= gapX
		l.width = max(l.width, rowW[r])
	}
	// Each row is ordered by the mean x of its predecessors placed so far.
	for r, row := range rows {
		if r > 0 {
			key := make(map[int]float64, len(row))
			for _, s := range row {
				sum, k := 0.0, 0
				for _, e := range g.Edges {
					if e.To == s && l.rank[e.From] < r {
						sum += l.x[e.From]
						k++
					}
				}
				key[s] = math.Inf(1)
				if k > 0 {
					key[s] = sum / float64(k)
				}
			}
			slices.SortStableFunc(row, func(a, b int) int {
				switch {
				case key[a] < key[b]:
					return -1
				case key[a] > key[b]:
					return 1
				}
				return a - b
			})
		}
		x := margin + (l.width-rowW[r])/2
		for _, s := range row {
			l.x[s] = x + l.w[s]/2
			l.y[s] = margin + 24 + float64(r)*(boxH+gapY) + boxH/2
			x += l.w[s] + gapX
		}
	}
	l.width += 2*margin + 4*bendX // room for edges bent to the sides
	l.hgt = margin*2 + 24 + float64(len(rows))*(boxH+gapY) - gapY
	return l
}

func boxWidth(s fsm.GraphState) float64 {
	w := max(minBoxW, float64(len([]rune(s.Label)))*charW+2*boxPad)
	if s.Kind == states.Choice {
		w += 2 * boxPad // the diamond's points
	}
	return w
}

// drawSVG draws g as a standalone SVG document: each state a box (a
// diamond for a choice state, a double border for a final one, a dot and
// an arrow into the initial one, a red border for the error state), each
// edge an arrow labelled "event [guard] / action", highlight's state
// filled, and each edge's count from visits after its label, visited
// edges drawn thicker. Every label is escaped. States carry
// data-state="label" and edge counts data-edge="index", so a page can
// update them in place.
func drawSVG(g fsm.Graph, highlight string, visits map[int]int) []byte {
	l := newLayout(g)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="monospace" font-size="%d">`,
		l.width, l.hgt, l.width, l.hgt, fontSize)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`)
	b.WriteString(`<title>`)
	esc(&b, g.Name)
	b.WriteString(`</title>`)

	most := 0
	for _, n := range visits {
		most = max(most, n)
	}
	// Edges between the same two states bend apart.
	pairs := map[[2]int]int{}
	for i, e := range g.Edges {
		key := [2]int{min(e.From, e.To), max(e.From, e.To)}
		k := pairs[key]
		pairs[key]++
		l.edge(&b, i, e, k, visits[i], most)
	}
	for i, s := range g.States {
		l.state(&b, i, s, s.Label == highlight && highlight != "")
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// edge draws edge i, the k-th between its two states, taken n times of
// the most any edge was.
func (l *layout) edge(b *bytes.Buffer, i int, e fsm.GraphEdge, k, n, most int) {
	class := "edge"
	width := 1.2
	if n > 0 {
		class += " visited"
		width += 3 * float64(n) / float64(most)
	}
	if e.Delayed {
		class += " delayed"
	}
	var d string
	var lx, ly float64
	if e.From == e.To {
		// A loop on the box's right side.
		x, y := l.x[e.From]+l.w[e.From]/2, l.y[e.From]
		r := 18 + float64(k)*12
		d = fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x, y-8, x+r*2, y-r*1.6, x+r*2, y+r*1.6, x, y+8)
		lx, ly = x+r*1.5+4, y-r*0.9
	} else {
		x0, y0, x1, y1 := l.x[e.From], l.y[e.From], l.x[e.To], l.y[e.To]
		mx, my := (x0+x1)/2, (y0+y1)/2
		dx, dy := x1-x0, y1-y0
		dist := math.Hypot(dx, dy)
		nx, ny := -dy/dist, dx/dist // the normal
		// Forward edges go straight when they are the first; others, and
		// edges back up or along a rank, bend, each further than the last.
		off := 0.0
		switch {
		case l.rank[e.To] > l.rank[e.From]:
			off = float64((k+1)/2) * bendX
			if k%2 == 1 {
				off = -off
			}
		default:
			off = bendX * float64(k+1)
			if l.rank[e.To] == l.rank[e.From] {
				off += bendX
			}
		}
		cx, cy := mx+nx*off*2, my+ny*off*2 // the curve passes through mid + off
		sx, sy := l.clip(e.From, cx, cy)
		tx, ty := l.clip(e.To, cx, cy)
		d = fmt.Sprintf("M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f", sx, sy, cx, cy, tx, ty)
		lx, ly = 0.25*sx+0.5*cx+0.25*tx+4, 0.25*sy+0.5*cy+0.25*ty-4
	}
	fmt.Fprintf(b, `<g class="%s" data-edge-path="%d"><path d="%s" stroke-width="%.1f" fill="none" marker-end="url(#arrow)"/>`, class, i, d, width)
	label := e.Label()
	b.WriteString(`<title>`)
	esc(b, label)
	b.WriteString(`</title>`)
	if r := []rune(label); len(r) > maxLabel {
		label = string(r[:maxLabel-1]) + "…"
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" class="edge-label">`, lx, ly)
	esc(b, label)
	fmt.Fprintf(b, `<tspan class="count" data-edge="%d">`, i)
	if n > 0 {
		fmt.Fprintf(b, " ×%d", n)
	}
	b.WriteString(`</tspan></text></g>`)
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
	x, y, w, h := l.x[i], l.y[i], l.w[i], boxH
	b.WriteString(`<g class="`)
	esc(b, class)
	b.WriteString(`" data-state="`)
	esc(b, s.Label)
	b.WriteString(`"><title>`)
	esc(b, stateTitle(s))
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
	if s.Kind == states.Initial {
		fmt.Fprintf(b, `<circle class="start" cx="%.1f" cy="%.1f" r="5"/><path class="edge-line" d="M%.1f,%.1f L%.1f,%.1f" marker-end="url(#arrow)"/>`,
			x, y-h/2-24, x, y-h/2-19, x, y-h/2)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" class="label">`, x, y+4.5)
	esc(b, s.Label)
	b.WriteString(`</text></g>`)
}

// stateTitle is a state's tooltip: its label, kind and actions.
func stateTitle(s fsm.GraphState) string {
	var t strings.Builder
	fmt.Fprintf(&t, "%s (%s)", s.Label, s.Kind)
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
