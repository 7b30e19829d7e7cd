package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// randomHier is a random hierarchical machine: states s0..sn-1 where each
// state's parent, if any, comes before it; the first child of each
// composite is its initial child; random unguarded transitions on events
// e0..e3; and "reset" from every top-level state to s0, so no leaf is a
// dead end.
type randomHier struct {
	n      int
	parent []int // -1 for top-level
	trans  map[[2]int]int
}

func newRandomHier(r *rand.Rand) *randomHier {
	h := &randomHier{n: 3 + r.IntN(8), trans: map[[2]int]int{}}
	h.parent = make([]int, h.n)
	for i := range h.parent {
		h.parent[i] = -1
		if i > 0 && r.IntN(3) > 0 {
			h.parent[i] = r.IntN(i)
		}
	}
	for range 2 * h.n {
		h.trans[[2]int{r.IntN(h.n), r.IntN(4)}] = r.IntN(h.n)
	}
	return h
}

func (h *randomHier) children(p int) (out []int) {
	for i, q := range h.parent {
		if q == p {
			out = append(out, i)
		}
	}
	return out
}

func (h *randomHier) drill(s int) int {
	for c := h.children(s); len(c) > 0; c = h.children(s) {
		s = c[0]
	}
	return s
}

func name(i int) string { return fmt.Sprintf("s%d", i) }

func (h *randomHier) build() *fsm.Definition[string, string, int] {
	b := fsm.New[string, string, int]("random").AllowUnreachable()
	declare(h, b, nil)
	return b.MustBuild()
}

// declare adds h's states and transitions to b, handing each state's
// spec to with, when it is not nil, to add to it.
func declare[D any](h *randomHier, b *fsm.Builder[string, string, D], with func(i int, s *states.Spec[string, string, D])) {
	for i := range h.n {
		kind := states.Normal
		if i == 0 || h.parent[i] >= 0 && h.children(h.parent[i])[0] == i {
			kind = states.Initial
		}
		s := b.State(name(i), kind)
		if h.parent[i] >= 0 {
			s.In(name(h.parent[i]))
		}
		if with != nil {
			with(i, s)
		}
	}
	for i := range h.n {
		for e := range 4 {
			if to, ok := h.trans[[2]int{i, e}]; ok {
				b.On(name(i), fmt.Sprintf("e%d", e), name(to))
			}
		}
		if h.parent[i] < 0 {
			b.On(name(i), "reset", "s0")
		}
	}
}

// flatten is the flat machine with the same leaf behaviour, worked out
// from the rules directly: a leaf's transition on e is its innermost
// ancestor-or-self's, and a target is entered at its initial leaf.
func (h *randomHier) flatten() *fsm.Definition[string, string, int] {
	b := fsm.New[string, string, int]("flat").AllowUnreachable()
	start := h.drill(0)
	for i := range h.n {
		if len(h.children(i)) > 0 {
			continue
		}
		kind := states.Normal
		if i == start {
			kind = states.Initial
		}
		b.State(name(i), kind)
		for _, e := range []string{"e0", "e1", "e2", "e3", "reset"} {
			for a := i; a >= 0; a = h.parent[a] {
				var k int
				fmt.Sscanf(e, "e%d", &k)
				if to, ok := h.trans[[2]int{a, k}]; ok && e != "reset" {
					b.On(name(i), e, name(h.drill(to)))
					break
				}
				if e == "reset" && h.parent[a] < 0 {
					b.On(name(i), e, name(h.drill(0)))
					break
				}
			}
		}
	}
	return b.MustBuild()
}

func TestHierarchyMatchesItsFlattening(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 1))
	events := []string{"e0", "e1", "e2", "e3", "reset"}
	for m := range 200 {
		h := newRandomHier(r)
		hi, err := engine.NewInstance(h.build(), 0)
		require.NoError(t, err)
		fl, err := engine.NewInstance(h.flatten(), 0)
		require.NoError(t, err)
		run, err := engine.NewRunner(h.build()).Start(context.Background(), 0)
		require.NoError(t, err)
		require.Equal(t, fl.State(), hi.State(), "machine %d: start", m)
		for k := range 30 {
			e := events[r.IntN(len(events))]
			want, ferr := fl.Fire(context.Background(), e)
			got, herr := hi.Fire(context.Background(), e)
			rgot, rerr := run.Fire(context.Background(), e)
			require.Equal(t, ferr == nil, herr == nil, "machine %d (%+v) step %d event %s: errors %v and %v", m, h, k, e, ferr, herr)
			require.Equal(t, herr == nil, rerr == nil, "machine %d step %d: Run error %v", m, k, rerr)
			assert.Equal(t, want.To, got.To, "machine %d (%+v) step %d event %s", m, h, k, e)
			assert.Equal(t, want.From, got.From, "machine %d (%+v) step %d event %s: the leaf left", m, h, k, e)
			assert.Equal(t, got, rgot, "machine %d step %d: Run and Instance", m, k)
			require.Equal(t, fl.State(), hi.State())
		}
		run.Release()
		hi.Close()
		fl.Close()
	}
}
