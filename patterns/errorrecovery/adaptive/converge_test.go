package adaptive_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

// The dependency's capacity falls from 40 calls to 10 (its latency under
// the same load rises fourfold) and comes back. Within 2 s of each change
// (20 windows of 100ms), and from then on outside the probes, the limit
// stays between the capacity and the capacity plus 12: the calls the
// dependency serves at its base latency, plus the short queue the rule
// keeps there (at most beta, 6×log10(limit) calls: 12 at a limit of 100).
func TestLimitFollowsLatencyDownAndBackUp(t *testing.T) {
	d := newDependency(t, adaptive.Config{Window: 100 * time.Millisecond}, 10*time.Millisecond, 40, 200)
	for _, capacity := range []int{40, 10, 40, 10} {
		d.capacity = capacity
		settling := d.run(2 * time.Second)
		require.NotEmpty(t, settling)
		lo, hi := minMax(d.run(10 * time.Second))
		assert.GreaterOrEqual(t, lo, capacity, "capacity %d: lowest limit", capacity)
		assert.LessOrEqual(t, hi, capacity+12, "capacity %d: highest limit", capacity)
	}
	m := d.l.Metrics()
	assert.Equal(t, 10*time.Millisecond, m.Baseline)
	assert.NotZero(t, m.Rejected)
}

// The dependency slows down for good, under any load: 10ms becomes 40ms.
// The limit first backs off, taking the slowdown for a queue, until the
// next probe measures the new baseline; then it returns to within the
// same bounds as above, within two probe periods.
func TestLimitRecoversFromAPermanentSlowdownAtTheNextProbe(t *testing.T) {
	d := newDependency(t, adaptive.Config{Window: 100 * time.Millisecond, ProbeEvery: 20}, 10*time.Millisecond, 40, 200)
	d.run(3 * time.Second)
	before := d.l.Limit()
	require.GreaterOrEqual(t, before, 40)

	d.base = 40 * time.Millisecond
	backing := d.run(time.Second)
	lo, _ := minMax(backing)
	assert.Less(t, lo, before/2, "backs off while the baseline is the old one")

	d.run(4 * time.Second) // two probe periods of 20 windows
	lo, hi := minMax(d.run(5 * time.Second))
	assert.GreaterOrEqual(t, lo, 40)
	assert.LessOrEqual(t, hi, 40+12)
	assert.Equal(t, 40*time.Millisecond, d.l.Metrics().Baseline)
}

// A seeded loop of random configs and random latencies, sudden or
// gradual, with random demand: the limit in force, read at every tick
// and in every step of the machine, never leaves [MinLimit, MaxLimit],
// and no more calls are admitted than it allows.
func TestLimitStaysWithinFloorAndCeiling(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 20))
	closedIn := 0 // rounds in which some window closed
	for round := range 40 {
		floor := 1 + rng.IntN(20)
		ceiling := floor + rng.IntN(200)
		cfg := adaptive.Config{
			MinLimit:     floor,
			MaxLimit:     ceiling,
			InitialLimit: floor + rng.IntN(ceiling-floor+1),
			Smoothing:    0.05 + 0.95*rng.Float64(),
			Window:       time.Duration(1+rng.IntN(200)) * time.Millisecond,
			MinSamples:   1 + rng.IntN(30),
			ProbeEvery:   rng.IntN(30) - 5,
		}
		clock := enginetest.NewClock(time.Time{})
		var steps int
		var l *adaptive.Limiter
		obs := engine.ObserverFunc(func(engine.Record) {
			steps++
			if n := l.Limit(); n < floor || n > ceiling {
				t.Errorf("round %d %+v: limit %d in a step", round, cfg, n)
			}
		})
		l, err := adaptive.New(cfg, engine.WithClock(clock), engine.WithObserver(obs))
		require.NoError(t, err)
		var calls []pending
		for range 3000 {
			clock.Advance(tick)
			now := clock.Now()
			kept := calls[:0]
			for _, c := range calls {
				if c.end.After(now) {
					kept = append(kept, c)
				} else if rng.IntN(10) == 0 {
					c.p.Drop()
				} else {
					c.p.Done(nil)
				}
			}
			calls = kept
			for range rng.IntN(2 * ceiling) {
				p, err := l.Acquire()
				if err != nil {
					break
				}
				lat := time.Duration(1+rng.IntN(1+rng.IntN(500))) * time.Millisecond
				calls = append(calls, pending{end: now.Add(lat), p: p})
			}
			if n := l.Limit(); n < floor || n > ceiling {
				t.Fatalf("round %d %+v: limit %d", round, cfg, n)
			}
			if len(calls) > ceiling {
				t.Fatalf("round %d: %d calls in flight over the ceiling %d", round, len(calls), ceiling)
			}
		}
		if steps > 0 {
			closedIn++
		}
	}
	// Not every round closes a window: one whose ceiling is too low to
	// gather MinSamples outcomes in a Window (MaxLimit 1 with MinSamples
	// 18 in 70 ms, at a latency of about 125 ms) rightly closes none, and
	// its limit cannot move. Most rounds must, or the checks above were
	// made on limits that never moved.
	assert.GreaterOrEqual(t, closedIn, 30, "rounds of 40 in which some window closed")
}
