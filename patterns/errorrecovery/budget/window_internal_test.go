package budget

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// sum adds up what ages reads, for any slice and any mix of current,
// stale and newer slots: the two must never disagree, since within uses
// the one and slicesUntilWithin the other.
func TestCounterSumIsTheSumOfItsAges(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 0))
	for round := range 2000 {
		var c counter
		last := r.Int64N(40)
		for range r.IntN(60) {
			c.add(r.Int64N(last + 1))
		}
		idx := r.Int64N(last + 5)
		var want int64
		for _, n := range c.ages(idx) {
			want += n
		}
		require.Equal(t, want, c.sum(idx), "seed %d, round %d: slice %d", seed, round, idx)
	}
}
