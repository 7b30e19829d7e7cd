package engine_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// TestHierarchyEntryExitOrderBetweenEveryPairOfLeaves moves a three-level
// machine, P { A { A1, A2 }, B { B1, B2 } } and Q, between every pair of
// its leaves (each leaf has "to X" for every leaf X) and checks the
// actions against the rule worked out here from ancestor lists: exit from
// the source up to below the innermost state strictly containing both
// ends, then enter down to the target, outermost first.
func TestHierarchyEntryExitOrderBetweenEveryPairOfLeaves(t *testing.T) {
	parent := map[string]string{"A": "P", "B": "P", "A1": "A", "A2": "A", "B1": "B", "B2": "B"}
	leaves := []string{"A1", "A2", "B1", "B2", "Q"}
	// up lists s and its ancestors, innermost first.
	up := func(s string) []string {
		var out []string
		for ; s != ""; s = parent[s] {
			out = append(out, s)
		}
		return out
	}
	b := fsm.New[string, string, []string]("pairs")
	hstate(b, "P", states.Initial, "")
	hstate(b, "A", states.Initial, "P")
	hstate(b, "A1", states.Initial, "A")
	hstate(b, "A2", states.Normal, "A")
	hstate(b, "B", states.Normal, "P")
	hstate(b, "B1", states.Initial, "B")
	hstate(b, "B2", states.Normal, "B")
	hstate(b, "Q", states.Normal, "")
	for _, from := range leaves {
		for _, to := range leaves {
			b.On(from, "to "+to, to)
		}
	}
	def, err := b.Build()
	require.NoError(t, err)

	for _, from := range leaves {
		for _, to := range leaves {
			// The domain: the innermost proper ancestor of from that
			// is also a proper ancestor of to.
			upFrom, upTo := up(from), up(to)
			domain := ""
			for _, a := range upFrom[1:] {
				if slices.Contains(upTo[1:], a) {
					domain = a
					break
				}
			}
			var want []string
			for _, s := range upFrom {
				if s == domain {
					break
				}
				want = append(want, "exit "+s)
			}
			var enter []string
			for _, s := range upTo {
				if s == domain {
					break
				}
				enter = append(enter, "enter "+s)
			}
			slices.Reverse(enter)
			want = append(want, enter...)

			for name, d := range hdrivers(t, def) {
				if from != "A1" {
					_, err := d.fire("to " + from)
					require.NoError(t, err)
				}
				d.take()
				res, err := d.fire("to " + to)
				require.NoError(t, err, "%s: %s to %s", name, from, to)
				require.Equal(t, to, res.To)
				if diff := cmp.Diff(want, d.take()); diff != "" {
					t.Errorf("%s: %s to %s (-want +got):\n%s", name, from, to, diff)
				}
				d.close()
			}
		}
	}
}
