package breaker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

var errTest = errors.New("test failure")

// TestCountWindowMatchesTheLastOutcomesUnderConcurrentRecords checks the
// count window's invariant: once the records are done, its counts are
// those of the outcomes at the last size positions, whatever order the
// goroutines inserted them in.
func TestCountWindowMatchesTheLastOutcomesUnderConcurrentRecords(t *testing.T) {
	const size, goroutines, each = 37, 16, 500
	var pos atomic.Uint64
	w := newCountWindow(0, size, 0)
	var mu sync.Mutex
	outcomes := map[uint64][2]bool{} // position -> failure, slow
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			mine := map[uint64][2]bool{}
			for range each {
				failure, slow := r.IntN(3) == 0, r.IntN(4) == 0
				at := pos.Add(1) - 1
				if failure || slow {
					w.add(at, failure, slow)
				}
				mine[at] = [2]bool{failure, slow}
			}
			mu.Lock()
			for k, v := range mine {
				outcomes[k] = v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	total := pos.Load()
	var want tally
	for p := total - size; p < total; p++ {
		want.calls++
		want.failures += boolInt(outcomes[p][0])
		want.slows += boolInt(outcomes[p][1])
	}
	require.Equal(t, want, w.counts(total), "counts")
}

func TestCountWindowCountsFromItsStart(t *testing.T) {
	w := newCountWindow(3, 10, 100)
	w.add(99, true, false) // taken just before the period's entry action ran
	w.add(100, true, true)
	require.Equal(t, tally{calls: 1, failures: 1, slows: 1}, w.counts(101), "counts (clamped to calls)")
	require.Equal(t, tally{}, w.counts(100), "counts of an empty window")
}

func TestTimeWindowDropsWholeBuckets(t *testing.T) {
	origin := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newTimeWindow(0, 5, 10*time.Second, origin)
	w.add(origin.Add(500*time.Millisecond), true, false, false) // bucket 0: [0s, 1s)
	w.add(origin.Add(1500*time.Millisecond), true, true, false) // bucket 1
	at := func(d time.Duration) tally { return w.counts(origin.Add(d)) }
	require.Equal(t, tally{2, 2, 1}, at(9999*time.Millisecond), "at 9.999s")
	require.Equal(t, tally{1, 1, 1}, at(10*time.Second), "at 10s") // bucket 0 is ten buckets old
	require.Equal(t, tally{}, at(11*time.Second), "at 11s")
	// Count pushes outcomes out too, from the bucket they are in.
	for range 5 {
		w.add(origin.Add(2*time.Second), false, false, false)
	}
	require.Equal(t, tally{5, 0, 0}, at(2*time.Second), "after 5 more")
}

// TestBreakerUnderConcurrentCallsKeepsItsInvariants drives one breaker
// from many goroutines while the clock moves and the breaker is forced
// open and reset, under -race: half-open trials in flight never exceed
// HalfOpenMaxCalls, every trial slot is given back, and the window's
// counts stay within bounds. With a count-only window, once the calls
// have stopped, a closed breaker's window does not say open: every change
// of it that could trip a rule was judged.
func TestBreakerUnderConcurrentCallsKeepsItsInvariants(t *testing.T) {
	for _, c := range []struct {
		window time.Duration
		slow   bool // the slow-call rule is on (without it, successes take the lock-free path)
		tick   bool // the time window's bucket tick is on (see timeWindow)
	}{{CountOnly, true, false}, {CountOnly, false, false}, {time.Second, true, false}, {time.Second, false, true}} {
		t.Run(fmt.Sprintf("window=%v,slow=%v,tick=%v", c.window, c.slow, c.tick), func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			var bclk engine.Clock = clk
			if c.tick {
				bclk = &tickClock{Clock: clk}
			}
			cfg := Config{
				FailureThreshold: 8, WindowSize: 16, WindowDuration: c.window,
				FailureRateThreshold: 0.6, MinimumCalls: 8,
				SuccessThreshold: 3, HalfOpenMaxCalls: 2,
				OpenTimeout: 10 * time.Millisecond, OpenTimeoutMultiplier: 1.5, MaxOpenTimeout: 50 * time.Millisecond,
			}
			if c.slow {
				cfg.SlowCallDuration, cfg.SlowCallRateThreshold = time.Millisecond, 0.9
			}
			var transitions atomic.Int64
			count := func(from, to State) { transitions.Add(1) }
			cfg.OnOpen, cfg.OnClose, cfg.OnHalfOpen = count, count, count
			b, err := New(cfg, engine.WithClock(bclk))
			require.NoError(t, err)
			defer b.Close()

			var maxTrials, admitted, rejected, trialsRun atomic.Int64
			var trialsMu sync.Mutex
			trialsByGen := map[uint32]int{}
			stop := make(chan struct{})
			var drivers sync.WaitGroup
			drivers.Go(func() { // the clock, and now and then a manual control
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					clk.Advance(time.Millisecond)
					runtime.Gosched()
					switch i % 1000 {
					case 300:
						b.ForceOpen()
					case 600:
						b.Reset()
					case 900:
						b.ForceClosed()
					}
				}
			})
			var wg sync.WaitGroup
			for g := range 32 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 2))
					for range 300 {
						p, err := b.Allow()
						if err != nil {
							assert.ErrorIs(t, err, ErrOpen, "rejection")
							rejected.Add(1)
							_ = clk.Sleep(context.Background(), time.Millisecond) // back off on the clock
							continue
						}
						admitted.Add(1)
						// Trial slots are counted per half-open period (generation):
						// a trial admitted in an earlier period may still be running.
						trial := p.state == StateHalfOpen
						if trial {
							trialsRun.Add(1)
							trialsMu.Lock()
							trialsByGen[p.gen]++
							if n := trialsByGen[p.gen]; n > cfg.HalfOpenMaxCalls {
								maxTrials.Store(int64(n))
							}
							trialsMu.Unlock()
						}
						if r.IntN(5) == 0 { // a call that takes a while, perhaps slow
							_ = clk.Sleep(context.Background(), time.Duration(r.IntN(3))*time.Millisecond)
						}
						var outcome error
						switch r.IntN(4) {
						case 0:
							outcome = errTest
						case 1:
							outcome = context.Canceled
						}
						if trial {
							trialsMu.Lock()
							trialsByGen[p.gen]-- // before Done gives the slot back
							trialsMu.Unlock()
						}
						p.Done(outcome)
					}
				})
			}
			wg.Wait()
			close(stop)
			drivers.Wait()

			require.Zero(t, maxTrials.Load(), "trials of one half-open period in flight at once, beyond HalfOpenMaxCalls")
			m := b.Metrics()
			require.Zero(t, m.TrialsInFlight, "trial slots never given back")
			require.True(t, m.Calls >= 0 && m.Calls <= cfg.WindowSize && m.Failures <= m.Calls && m.SlowCalls <= m.Calls,
				"window counts out of bounds: %+v", m)
			if c.window == CountOnly && m.State == StateClosed {
				s := b.cfg
				if (s.failureThreshold > 0 && m.Failures >= s.failureThreshold) ||
					s.failureRateOver(tally{m.Calls, m.Failures, m.SlowCalls}) ||
					s.slowRateOver(tally{m.Calls, m.Failures, m.SlowCalls}) {
					require.FailNow(t, "closed while its window says open", "%+v", m)
				}
			}
			require.EqualValues(t, 32*300, admitted.Load()+rejected.Load(),
				"calls unaccounted for: %d admitted, %d rejected", admitted.Load(), rejected.Load())
			t.Logf("%d admitted (%d trials), %d rejected, %d state changes; %+v",
				admitted.Load(), trialsRun.Load(), rejected.Load(), transitions.Load(), m)
		})
	}
}

// TestBreakerJudgesItsRulesUnderConcurrentOutcomes records outcomes from
// many goroutines at once into a count-only window with the failure-rate
// rule (successes on the lock-free path), round after round: whenever the
// calls stop, a closed breaker's window does not say open. Each round
// records MinimumCalls outcomes, so that the last of them, often a
// success, brings the window to MinimumCalls; it races the failures
// before it, and whichever of them is judged last sees them all.
func TestBreakerJudgesItsRulesUnderConcurrentOutcomes(t *testing.T) {
	cfg := Config{FailureThreshold: -1, FailureRateThreshold: 0.5, WindowSize: 64, MinimumCalls: 32,
		WindowDuration: CountOnly}
	b, err := New(cfg, engine.WithClock(enginetest.NewClock(time.Time{})))
	require.NoError(t, err)
	defer b.Close()
	opened := 0
	for round := range 200 {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for range 4 { // 8 goroutines: 32 outcomes
					p, err := b.Allow()
					if err != nil {
						return
					}
					if r.IntN(2) == 0 {
						p.Done(errTest)
					} else {
						p.Done(nil)
					}
				}
			})
		}
		wg.Wait()
		m := b.Metrics()
		if m.State == StateOpen {
			opened++
		}
		require.False(t, m.State == StateClosed && b.cfg.failureRateOver(tally{m.Calls, m.Failures, m.SlowCalls}),
			"round %d: closed while its window says open: %+v", round, m)
		b.Reset()
	}
	t.Logf("opened in %d of 200 rounds", opened)
}
