package errorrecovery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// The tests of this file pin what issue 14's reliability probe found: a
// caller's context that ends mid-chain, coalesced followers, walk-away
// attempts and panics must leave nothing held and nothing mislabelled.

// strandingConfig is issue 14's reproduction: two attempts 1 ms apart, one
// bulkhead slot and no queue, and a slow fallback service during which the
// caller's deadline passes (here: the service ends the caller's context).
func strandingConfig(cancel *context.CancelFunc) er.ErrorRecoveryConfig[string] {
	retry := er.DefaultRetryConfig[string]()
	retry.MaxAttempts, retry.InitialDelay, retry.Backoff = 2, time.Millisecond, er.BackoffFixed
	bc := bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue}
	return er.ErrorRecoveryConfig[string]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyBulkhead, er.StrategyFallback},
		Retry: &retry, Bulkhead: &bc,
		Fallback: &er.FallbackConfig[string]{Service: func(context.Context) (string, error) {
			(*cancel)() // the caller gives up while the fallback answers
			return "fallback", nil
		}},
	}
}

func TestACallerGivingUpMidChainCannotStrandTheExecution(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var cancel context.CancelFunc
	w := mustWorkflow(t, strandingConfig(&cancel), engine.WithClock(clk))
	for i := range 3 { // a leaked slot would refuse the second execution
		ctx, c := context.WithCancel(context.Background())
		cancel = c
		type outcome struct {
			v   string
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			v, err := w.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
			done <- outcome{v, err}
		}()
		waiters(t, clk, 1) // in the backoff
		clk.Advance(time.Millisecond)
		var o outcome
		select {
		case o = <-done:
		case <-time.After(10 * time.Second):
			require.Failf(t, "no return", "execution %d never returned", i)
		}
		if o.v != "" {
			assert.NoError(t, o.err, "execution %d returned a value and an error: %q", i, o.v)
		}
		assert.Equal(t, "fallback", o.v, "execution %d: want the fallback's answer", i)
		assert.NoError(t, o.err, "execution %d: want the fallback's answer", i)
		require.Zero(t, w.Bulkhead().Metrics().Active, "after execution %d: slots held", i)
	}
	m := w.Metrics()
	assert.Equal(t, int64(3), m.Executions, "metrics %+v", m)
	assert.Equal(t, int64(3), m.Fallbacks, "metrics %+v", m)
	assert.Equal(t, int64(6), m.Calls, "metrics %+v", m)
}

func TestACoalescingLeaderWhoseCallerGivesUpLetsTheNextCallerIn(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var cancel context.CancelFunc
	cfg := strandingConfig(&cancel)
	cfg.Secondary = []er.Strategy{er.StrategyCache, er.StrategyFallback}
	cfg.Bulkhead, cfg.Cache = nil, &cache.Config{MaxStale: -1} // no stale entries
	w := mustWorkflow(t, cfg, engine.WithClock(clk))

	ctx, c := context.WithCancel(context.Background())
	cancel = c
	first := make(chan error, 1)
	go func() {
		_, err := w.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
		first <- err
	}()
	waiters(t, clk, 1)
	clk.Advance(time.Millisecond)
	<-first

	next := make(chan string, 1)
	go func() {
		v, _ := w.Execute(context.Background(), func(context.Context) (string, error) { return "fresh", nil })
		next <- v
	}()
	select {
	case v := <-next:
		assert.Equal(t, "fresh", v, "the next caller: want its own fresh answer")
	case <-time.After(10 * time.Second):
		require.Fail(t, "the next caller for the same key is still waiting for a leader that is gone")
	}
}

// coalesced runs a leader and a follower for one key: the leader's
// function waits until the follower has joined, then answers with fn.
// It returns the follower's result.
func coalesced(t *testing.T, w *er.Workflow[string], fn func(context.Context) (string, error)) er.Result[string] {
	t.Helper()
	var res er.Result[string]
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		leader := make(chan struct{})
		go func() {
			defer close(leader)
			w.Execute(context.Background(), func(ctx context.Context) (string, error) {
				<-release
				return fn(ctx)
			})
		}()
		synctest.Wait() // the leader is in its function
		follower := make(chan er.Result[string], 1)
		go func() {
			r, _ := w.ExecuteResult(context.Background(), func(context.Context) (string, error) {
				assert.Fail(t, "a follower called the function while the leader ran")
				return "", nil
			})
			follower <- r
		}()
		synctest.Wait() // the follower waits for the leader
		close(release)
		<-leader
		res = <-follower
	})
	return res
}

func TestCoalescedFollowersGetWhatTheLeaderGotAsWhatItIs(t *testing.T) {
	t.Run("fallback", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Secondary: []er.Strategy{er.StrategyFallback},
			Cache: &cache.Config{}, Fallback: ptr(er.FallbackValue("default"))})
		r := coalesced(t, w, func(context.Context) (string, error) { return "", errFlaky })
		assert.Equal(t, "default", r.Value, "follower: want the fallback's answer")
		assert.Equal(t, er.SourceFallbackValue, r.Source, "follower: want the fallback's answer labelled as the fallback's")
		m := w.Metrics()
		assert.Zero(t, m.CacheHits, "metrics %+v", m)
		assert.Equal(t, int64(2), m.Fallbacks, "metrics %+v", m)
	})
	t.Run("stale", func(t *testing.T) {
		clk := enginetest.NewClock(time.Time{})
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute}}, engine.WithClock(clk))
		_, err := w.Execute(context.Background(), func(context.Context) (string, error) { return "old", nil })
		require.NoError(t, err)
		clk.Advance(2 * time.Minute) // expired: stale
		r := coalesced(t, w, func(context.Context) (string, error) { return "", errFlaky })
		assert.Equal(t, "old", r.Value, "follower: want the stale entry")
		assert.Equal(t, er.SourceStaleCache, r.Source, "follower: want the entry labelled stale")
		assert.Equal(t, 2*time.Minute, r.Age, "follower: want the entry 2m old")
		m := w.Metrics()
		assert.Zero(t, m.CacheHits, "metrics %+v", m)
		assert.Equal(t, int64(2), m.StaleServed, "metrics %+v", m)
	})
	t.Run("fresh", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{}})
		r := coalesced(t, w, func(context.Context) (string, error) { return "new", nil })
		assert.Equal(t, "new", r.Value, "follower: want the leader's fresh answer")
		assert.Equal(t, er.SourceCache, r.Source, "follower: want a cache hit")
		assert.Equal(t, int64(1), w.Metrics().CacheHits, "metrics: cache hits")
	})
}

func TestAWalkAwayAttemptHoldsItsBulkheadSlotUntilItsFunctionReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := enginetest.NewClock(time.Time{})
		bc := bulkhead.Config{MaxConcurrent: 2, MaxQueueSize: bulkhead.NoQueue}
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyBulkhead, Secondary: []er.Strategy{er.StrategyDeadline},
			Bulkhead: &bc, Deadline: &er.DeadlineConfig{AttemptTimeout: 5 * time.Millisecond, WalkAway: true}}, engine.WithClock(clk))
		release := make(chan struct{})
		var running, most atomic.Int32
		ignoresCtx := func(context.Context) (int, error) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release // ignores its context
			running.Add(-1)
			return 1, nil
		}
		errs := make(chan error, 10)
		for range 2 {
			go func() { _, err := w.Execute(context.Background(), ignoresCtx); errs <- err }()
		}
		synctest.Wait()
		clk.Advance(5 * time.Millisecond) // both walk away
		for range 2 {
			assert.ErrorIs(t, <-errs, context.DeadlineExceeded, "walked-away call")
		}
		for range 8 {
			go func() { _, err := w.Execute(context.Background(), ignoresCtx); errs <- err }()
		}
		for range 8 {
			assert.ErrorIs(t, <-errs, bulkhead.ErrFull, "call while two abandoned attempts run")
		}
		close(release)
		synctest.Wait()
		assert.LessOrEqual(t, most.Load(), int32(2), "calls at once against a bulkhead of 2")
		assert.Zero(t, w.Bulkhead().Metrics().Active, "after the abandoned attempts returned: slots held")
	})
}

func TestCallsCountsACallThatPanicked(t *testing.T) {
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Retry: fastRetry[int](3)})
	func() {
		defer func() { recover() }()
		w.Execute(context.Background(), func(context.Context) (int, error) { panic("boom") })
	}()
	m := w.Metrics()
	assert.Equal(t, int64(1), m.Calls, "metrics %+v", m)
	assert.Equal(t, int64(1), m.Executions, "metrics %+v", m)
}
