package errorrecovery_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// chaosRounds is how many executions each of the chaos test's goroutines
// makes: a few seconds' worth under -race by default, more in make soak.
var chaosRounds = flag.Int("chaos.rounds", 25, "executions per goroutine in TestChaosOfTheFullWorkflow (make soak raises it)")

// chaosSeed seeds the chaos test's goroutines; zero means a new seed each
// run, which the test logs so that a failure can be replayed (as far as
// the Go scheduler allows).
var chaosSeed = flag.Uint64("chaos.seed", 0, "seed of TestChaosOfTheFullWorkflow; 0 means a fresh one")

// chaosKey is the context key of the cache key a chaos caller asks for.
type chaosKey struct{}

// The chaos test's limits, on the manual clock.
const (
	chaosGoroutines = 200
	chaosTTL        = 50 * time.Millisecond
	chaosGlobal     = 200 * time.Millisecond
	chaosSlowest    = 60 * time.Millisecond // a function that ignores its context
	// chaosBound is the longest an execution may take: a follower waits
	// for its leader's whole execution, then runs its own.
	chaosBound = 2 * (chaosGlobal + chaosSlowest)
)

var errChaosPermanent = errors.New("chaos: permanent")

// chaosTally is what the callers saw, to hold the workflows' metrics to.
type chaosTally struct {
	calls      atomic.Int64 // functions called
	executions atomic.Int64 // Execute calls that returned or panicked
	failed     atomic.Int64 // of which returned an error or panicked
	served     atomic.Int64 // of which a fallback or a stale entry answered
}

// TestChaosOfTheFullWorkflow hammers two workflows that share one breaker
// and one bulkhead, one with a coalescing cache and cooperative deadlines,
// one walking away at its deadlines, from 200 goroutines with random
// outcomes, panics, cancellations and slow functions, on a manual clock
// that advances only when every goroutine is blocked (a synctest bubble).
// It checks what issue 14 asks: no execution hangs or outlives its bound;
// afterwards the bulkhead is empty and reacquirable and the breaker admits
// once the dependency is healthy; no goroutine leaks; the metrics add up;
// no answer labelled a cache hit is older than the TTL; no value comes with
// an error but the last result of an *ExhaustedError.
func TestChaosOfTheFullWorkflow(t *testing.T) {
	seed := *chaosSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -chaos.seed=%d)", seed, seed)
	synctest.Test(t, func(t *testing.T) {
		clk := enginetest.NewClock(time.Time{})
		start := clk.Now()
		breakerCfg := breaker.DefaultConfig()
		breakerCfg.FailureThreshold, breakerCfg.WindowDuration, breakerCfg.OpenTimeout = 7, breaker.CountOnly, 20*time.Millisecond
		br, err := breaker.New(breakerCfg, engine.WithClock(clk))
		require.NoError(t, err)
		defer br.Close()
		bulkheadCfg := bulkhead.Config{MaxConcurrent: 16, MaxQueueSize: 32, QueueTimeout: 20 * time.Millisecond}
		bh, err := bulkhead.New(bulkheadCfg, engine.WithClock(clk))
		require.NoError(t, err)
		defer bh.Close(context.Background())

		retry := er.DefaultRetryConfig[int64]()
		retry.MaxAttempts, retry.InitialDelay, retry.MaxDelay = 3, 5*time.Millisecond, 40*time.Millisecond
		retry.PermanentOn = []er.ErrorMatcher{er.ErrorIs(errChaosPermanent)}
		var flip atomic.Int64
		fallback := &er.FallbackConfig[int64]{Func: func(err error) (int64, error) {
			if flip.Add(1)%2 == 0 {
				return -1, nil // fallback answers are negative
			}
			return 0, errors.New("chaos: no fallback this time")
		}}
		cc := cache.Config{TTL: chaosTTL, MaxEntries: 64, // stale on error and coalescing: the defaults
			Key: func(ctx context.Context) string { k, _ := ctx.Value(chaosKey{}).(string); return k }}
		all := []er.Strategy{er.StrategyBulkhead, er.StrategyDeadline, er.StrategyCircuitBreaker, er.StrategyFallback}
		cooperative := mustWorkflow(t, er.ErrorRecoveryConfig[int64]{Name: "cooperative",
			Primary: er.StrategyRetry, Secondary: append(all, er.StrategyCache), Retry: &retry, SharedBreaker: br, SharedBulkhead: bh,
			Cache: &cc, Fallback: fallback, GlobalTimeout: chaosGlobal,
			Deadline: &er.DeadlineConfig{AttemptTimeout: 40 * time.Millisecond}}, engine.WithClock(clk), engine.WithRandom(rand.Float64))
		walkAway := mustWorkflow(t, er.ErrorRecoveryConfig[int64]{Name: "walk-away",
			Primary: er.StrategyRetry, Secondary: all, Retry: &retry, SharedBreaker: br, SharedBulkhead: bh,
			Fallback: fallback, GlobalTimeout: chaosGlobal,
			Deadline: &er.DeadlineConfig{AttemptTimeout: 40 * time.Millisecond, WalkAway: true}}, engine.WithClock(clk), engine.WithRandom(rand.Float64))
		workflows := []*er.Workflow[int64]{cooperative, walkAway}
		tallies := make([]chaosTally, len(workflows))

		var wg sync.WaitGroup
		var live atomic.Int64
		for g := range chaosGoroutines {
			wg.Add(1)
			live.Add(1)
			go func() {
				defer wg.Done()
				defer live.Add(-1)
				rnd := rand.New(rand.NewPCG(seed, uint64(g)))
				for range *chaosRounds {
					// Think time, so that the clock moves and the breaker
					// goes round its states.
					clk.Sleep(context.Background(), time.Duration(rnd.IntN(30))*time.Millisecond)
					i := rnd.IntN(len(workflows))
					chaosExecute(t, clk, start, workflows[i], &tallies[i], rnd)
				}
			}()
		}
		// The clock moves only when every goroutine is blocked: on the
		// clock (backoffs, queues, slow functions), on a context's Done,
		// or on a coalesced leader. Nothing to advance to while executions
		// remain would be a hang.
		for {
			synctest.Wait()
			if live.Load() == 0 && bh.Metrics().Active == 0 {
				break // abandoned walk-away attempts have returned too
			}
			_, ok := clk.AdvanceToNext()
			require.True(t, ok, "%d goroutines blocked with nothing pending on the clock: an execution hangs", live.Load())
		}
		wg.Wait()

		t.Logf("after %v on the clock: bulkhead %+v, breaker %+v", clk.Now().Sub(start), bh.Metrics(), br.Metrics())
		bm := bh.Metrics()
		assert.Zero(t, bm.Active, "bulkhead after the storm: %+v, want empty", bm)
		assert.Zero(t, bm.Queued, "bulkhead after the storm: %+v, want empty", bm)
		if assert.NoError(t, bh.Acquire(context.Background()), "the bulkhead cannot be acquired after the storm") {
			bh.Release()
		}
		for i, w := range workflows {
			m, tally := w.Metrics(), &tallies[i]
			name := w.Definition().Name()
			t.Logf("%s: %+v", name, m)
			assert.Equal(t, tally.executions.Load(), m.Executions, "%s: executions the callers saw", name)
			assert.Equal(t, tally.calls.Load(), m.Calls, "%s: calls the functions saw", name)
			assert.Equal(t, tally.failed.Load(), m.Failed, "%s: executions the callers saw fail", name)
			assert.Equal(t, tally.failed.Load()+tally.served.Load(), m.Failures, "%s: failures, the failed ones and those a fallback or a stale entry answered", name)
		}

		// Healthy again: the breaker half-opens on the clock and closes.
		healthy := func(context.Context) (int64, error) { return 1, nil }
		for range 10 {
			if br.State() == breaker.StateClosed {
				break
			}
			clk.Advance(breakerCfg.OpenTimeout)
			synctest.Wait()
			walkAway.Execute(context.Background(), healthy)
		}
		assert.Equal(t, breaker.StateClosed, br.State(), "breaker after healthy calls")
		_, err = walkAway.Execute(context.Background(), healthy)
		assert.NoError(t, err, "a healthy call after the storm")
	})
}

// chaosExecute makes one execution with a random function and, at times, a
// caller who gives up, and checks what comes back.
func chaosExecute(t *testing.T, clk *enginetest.Clock, start time.Time, w *er.Workflow[int64], tally *chaosTally, rnd *rand.Rand) {
	ctx := context.WithValue(context.Background(), chaosKey{}, fmt.Sprint(rnd.IntN(8)))
	if rnd.IntN(10) < 3 {
		c, cancel := context.WithCancel(ctx)
		defer cancel()
		// At least 1 ms: a caller whose context has ended before Execute
		// gets its error with nothing run or counted (documented), which
		// the tallies would have to guess at.
		tm := clk.AfterFunc(time.Duration(1+rnd.IntN(100))*time.Millisecond, cancel)
		defer tm.Stop()
		ctx = c
	}
	// The function's behaviour is drawn here, in the caller's goroutine,
	// since a walk-away attempt runs elsewhere.
	kinds := make([]int, 3)
	delays := make([]time.Duration, 3)
	for i := range kinds {
		kinds[i], delays[i] = rnd.IntN(100), time.Duration(rnd.IntN(int(chaosSlowest/time.Millisecond)))*time.Millisecond
	}
	var attempt atomic.Int32
	fn := func(ctx context.Context) (int64, error) {
		tally.calls.Add(1)
		n := int(attempt.Add(1)-1) % len(kinds)
		produce := func() int64 { return int64(clk.Now().Sub(start)) + 1 } // when, on the clock; positive
		switch k := kinds[n]; {
		case k < 60:
			return produce(), nil
		case k < 75:
			return 0, errFlaky
		case k < 78:
			return 0, errChaosPermanent
		case k < 80:
			panic("chaos: boom")
		case k < 88:
			<-ctx.Done() // stops only when told
			return 0, ctx.Err()
		case k < 94:
			clk.Sleep(context.Background(), delays[n]) // ignores its context
			return produce(), nil
		default:
			if err := clk.Sleep(ctx, delays[n]); err != nil {
				return 0, err
			}
			return produce(), nil
		}
	}

	began := clk.Now()
	var r er.Result[int64]
	var err error
	panicked := func() (panicked bool) {
		defer func() {
			if v := recover(); v != nil {
				if v != "chaos: boom" {
					panic(v)
				}
				panicked = true
			}
		}()
		r, err = w.ExecuteResult(ctx, fn)
		return false
	}()
	tally.executions.Add(1)
	now := clk.Now()
	assert.LessOrEqual(t, now.Sub(began), chaosBound, "%s: an execution's time on the clock", w.Definition().Name())
	if panicked {
		tally.failed.Add(1)
		return
	}
	if err != nil {
		tally.failed.Add(1)
		if _, exhausted := errors.AsType[*er.ExhaustedError](err); !exhausted {
			assert.Zero(t, r.Value, "%s: value with error %v", w.Definition().Name(), err)
		}
		return
	}
	switch r.Source {
	case er.SourceStaleCache, er.SourceFallbackCache, er.SourceFallbackService, er.SourceFallbackFunc, er.SourceFallbackValue:
		tally.served.Add(1)
	case er.SourceCache:
		produced := start.Add(time.Duration(r.Value - 1))
		assert.Positive(t, r.Value, "%s: a cache hit's value", w.Definition().Name())
		assert.Less(t, now.Sub(produced), chaosTTL, "%s: a cache hit served %d, made that long ago (reported age %v)", w.Definition().Name(), r.Value, r.Age)
	case er.SourceFunction:
		assert.Positive(t, r.Value, "%s: the function's answer", w.Definition().Name())
	}
}
