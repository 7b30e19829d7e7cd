package breaker

import (
	"fmt"
	"github.com/statecraft/statecraft/internal/testutil"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// tickClock is a manual clock that asks for the bucket tick, as the real
// clock gets it, and counts its reads.
type tickClock struct {
	*enginetest.Clock
	reads atomic.Int64
}

func (c *tickClock) bucketTick() {}

func (c *tickClock) Now() time.Time {
	c.reads.Add(1)
	return c.Clock.Now()
}

var tickStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func newTickBreaker(t *testing.T, cfg Config, ticking bool) (*Breaker, *tickClock) {
	t.Helper()
	clk := &tickClock{Clock: enginetest.NewClock(tickStart)}
	var c engine.Clock = clk.Clock
	if ticking {
		c = clk
	}
	b, err := New(cfg, engine.WithClock(c))
	require.NoError(t, err)
	t.Cleanup(b.Close)
	require.Equal(t, ticking, b.timedWin.Load().tick, "bucket tick on")
	return b, clk
}

func done(t *testing.T, b *Breaker, err error) {
	t.Helper()
	p, aerr := b.Allow()
	require.NoError(t, aerr)
	p.Done(err)
}

func TestBucketTickReadsTheClockOncePerBucket(t *testing.T) {
	cfg := Config{WindowSize: 1000, WindowDuration: 10 * time.Second, FailureThreshold: 1000}
	b, clk := newTickBreaker(t, cfg, true)

	clk.reads.Store(0)
	for range 100 {
		done(t, b, nil)
	}
	assert.LessOrEqual(t, clk.reads.Load(), int64(1), "clock reads for 100 successes in one bucket")
	assert.Equal(t, 1, clk.Pending(), "timers pending: the bucket's end")

	clk.Advance(999 * time.Millisecond) // still bucket 0
	clk.reads.Store(0)
	done(t, b, nil)
	assert.Zero(t, clk.reads.Load(), "clock reads within the bucket")

	clk.Advance(time.Millisecond) // exactly the end of bucket 0: its timer runs
	assert.Zero(t, clk.Pending(), "timers pending once the bucket ended, with no outcome since")
	for range 100 {
		done(t, b, nil)
	}
	assert.Equal(t, int64(1), clk.reads.Load(), "clock reads for 100 successes in the next bucket")
	assert.Equal(t, 201, b.Metrics().Calls)

	clk.Advance(9 * time.Second) // bucket 0 is ten buckets old at 10s
	assert.Equal(t, 100, b.Metrics().Calls, "calls once the first bucket is ten buckets old")

	b.Close()
	assert.Zero(t, clk.Pending(), "timers pending after Close")
}

// TestBucketTickChangesNothingThatCounts plays the same scripts of
// outcomes and clock moves, many landing on bucket boundaries, on a
// breaker that reads the clock for every outcome and on one with the
// bucket tick, and wants the same state and counts after every step: with
// only the failure-count rule, and with the rate rules, whose successes
// are judged in the bucket the tick gives them.
func TestBucketTickChangesNothingThatCounts(t *testing.T) {
	const width = time.Second
	moves := []time.Duration{0, 0, 0, time.Nanosecond, width - time.Nanosecond, width, 3*width + 7*time.Millisecond, 10 * width, 9 * width}
	configs := map[string]Config{
		"failure count": {WindowSize: 8, WindowDuration: 10 * width, FailureThreshold: 4, OpenTimeout: 3 * width},
		"rates": {WindowSize: 20, WindowDuration: 10 * width, FailureThreshold: -1, // the count rule off
			FailureRateThreshold: 0.5, MinimumCalls: 4, OpenTimeout: 2 * width, SuccessThreshold: 1},
	}
	type snapshot struct {
		State           State
		Calls, Failures int
	}
	for name, cfg := range configs {
		var notClosed, dropped int // steps the scripts spent open or half-open, and with outcomes aged out
		for seed := range uint64(20) {
			t.Run(fmt.Sprintf("%s/seed=%d", name, seed), func(t *testing.T) {
				plain, plainClk := newTickBreaker(t, cfg, false)
				ticked, tickClk := newTickBreaker(t, cfg, true)
				r := rand.New(rand.NewPCG(seed, 18))
				for step := range 300 {
					var err error
					if r.IntN(3) == 0 {
						err = errTest
					}
					var got [2]snapshot
					for i, b := range []*Breaker{plain, ticked} {
						if p, aerr := b.Allow(); aerr == nil {
							p.Done(err)
						}
						m := b.Metrics()
						got[i] = snapshot{m.State, m.Calls, m.Failures}
					}
					if got[0].State != StateClosed {
						notClosed++
					}
					before := got[0].Calls
					if diff := cmp.Diff(got[0], got[1]); diff != "" {
						t.Fatalf("step %d (%v at %v): ticked breaker differs (-plain +ticked):\n%s",
							step, err, plainClk.Now().Sub(tickStart), diff)
					}
					d := moves[r.IntN(len(moves))]
					plainClk.Advance(d)
					tickClk.Advance(d)
					if plain.State() == StateClosed && plain.Metrics().Calls < before {
						dropped++
					}
				}
			})
		}
		// The scripts must reach what they are for.
		assert.NotZero(t, notClosed, "%s: steps not closed", name)
		assert.NotZero(t, dropped, "%s: moves that aged outcomes out", name)
		t.Logf("%s: %d steps not closed, %d moves aged outcomes out", name, notClosed, dropped)
	}
}

func TestBucketTickAllocatesNothingWithinABucket(t *testing.T) {
	b, _ := newTickBreaker(t, Config{WindowDuration: time.Minute, FailureRateThreshold: 0.5}, true)
	testutil.WantAllocs(t, 0, "Allow+Done(nil) with a time window", func() {
		p, _ := b.Allow()
		p.Done(nil)
	})
}

// TestBucketTickOnTheRealClockInsideSynctest runs the tick on the real
// clock (time.AfterFunc), in a bubble whose time moves only when every
// goroutine waits: outcomes leave the window when their bucket is ten
// buckets old, not before. (An outcome at the very instant a bucket ends
// may be stamped with the bucket just ended, when the timer's goroutine
// has not run yet, as timeWindow says; the outcomes here are inside their
// buckets.)
func TestBucketTickOnTheRealClockInsideSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := New(Config{WindowSize: 100, WindowDuration: 10 * time.Second, FailureThreshold: 50})
		require.NoError(t, err)
		defer b.Close()
		require.True(t, b.timedWin.Load().tick, "bucket tick on the real clock")
		for range 3 {
			done(t, b, nil)
		}
		done(t, b, errTest)
		time.Sleep(1500 * time.Millisecond) // bucket 1
		done(t, b, nil)
		assert.Equal(t, 5, b.Metrics().Calls)
		time.Sleep(8500*time.Millisecond - time.Nanosecond)
		assert.Equal(t, 5, b.Metrics().Calls, "just before the first bucket is ten buckets old")
		time.Sleep(time.Nanosecond)
		m := b.Metrics()
		assert.Equal(t, 1, m.Calls, "once the first bucket is ten buckets old")
		assert.Zero(t, m.Failures)
		time.Sleep(time.Second)
		assert.Zero(t, b.Metrics().Calls, "once the second bucket is ten buckets old")
	})
}
