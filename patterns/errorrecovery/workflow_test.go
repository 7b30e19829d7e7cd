package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

func mustWorkflow[T any](t *testing.T, cfg er.ErrorRecoveryConfig[T], opts ...engine.Option) *er.Workflow[T] {
	t.Helper()
	w, err := er.NewWorkflow(cfg, opts...)
	require.NoError(t, err)
	if b := w.Breaker(); b != nil {
		t.Cleanup(b.Close)
	}
	return w
}

func ptr[T any](v T) *T { return &v }

// fastRetry is a retry with no delay between attempts.
func fastRetry[T any](attempts int) *er.RetryConfig[T] {
	r := er.DefaultRetryConfig[T]()
	r.MaxAttempts, r.InitialDelay = attempts, er.None
	return &r
}

// countBreaker opens after n failures in a count window and half-opens
// after open.
func countBreaker(n int, open time.Duration) *breaker.Config {
	c := breaker.DefaultConfig()
	c.FailureThreshold, c.WindowDuration, c.OpenTimeout, c.SuccessThreshold = n, breaker.CountOnly, open, 2
	return &c
}

// pathOf reads a trace as the states it went through.
func pathOf(steps []engine.Record) string {
	if len(steps) == 0 {
		return ""
	}
	p := steps[0].From
	for _, s := range steps {
		if s.Transition >= 0 {
			p += " → " + s.To
		}
	}
	return p
}

// onlyKeys makes cmp.Diff of two maps compare only their entries under
// keys.
func onlyKeys(keys ...string) cmp.Option {
	return cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return !slices.Contains(keys, k) })
}

func TestEachStrategyAlone(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	ctx := context.Background()
	t.Run("retry", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Retry: fastRetry[int](3)})
		fn, calls := failing(2, errFlaky, 5)
		v, steps, err := w.Trace(ctx, fn)
		assert.NoError(t, err)
		assert.Equal(t, 5, v)
		assert.Equal(t, 3, *calls, "calls")
		assert.Equal(t, "Start → Attempt → Backoff → Retry → Attempt → Backoff → Retry → Attempt → Done", pathOf(steps), "path")
	})
	t.Run("circuit breaker", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(2, time.Minute)}, engine.WithClock(clk))
		for range 2 {
			w.Execute(ctx, func(context.Context) (int, error) { return 0, errFlaky })
		}
		calls := 0
		_, err := w.Execute(ctx, func(context.Context) (int, error) { calls++; return 1, nil })
		assert.ErrorIs(t, err, breaker.ErrOpen, "open breaker")
		assert.Zero(t, calls, "calls past an open breaker")
	})
	t.Run("fallback", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback, Fallback: ptr(er.FallbackValue("default"))})
		v, src, err := execSource(w, ctx, func(context.Context) (string, error) { return "", errFlaky })
		assert.NoError(t, err)
		assert.Equal(t, "default", v)
		assert.Equal(t, er.SourceFallbackValue, src)
	})
	t.Run("bulkhead", func(t *testing.T) {
		bc := bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue}
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyBulkhead, Bulkhead: &bc}, engine.WithClock(clk))
		inside, release := make(chan struct{}), make(chan struct{})
		go w.Execute(ctx, func(context.Context) (int, error) { close(inside); <-release; return 1, nil })
		<-inside
		calls := 0
		_, err := w.Execute(ctx, func(context.Context) (int, error) { calls++; return 1, nil })
		close(release)
		assert.ErrorIs(t, err, bulkhead.ErrFull, "full bulkhead")
		assert.Zero(t, calls, "calls past a full bulkhead")
	})
	t.Run("deadline", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyDeadline, GlobalTimeout: time.Second}, engine.WithClock(clk))
		started := make(chan struct{})
		done := make(chan error)
		go func() {
			_, err := w.Execute(ctx, func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done() // a function that only stops when told
				return 0, ctx.Err()
			})
			done <- err
		}()
		<-started
		clk.Advance(time.Second) // the deadline's timer, armed by Done, fires
		assert.ErrorIs(t, <-done, context.DeadlineExceeded, "deadline")
	})
	t.Run("cache", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: ptr(cache.DefaultConfig())}, engine.WithClock(clk))
		calls := 0
		fn := func(context.Context) (int, error) { calls++; return 7, nil }
		w.Execute(ctx, fn)
		v, src, err := execSource(w, ctx, fn)
		assert.NoError(t, err, "read-through")
		assert.Equal(t, 7, v, "read-through")
		assert.Equal(t, er.SourceCache, src, "read-through")
		assert.Equal(t, 1, calls, "read-through: calls")
	})
}

// TestSeedLayeredFlow is the original documentation's layered example:
// transient errors are retried, the breaker opens, the fallback answers,
// and once the open timeout passes trial calls close the breaker again.
func TestSeedLayeredFlow(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	fb := er.FallbackValue("cached response")
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[string](3), Breaker: countBreaker(5, 30*time.Second), Fallback: &fb,
		TransientErrors: []er.ErrorMatcher{er.ErrorIs(errFlaky)},
	}, engine.WithClock(clk))
	ctx := context.Background()
	healthy := false
	calls := 0
	fn := func(context.Context) (string, error) {
		calls++
		if healthy {
			return "fresh", nil
		}
		return "", errFlaky
	}
	// 1: three attempts fail; the fallback answers.
	v, src, err := execSource(w, ctx, fn)
	require.Equal(t, "cached response", v, "first")
	require.Equal(t, er.SourceFallbackValue, src, "first")
	require.NoError(t, err, "first")
	require.Equal(t, 3, calls, "first: calls")
	// 2: two more failures reach the threshold of 5 and open the breaker;
	// the third attempt is refused by it, and the fallback answers.
	v, steps, err := w.Trace(ctx, fn)
	require.Equal(t, "cached response", v, "second")
	require.NoError(t, err, "second")
	require.Equal(t, 5, calls, "second: calls")
	require.Equal(t, breaker.StateOpen, w.Breaker().State(), "second: breaker")
	want := "Start → CheckCircuit → Attempt → Backoff → Retry → CheckCircuit → Attempt → Backoff → Retry → CheckCircuit → Fallback → Recovered"
	assert.Equal(t, want, pathOf(steps), "path")
	// 3: while open, the function is never called.
	w.Execute(ctx, fn)
	assert.Equal(t, 5, calls, "the function was called past an open breaker")
	// 4: after the open timeout, two trial successes close the breaker.
	clk.Advance(30 * time.Second)
	require.Equal(t, breaker.StateHalfOpen, w.Breaker().State(), "breaker after the open timeout")
	healthy = true
	for range 2 {
		v, err := w.Execute(ctx, fn)
		require.Equal(t, "fresh", v, "trial")
		require.NoError(t, err, "trial")
	}
	assert.Equal(t, breaker.StateClosed, w.Breaker().State(), "breaker after two trial successes")
}

func TestFallbackPrecedence(t *testing.T) {
	ctx := context.Background()
	fail := func(context.Context) (string, error) { return "", errFlaky }
	errSvc, errFn := errors.New("service down"), errors.New("func failed")
	cases := []struct {
		name     string
		edit     func(*er.FallbackConfig[string])
		want     string
		wantSrc  er.Source
		wantErrs []error
	}{
		{"service first", func(f *er.FallbackConfig[string]) {
			f.Service = func(context.Context) (string, error) { return "svc", nil }
			f.Func = func(error) (string, error) { return "fn", nil }
			f.Value, f.HasValue = "val", true
		}, "svc", er.SourceFallbackService, nil},
		{"then the function", func(f *er.FallbackConfig[string]) {
			f.Service = func(context.Context) (string, error) { return "", errSvc }
			f.Func = func(err error) (string, error) { return "fn of " + err.Error(), nil }
			f.Value, f.HasValue = "val", true
		}, "fn of flaky", er.SourceFallbackFunc, nil},
		{"then the value", func(f *er.FallbackConfig[string]) {
			f.Func = func(error) (string, error) { return "", errFn }
			f.Value, f.HasValue = "", true // the zero value is a valid fallback
		}, "", er.SourceFallbackValue, nil},
		{"none answers", func(f *er.FallbackConfig[string]) {
			f.Service = func(context.Context) (string, error) { return "", errSvc }
			f.Func = func(error) (string, error) { return "", errFn }
		}, "", er.SourceNone, []error{errFlaky, errSvc, errFn}},
		{"not triggered", func(f *er.FallbackConfig[string]) {
			f.Value, f.HasValue = "val", true
			f.On = []er.ErrorMatcher{er.ErrorIs(errSvc)}
		}, "", er.SourceNone, []error{errFlaky}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fb := er.DefaultFallbackConfig[string]()
			tc.edit(&fb)
			w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback, Fallback: &fb})
			v, src, err := execSource(w, ctx, fail)
			assert.Equal(t, tc.want, v)
			assert.Equal(t, tc.wantSrc, src)
			for _, e := range tc.wantErrs {
				assert.ErrorIs(t, err, e)
			}
			if tc.wantErrs == nil {
				assert.NoError(t, err)
			}
		})
	}
}

func TestFallbackCacheAnswersBeforeTheOtherSources(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	fb := er.FallbackValue("value")
	fb.UseCache, fb.CacheTTL = true, time.Minute
	fb.Key = func(context.Context) string { return "one" } // every call gets the same answer
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback, Fallback: &fb}, engine.WithClock(clk))
	ctx := context.Background()
	w.Execute(ctx, func(context.Context) (string, error) { return "remembered", nil })
	fail := func(context.Context) (string, error) { return "", errFlaky }
	clk.Advance(59 * time.Second)
	v, src, _ := execSource(w, ctx, fail)
	assert.Equal(t, "remembered", v, "within the TTL")
	assert.Equal(t, er.SourceFallbackCache, src, "within the TTL")
	clk.Advance(time.Second)
	v, src, _ = execSource(w, ctx, fail)
	assert.Equal(t, "value", v, "past the TTL")
	assert.Equal(t, er.SourceFallbackValue, src, "past the TTL")
}

func TestCacheStaleOnErrorAndCoalescing(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute}}, engine.WithClock(clk))
	ctx := context.Background()
	w.Execute(ctx, func(context.Context) (int, error) { return 1, nil })
	clk.Advance(90 * time.Second)
	v, src, err := execSource(w, ctx, func(context.Context) (int, error) { return 0, errFlaky })
	assert.NoError(t, err, "stale on error")
	assert.Equal(t, 1, v, "stale on error")
	assert.Equal(t, er.SourceStaleCache, src, "stale on error")
	v, src, _ = execSource(w, ctx, func(context.Context) (int, error) { return 2, nil })
	assert.Equal(t, 2, v, "a stale entry was served as fresh")
	assert.Equal(t, er.SourceFunction, src, "a stale entry was served as fresh")

	// 100 concurrent identical calls: one call to the function.
	w.Cache().Clear()
	var calls atomic.Int32
	gate := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]int, 100)
	for i := range results {
		wg.Go(func() {
			results[i], _ = w.Execute(ctx, func(context.Context) (int, error) {
				calls.Add(1)
				<-gate
				return 42, nil
			})
		})
	}
	// Let the leader in, wait until every other caller has joined it.
	for calls.Load() == 0 {
		runtime.Gosched() // the leader is on its way in
	}
	close(gate)
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load(), "calls of the function for 100 identical concurrent calls")
	for i, r := range results {
		require.Equal(t, 42, r, "caller %d", i)
	}
}

func TestMetricsHealthAndAlerts(t *testing.T) {
	var alerts []int
	var errs int
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Retry: fastRetry[int](2), HealthWindow: 10, AlertThreshold: 3,
		OnAlert: func(n int) { alerts = append(alerts, n) }, OnError: func(error) { errs++ },
	})
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	bad := func(context.Context) (int, error) { return 0, errFlaky }
	for range 8 {
		w.Execute(ctx, ok)
	}
	h := w.Health()
	assert.Equal(t, er.HealthOK, h.Status, "after 8 successes: %+v", h)
	assert.Equal(t, 8, h.Samples, "after 8 successes: %+v", h)
	w.Execute(ctx, bad)
	h = w.Health()
	assert.Equal(t, er.HealthDegraded, h.Status, "1 failure in 9: %+v", h)
	assert.Equal(t, 1, h.Failures, "1 failure in 9: %+v", h)
	w.Execute(ctx, bad)
	w.Execute(ctx, bad) // third failure in the window: the alert fires
	w.Execute(ctx, bad) // still above: no second alert
	assert.Equal(t, []int{3}, alerts, "alerts: one at 3 failures")
	for range 10 {
		w.Execute(ctx, ok) // the failures leave the window: the alert re-arms
	}
	h = w.Health()
	assert.Equal(t, er.HealthOK, h.Status, "after 10 successes: %+v", h)
	assert.Zero(t, h.Failures, "after 10 successes: %+v", h)
	for range 3 {
		w.Execute(ctx, bad)
	}
	assert.Equal(t, []int{3, 3}, alerts, "alerts: a second alert after re-arming")
	for range 2 {
		w.Execute(ctx, bad)
	}
	h = w.Health()
	assert.Equal(t, er.HealthUnhealthy, h.Status, "5 failures in 10: %+v", h)
	m := w.Metrics()
	wantM := er.WorkflowMetrics{Executions: 27, Successes: 18, Failed: 9, Failures: 9, Calls: 18 + 9*2, Retries: 9}
	if diff := cmp.Diff(wantM, m); diff != "" {
		t.Errorf("Metrics() (-want +got):\n%s", diff)
	}
	assert.Equal(t, 9, errs, "OnError calls")
	if diff := cmp.Diff(map[string]any{"attempts": int64(27), "successes": int64(18), "fallbacks": int64(0)}, m.Map(), onlyKeys("attempts", "successes", "fallbacks")); diff != "" {
		t.Errorf("Map() (-want +got):\n%s", diff)
	}
}

func TestFactories(t *testing.T) {
	ctx := context.Background()
	rw, err := er.NewRetry(er.RetryConfig[int]{MaxAttempts: 4, Backoff: er.BackoffFixed})
	require.NoError(t, err)
	fn, calls := failing(3, errFlaky, 9)
	v, err := rw.Execute(ctx, fn)
	assert.NoError(t, err, "retry workflow")
	assert.Equal(t, 9, v, "retry workflow")
	assert.Equal(t, 4, *calls, "retry workflow: calls")
	cw, err := er.NewBreakerWorkflow(2, time.Minute, "service_unavailable")
	require.NoError(t, err)
	defer cw.Breaker().Close()
	for i := range 3 { // two failures open the breaker; the fallback answers the rejection
		v, err := cw.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
		if i < 2 {
			assert.ErrorIs(t, err, errFlaky, "breaker workflow, call %d", i+1)
		} else {
			assert.Equal(t, "service_unavailable", v, "breaker workflow, call %d", i+1)
			assert.NoError(t, err, "breaker workflow, call %d", i+1)
		}
	}
	assert.Equal(t, breaker.StateOpen, cw.Breaker().State(), "breaker")
}

func TestFactoriesTakeClockObserverAndDeadline(t *testing.T) {
	clock := enginetest.NewClock(time.Unix(0, 0))
	var steps int
	obs := engine.ObserverFunc(func(engine.Record) { steps++ })
	rw, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Retry:    &er.RetryConfig[int]{MaxAttempts: 3, Backoff: er.BackoffFixed, InitialDelay: time.Second},
		Deadline: &er.DeadlineConfig{Timeout: 90 * time.Second},
	}, engine.WithClock(clock), engine.WithObserver(obs))
	require.NoError(t, err)
	failing2, calls := failing(2, errFlaky, 9)
	var left []time.Duration // the time left on each attempt, from WithDeadline's timeout
	fn := func(ctx context.Context) (int, error) {
		d, ok := er.TimeLeft(ctx)
		assert.True(t, ok, "no deadline on the attempt's context: WithDeadline was ignored")
		left = append(left, d)
		return failing2(ctx)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var v int
	go func() {
		defer close(done)
		v, err = rw.Execute(ctx, fn)
	}()
	for range 2 { // two backoffs of one second each, on the manual clock
		require.NoError(t, clock.BlockUntilWaiters(ctx, 1))
		clock.Advance(time.Second)
	}
	<-done
	assert.NoError(t, err, "retry workflow on the manual clock")
	assert.Equal(t, 9, v, "retry workflow on the manual clock")
	assert.Equal(t, 3, *calls, "retry workflow on the manual clock: calls")
	assert.NotZero(t, steps, "the observer saw no step")
	// 90s overall, less the two one-second backoffs on the manual clock.
	want := []time.Duration{90 * time.Second, 89 * time.Second, 88 * time.Second}
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("time left per attempt (-want +got):\n%s", diff)
	}

	cw, err := er.NewBreakerWorkflow(1, time.Minute, "fallback", engine.WithClock(clock))
	require.NoError(t, err)
	defer cw.Breaker().Close()
	_, err = cw.Execute(context.Background(), func(context.Context) (string, error) { return "", errFlaky })
	require.ErrorIs(t, err, errFlaky, "breaker workflow: want the failure's own error")
	require.Equal(t, breaker.StateOpen, cw.Breaker().State(), "breaker after one failure")
	sv, err := cw.Execute(context.Background(), func(context.Context) (string, error) { return "", errFlaky })
	require.Equal(t, "fallback", sv, "breaker workflow while open")
	require.NoError(t, err, "breaker workflow while open")
	clock.Advance(time.Minute) // the open timeout runs on the manual clock
	assert.Equal(t, breaker.StateHalfOpen, cw.Breaker().State(), "breaker a minute later on the manual clock")
}

// TestNoBackoffBeforeACertainRejection: when a failure opens the breaker
// and the breaker will still be open when the backoff ends, the retry
// does not wait only to be rejected.
func TestNoBackoffBeforeACertainRejection(t *testing.T) {
	for _, c := range []struct {
		name     string
		open     time.Duration
		wantWait time.Duration
		wantVal  string
	}{
		{"open longer than the backoff", time.Minute, 0, "fallback"},
		{"open shorter than the backoff", 50 * time.Millisecond, 100 * time.Millisecond, "ok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := enginetest.NewClock(time.Unix(0, 0))
			retry := er.DefaultRetryConfig[string]()
			retry.MaxAttempts, retry.Backoff, retry.InitialDelay = 3, er.BackoffFixed, 100*time.Millisecond
			bc := breaker.DefaultConfig()
			bc.FailureThreshold, bc.OpenTimeout, bc.WindowDuration = 1, c.open, breaker.CountOnly
			fb := er.FallbackValue("fallback")
			w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{
				Retry: &retry, Breaker: &bc, Fallback: &fb,
			}, engine.WithClock(clock))
			calls := 0
			fn := func(context.Context) (string, error) {
				calls++
				if calls == 1 {
					return "", errFlaky
				}
				return "ok", nil
			}
			// running ends when Execute has returned; until then, each
			// time Execute sleeps on the clock, the clock moves to the
			// next timer.
			running, stop := context.WithCancel(context.Background())
			var v string
			var err error
			go func() {
				defer stop()
				v, err = w.Execute(context.Background(), fn)
			}()
			start := clock.Now()
			for clock.BlockUntilWaiters(running, 1) == nil {
				clock.AdvanceToNext()
			}
			assert.Equal(t, c.wantVal, v)
			assert.NoError(t, err)
			assert.Equal(t, c.wantWait, clock.Now().Sub(start), "waited on the clock")
		})
	}
}

func TestBadWorkflowConfigsNameTheField(t *testing.T) {
	cases := map[string]er.ErrorRecoveryConfig[int]{
		"Primary":          {Primary: er.Strategy(99)},
		"Timeout":          {Compensation: &er.CompensationConfig{Timeout: 48 * time.Hour}},
		"Fallback":         {Primary: er.StrategyFallback},
		"MaxTotalAttempts": {Primary: er.StrategyRetry, MaxTotalAttempts: -1},
		"GlobalTimeout":    {Primary: er.StrategyDeadline, GlobalTimeout: -time.Second},
		"MaxAttempts":      {Retry: &er.RetryConfig[int]{MaxAttempts: -1}},
		"Deadline":         {GlobalTimeout: time.Second, Deadline: &er.DeadlineConfig{Timeout: time.Minute}},
		"AlertThreshold":   {Primary: er.StrategyRetry, AlertThreshold: -1},
	}
	for field, cfg := range cases {
		_, err := er.NewWorkflow(cfg)
		if ce, ok := errors.AsType[*er.ConfigError](err); assert.True(t, ok, "%s: %v", field, err) {
			assert.Equal(t, field, ce.Field, "%s: %v", field, err)
		}
	}
}

func TestOneBreakerSharedByWorkflowsOfDifferentTypes(t *testing.T) {
	b, err := breaker.New(*countBreaker(2, time.Minute), engine.WithClock(enginetest.NewClock(time.Time{})))
	require.NoError(t, err)
	defer b.Close()
	ints := mustWorkflow(t, er.ErrorRecoveryConfig[int]{SharedBreaker: b})
	strs := mustWorkflow(t, er.ErrorRecoveryConfig[string]{SharedBreaker: b})
	ctx := context.Background()
	ints.Execute(ctx, func(context.Context) (int, error) { return 0, errFlaky })
	strs.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
	require.Equal(t, breaker.StateOpen, b.State(), "two failures through two workflows: breaker")
	_, err = ints.Execute(ctx, func(context.Context) (int, error) { return 1, nil })
	assert.ErrorIs(t, err, breaker.ErrOpen, "the int workflow does not see the shared breaker open")
}

func TestWorkflowPanicReleasesPermitsAndRePanics(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	bc := bulkhead.DefaultConfig()
	bc.MaxConcurrent = 1
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyBulkhead, er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[int](3), Bulkhead: &bc, Breaker: countBreaker(1, time.Minute),
		Fallback: ptr(er.FallbackValue(0)),
	}, engine.WithClock(clk))
	calls := 0
	func() {
		defer func() {
			assert.Equal(t, "oops", recover(), "recovered")
		}()
		w.Execute(context.Background(), func(context.Context) (int, error) { calls++; panic("oops") })
	}()
	assert.Equal(t, 1, calls, "calls: a panic is neither retried nor fallen back")
	assert.Zero(t, w.Bulkhead().Metrics().Active, "bulkhead slot held after the panic")
	assert.Equal(t, breaker.StateOpen, w.Breaker().State(), "the panic was not recorded as a failure")
}

// TestTracesFollowOnlyTheirDefinitionsEdges runs a fully layered workflow
// through many outcomes and checks every step against its definition.
func TestClockIsTheOneBackoffsRunOn(t *testing.T) {
	clock := enginetest.NewClock(time.Unix(0, 0))
	assert.Same(t, clock, mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry}, engine.WithClock(clock)).Clock(), "Clock(): want the configured clock")
	assert.IsType(t, engine.RealClock{}, mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry}).Clock(), "Clock() of a workflow without one is not the real clock")
}

func TestNameNamesTheMachineInDiagramsAndTraces(t *testing.T) {
	for _, c := range []struct{ name, want string }{{"", "workflow"}, {"quotes", "quotes"}} {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Name: c.name, Primary: er.StrategyRetry})
		assert.Equal(t, c.want, w.Definition().Name(), "Name %q: machine", c.name)
		_, steps, err := w.Trace(context.Background(), func(context.Context) (int, error) { return 1, nil })
		if assert.NoError(t, err, "Name %q: trace", c.name) && assert.NotEmpty(t, steps, "Name %q: trace", c.name) {
			assert.Equal(t, c.want, steps[0].Machine, "Name %q: machine of the trace's steps", c.name)
		}
		assert.Contains(t, w.Dot(), "digraph \""+c.want+"\"", "Name %q: dot does not name the graph", c.name)
	}
}

func TestTracesFollowOnlyTheirDefinitionsEdges(t *testing.T) {
	w := fullWorkflow(t)
	def := w.Definition()
	edges := map[string]bool{}
	g := def.Graph()
	for _, e := range g.Edges {
		edges[fmt.Sprint(g.States[e.From].Label, "|", e.Trigger, "|", g.States[e.To].Label)] = true
	}
	parent := map[string]string{}
	for _, st := range g.States {
		if st.HasParent {
			parent[st.Label] = g.States[st.Parent].Label
		}
	}
	ctx := context.Background()
	outcomes := []error{nil, errFlaky, er.Permanent(errFlaky), nil, errFlaky, errFlaky, errFlaky}
	for i := range 40 {
		n := 0
		_, steps, _ := w.Trace(ctx, func(context.Context) (int, error) {
			n++
			if err := outcomes[(i+n)%len(outcomes)]; err != nil {
				return 0, err
			}
			return i, nil
		})
		for _, s := range steps {
			require.GreaterOrEqual(t, s.Transition, 0, "execution %d: a step took no transition: %+v", i, s)
			// The edge is declared on the state the step left or on one
			// of its ancestors (Executing handles what ends retrying).
			found := false
			for from := s.From; from != "" && !found; from = parent[from] {
				found = edges[from+"|"+s.Event+"|"+s.To]
			}
			require.True(t, found, "execution %d: step %s -%s-> %s is not an edge of the definition", i, s.From, s.Event, s.To)
		}
	}
}

func fullWorkflow(t *testing.T) *er.Workflow[int] {
	clk := enginetest.NewClock(time.Time{})
	bc := bulkhead.DefaultConfig()
	cc := cache.Config{TTL: time.Nanosecond} // every call misses, so traces go through every layer
	return mustWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback, er.StrategyBulkhead, er.StrategyDeadline, er.StrategyCache},
		Retry: fastRetry[int](3), Breaker: countBreaker(10, time.Minute), Bulkhead: &bc, Cache: &cc,
		Fallback: ptr(er.FallbackValue(-1)), GlobalTimeout: time.Minute, Deadline: &er.DeadlineConfig{AttemptTimeout: time.Second},
	}, engine.WithClock(clk))
}

func TestFullyLayeredWorkflowDiagram(t *testing.T) {
	w := fullWorkflow(t)
	_, opts := w.Diagram(fsm.DiagramOptions{})
	assert.Len(t, opts.Clusters, 3, "clusters: want cache, bulkhead and breaker")
	checkMachine(t, "workflow", w.Dot(), w.Definition().Mermaid())
}

// execSource runs an execution and returns its value and source.
func execSource[T any](w *er.Workflow[T], ctx context.Context, fn func(context.Context) (T, error)) (T, er.Source, error) {
	r, err := w.ExecuteResult(ctx, fn)
	return r.Value, r.Source, err
}

func TestResultsReportSourceAgeAndAttempts(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cc := cache.Config{TTL: time.Minute}
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCache},
		Retry: fastRetry[int](2), Cache: &cc, TimingMetrics: true}, engine.WithClock(clk))
	ctx := context.Background()
	fn, _ := failing(1, errFlaky, 5)
	r, err := w.ExecuteResult(ctx, fn)
	assert.NoError(t, err, "from the function")
	if diff := cmp.Diff(er.Result[int]{Value: 5, Source: er.SourceFunction, Attempts: 2}, r); diff != "" {
		t.Errorf("from the function (-want +got):\n%s", diff)
	}
	clk.Advance(20 * time.Second)
	r, _ = w.ExecuteResult(ctx, fn)
	if diff := cmp.Diff(er.Result[int]{Value: 5, Source: er.SourceCache, Age: 20 * time.Second}, r); diff != "" {
		t.Errorf("fresh hit (-want +got):\n%s", diff)
	}
	clk.Advance(time.Hour)
	r, err = w.ExecuteResult(ctx, func(context.Context) (int, error) { return 0, errFlaky })
	assert.NoError(t, err, "stale on error")
	assert.Equal(t, er.SourceStaleCache, r.Source, "stale on error: %+v", r)
	assert.Equal(t, time.Hour+20*time.Second, r.Age, "stale on error: %+v", r)
	assert.Equal(t, 5, r.Value, "stale on error: %+v", r)
}

func TestTimingMetricsAreOptIn(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	slow := func(context.Context) (int, error) { clk.Advance(3 * time.Second); return 1, nil }
	for _, timing := range []bool{false, true} {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Retry: fastRetry[int](1), TimingMetrics: timing}, engine.WithClock(clk))
		w.Execute(context.Background(), slow)
		w.Execute(context.Background(), func(context.Context) (int, error) { clk.Advance(time.Second); return 1, nil })
		m := w.Metrics()
		want := time.Duration(0)
		if timing {
			want = 4 * time.Second
		}
		assert.Equal(t, want, m.TotalTime, "timing %v: total", timing)
		if timing {
			assert.Equal(t, 3*time.Second, m.MaxTime, "timing %v: max", timing)
		}
	}
}

// TestQueuedExecutionsCountAgainstTheDeadline queues executions behind a
// held bulkhead slot under an overall deadline: the wait ends at the
// deadline on the manual clock, and the contexts the bulkhead derives from
// the executions' pooled contexts leave no goroutine behind (goleak).
func TestQueuedExecutionsCountAgainstTheDeadline(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	bc := bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: 10, QueueTimeout: bulkhead.NoTimeout}
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyBulkhead, Bulkhead: &bc, GlobalTimeout: 5 * time.Second}, engine.WithClock(clk))
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error)
	go func() {
		_, err := w.Execute(ctx, func(context.Context) (int, error) { close(inside); <-release; return 1, nil })
		holder <- err
	}()
	<-inside
	const queued = 4
	errs := make(chan error, queued)
	for range queued {
		go func() {
			_, err := w.Execute(ctx, func(context.Context) (int, error) { return 2, nil })
			errs <- err
		}()
	}
	for w.Bulkhead().Metrics().Queued < queued {
		runtime.Gosched()
	}
	clk.Advance(5 * time.Second)
	for range queued {
		assert.ErrorIs(t, <-errs, context.DeadlineExceeded, "queued past the deadline")
	}
	close(release)
	// The holder's success came back after its deadline too: deadlines
	// are absolute, so it is a timeout as well.
	assert.ErrorIs(t, <-holder, context.DeadlineExceeded, "holder: want its deadline")
	m := w.Metrics()
	assert.Equal(t, int64(queued+1), m.Timeouts, "timeouts in %+v", m)
}

// A caller whose context ends during an execution gets its context's
// error, not a fallback's value: nobody waits for the answer
// (docs/fallback.md).
func TestACallerWhoseContextEndsIsNotFallenBack(t *testing.T) {
	fb := er.FallbackValue("fallback")
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Retry: fastRetry[string](3), Fallback: &fb})
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	v, err := w.Execute(ctx, func(context.Context) (string, error) {
		calls++
		cancel() // the caller gives up during the attempt
		return "", errFlaky
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, v, "no fallback")
	assert.Equal(t, 1, calls, "calls")
	m := w.Metrics()
	assert.Zero(t, m.Fallbacks, "metrics %+v: want the execution failed, not fallen back", m)
	assert.Equal(t, int64(1), m.Failed, "metrics %+v: want the execution failed, not fallen back", m)
}
