package errorrecovery_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

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
			t.Fatalf("execution %d never returned", i)
		}
		if o.v != "" && o.err != nil {
			t.Errorf("execution %d returned a value and an error: %q, %v", i, o.v, o.err)
		}
		if o.v != "fallback" || o.err != nil {
			t.Errorf("execution %d = %q, %v; want the fallback's answer", i, o.v, o.err)
		}
		if m := w.Bulkhead().Metrics(); m.Active != 0 {
			t.Fatalf("after execution %d: %d slots held, want 0", i, m.Active)
		}
	}
	if m := w.Metrics(); m.Executions != 3 || m.Fallbacks != 3 || m.Calls != 6 {
		t.Errorf("metrics %+v, want 3 executions, 3 fallbacks, 6 calls", m)
	}
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
		if v != "fresh" {
			t.Errorf("the next caller got %q, want its own fresh answer", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the next caller for the same key is still waiting for a leader that is gone")
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
				t.Error("a follower called the function while the leader ran")
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
		if r.Value != "default" || r.Source != er.SourceFallbackValue {
			t.Errorf("follower got %+v, want the fallback's answer labelled as the fallback's", r)
		}
		if m := w.Metrics(); m.CacheHits != 0 || m.Fallbacks != 2 {
			t.Errorf("metrics %+v, want no cache hit and 2 fallbacks", m)
		}
	})
	t.Run("stale", func(t *testing.T) {
		clk := enginetest.NewClock(time.Time{})
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute}}, engine.WithClock(clk))
		if _, err := w.Execute(context.Background(), func(context.Context) (string, error) { return "old", nil }); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Minute) // expired: stale
		r := coalesced(t, w, func(context.Context) (string, error) { return "", errFlaky })
		if r.Value != "old" || r.Source != er.SourceStaleCache || r.Age != 2*time.Minute {
			t.Errorf("follower got %+v, want the stale entry, labelled stale, 2m old", r)
		}
		if m := w.Metrics(); m.CacheHits != 0 || m.StaleServed != 2 {
			t.Errorf("metrics %+v, want no cache hit and 2 stale answers", m)
		}
	})
	t.Run("fresh", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{}})
		r := coalesced(t, w, func(context.Context) (string, error) { return "new", nil })
		if r.Value != "new" || r.Source != er.SourceCache {
			t.Errorf("follower got %+v, want the leader's fresh answer as a cache hit", r)
		}
		if m := w.Metrics(); m.CacheHits != 1 {
			t.Errorf("metrics %+v, want 1 cache hit", m)
		}
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
			if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("walked-away call: %v, want a deadline error", err)
			}
		}
		for range 8 {
			go func() { _, err := w.Execute(context.Background(), ignoresCtx); errs <- err }()
		}
		for range 8 {
			if err := <-errs; !errors.Is(err, bulkhead.ErrFull) {
				t.Errorf("call while two abandoned attempts run: %v, want bulkhead.ErrFull", err)
			}
		}
		close(release)
		synctest.Wait()
		if m := most.Load(); m > 2 {
			t.Errorf("%d calls ran at once against a bulkhead of 2", m)
		}
		if m := w.Bulkhead().Metrics(); m.Active != 0 {
			t.Errorf("after the abandoned attempts returned: %d slots held, want 0", m.Active)
		}
	})
}

func TestCallsCountsACallThatPanicked(t *testing.T) {
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Retry: fastRetry[int](3)})
	func() {
		defer func() { recover() }()
		w.Execute(context.Background(), func(context.Context) (int, error) { panic("boom") })
	}()
	if m := w.Metrics(); m.Calls != 1 || m.Executions != 1 {
		t.Errorf("metrics %+v, want 1 call and 1 execution", m)
	}
}
