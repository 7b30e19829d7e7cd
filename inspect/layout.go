package inspect

import (
	"math"
	"slices"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// layout places a graph's states: ranks by breadth-first distance from
// the initial state along the edges (states it cannot reach go in a last
// rank), one row per rank, and within a row, in the order of the mean
// position of their predecessors in the rows above, then of declaration.
// The same graph always gets the same layout.
type layout struct {
	g    fsm.Graph
	rank []int
	x, y []float64 // centre of each state's box
	w    []float64 // width of each state's box
	// The extent of what is drawn so far, to size the canvas: nodes, then
	// arrows and their labels.
	minX, maxX, minY, maxY float64
	bent                   int    // arrows bent out to the right so far
	taken                  []rect // the states' boxes and the labels placed so far
}

func newLayout(g fsm.Graph) *layout {
	n := len(g.States)
	l := &layout{g: g, rank: make([]int, n), x: make([]float64, n), y: make([]float64, n), w: make([]float64, n)}
	start := 0
	for i, s := range g.States {
		if s.Kind == states.Initial && !s.HasParent {
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
	widest := 0.0
	for r, row := range rows {
		for _, s := range row {
			rowW[r] += l.w[s] + gapX
		}
		rowW[r] -= gapX
		widest = max(widest, rowW[r])
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
		x := margin + (widest-rowW[r])/2
		for _, s := range row {
			l.x[s] = x + l.w[s]/2
			l.y[s] = margin + 24 + float64(r)*(boxH+gapY) + boxH/2
			x += l.w[s] + gapX
		}
	}
	l.minX, l.maxX, l.minY = margin, margin+widest, margin
	for s := range n {
		l.taken = append(l.taken, rect{l.x[s] - l.w[s]/2 - 4, l.y[s] - boxH/2 - 2, l.x[s] + l.w[s]/2 + 4, l.y[s] + boxH/2 + 2})
	}
	l.maxY = margin + 24 + float64(len(rows))*(boxH+gapY) - gapY
	return l
}

func boxWidth(s fsm.GraphState) float64 {
	w := max(minBoxW, float64(len([]rune(s.Label)))*charW+2*boxPad)
	if s.Kind == states.Choice {
		w += 2 * boxPad // the diamond's points
	}
	return w
}

// rect is an area of the drawing.
type rect struct{ x0, y0, x1, y1 float64 }

// collides reports whether r overlaps an area already taken.
func (l *layout) collides(r rect) bool {
	for _, t := range l.taken {
		if r.x0 < t.x1 && t.x0 < r.x1 && r.y0 < t.y1 && t.y0 < r.y1 {
			return true
		}
	}
	return false
}
