package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
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

func TestEachStrategyAlone(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	ctx := context.Background()
	t.Run("retry", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Retry: fastRetry[int](3)})
		fn, calls := failing(2, errFlaky, 5)
		v, steps, err := w.Trace(ctx, fn)
		if v != 5 || err != nil || *calls != 3 {
			t.Errorf("%v %v after %d calls", v, err, *calls)
		}
		if got := pathOf(steps); got != "Start → Attempt → Backoff → Retry → Attempt → Backoff → Retry → Attempt → Done" {
			t.Errorf("path %s", got)
		}
	})
	t.Run("circuit breaker", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(2, time.Minute)}, engine.WithClock(clk))
		for range 2 {
			w.Execute(ctx, func(context.Context) (int, error) { return 0, errFlaky })
		}
		calls := 0
		_, err := w.Execute(ctx, func(context.Context) (int, error) { calls++; return 1, nil })
		if !errors.Is(err, breaker.ErrOpen) || calls != 0 {
			t.Errorf("open breaker: %v with %d calls", err, calls)
		}
	})
	t.Run("fallback", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback, Fallback: ptr(er.FallbackValue("default"))})
		v, src, err := execSource(w, ctx, func(context.Context) (string, error) { return "", errFlaky })
		if v != "default" || src != er.SourceFallbackValue || err != nil {
			t.Errorf("%q %v %v", v, src, err)
		}
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
		if !errors.Is(err, bulkhead.ErrFull) || calls != 0 {
			t.Errorf("full bulkhead: %v with %d calls", err, calls)
		}
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
		if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("deadline: %v", err)
		}
	})
	t.Run("cache", func(t *testing.T) {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: ptr(cache.DefaultConfig())}, engine.WithClock(clk))
		calls := 0
		fn := func(context.Context) (int, error) { calls++; return 7, nil }
		w.Execute(ctx, fn)
		v, src, err := execSource(w, ctx, fn)
		if v != 7 || src != er.SourceCache || err != nil || calls != 1 {
			t.Errorf("read-through: %v %v %v after %d calls", v, src, err, calls)
		}
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
	if v != "cached response" || src != er.SourceFallbackValue || err != nil || calls != 3 {
		t.Fatalf("first: %q %v %v after %d calls", v, src, err, calls)
	}
	// 2: two more failures reach the threshold of 5 and open the breaker;
	// the third attempt is refused by it, and the fallback answers.
	v, steps, err := w.Trace(ctx, fn)
	if v != "cached response" || err != nil || calls != 5 || w.Breaker().State() != breaker.StateOpen {
		t.Fatalf("second: %q %v after %d calls, breaker %v", v, err, calls, w.Breaker().State())
	}
	want := "Start → CheckCircuit → Attempt → Backoff → Retry → CheckCircuit → Attempt → Backoff → Retry → CheckCircuit → Fallback → Recovered"
	if got := pathOf(steps); got != want {
		t.Errorf("path\n%s\nwant\n%s", got, want)
	}
	// 3: while open, the function is never called.
	w.Execute(ctx, fn)
	if calls != 5 {
		t.Errorf("the function was called past an open breaker (%d calls)", calls)
	}
	// 4: after the open timeout, two trial successes close the breaker.
	clk.Advance(30 * time.Second)
	if w.Breaker().State() != breaker.StateHalfOpen {
		t.Fatalf("breaker %v after the open timeout", w.Breaker().State())
	}
	healthy = true
	for range 2 {
		if v, err := w.Execute(ctx, fn); v != "fresh" || err != nil {
			t.Fatalf("trial: %q %v", v, err)
		}
	}
	if w.Breaker().State() != breaker.StateClosed {
		t.Errorf("breaker %v after two trial successes, want closed", w.Breaker().State())
	}
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
			if v != tc.want || src != tc.wantSrc {
				t.Errorf("got %q from %v, want %q from %v", v, src, tc.want, tc.wantSrc)
			}
			for _, e := range tc.wantErrs {
				if !errors.Is(err, e) {
					t.Errorf("error %v does not match %v", err, e)
				}
			}
			if tc.wantErrs == nil && err != nil {
				t.Errorf("error %v", err)
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
	if v, src, _ := execSource(w, ctx, fail); v != "remembered" || src != er.SourceFallbackCache {
		t.Errorf("within the TTL: %q from %v", v, src)
	}
	clk.Advance(time.Second)
	if v, src, _ := execSource(w, ctx, fail); v != "value" || src != er.SourceFallbackValue {
		t.Errorf("past the TTL: %q from %v, want the value", v, src)
	}
}

func TestCacheStaleOnErrorAndCoalescing(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute}}, engine.WithClock(clk))
	ctx := context.Background()
	w.Execute(ctx, func(context.Context) (int, error) { return 1, nil })
	clk.Advance(90 * time.Second)
	v, src, err := execSource(w, ctx, func(context.Context) (int, error) { return 0, errFlaky })
	if v != 1 || src != er.SourceStaleCache || err != nil {
		t.Errorf("stale on error: %v %v %v", v, src, err)
	}
	if v, src, _ := execSource(w, ctx, func(context.Context) (int, error) { return 2, nil }); v != 2 || src != er.SourceFunction {
		t.Errorf("a stale entry was served as fresh: %v %v", v, src)
	}

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
	if calls.Load() != 1 {
		t.Errorf("%d calls of the function for 100 identical concurrent calls", calls.Load())
	}
	for i, r := range results {
		if r != 42 {
			t.Fatalf("caller %d got %d", i, r)
		}
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
	if h := w.Health(); h.Status != er.HealthOK || h.Samples != 8 {
		t.Errorf("after 8 successes: %+v", h)
	}
	w.Execute(ctx, bad)
	if h := w.Health(); h.Status != er.HealthDegraded || h.Failures != 1 {
		t.Errorf("1 failure in 9: %+v, want degraded", h)
	}
	w.Execute(ctx, bad)
	w.Execute(ctx, bad) // third failure in the window: the alert fires
	w.Execute(ctx, bad) // still above: no second alert
	if fmt.Sprint(alerts) != "[3]" {
		t.Errorf("alerts %v, want one at 3 failures", alerts)
	}
	for range 10 {
		w.Execute(ctx, ok) // the failures leave the window: the alert re-arms
	}
	if h := w.Health(); h.Status != er.HealthOK || h.Failures != 0 {
		t.Errorf("after 10 successes: %+v", h)
	}
	for range 3 {
		w.Execute(ctx, bad)
	}
	if fmt.Sprint(alerts) != "[3 3]" {
		t.Errorf("alerts %v, want a second alert after re-arming", alerts)
	}
	for range 2 {
		w.Execute(ctx, bad)
	}
	if h := w.Health(); h.Status != er.HealthUnhealthy {
		t.Errorf("5 failures in 10: %+v, want unhealthy", h)
	}
	m := w.Metrics()
	if m.Executions != 27 || m.Failures != 9 || m.Successes != 18 || m.Calls != 18+9*2 || m.Retries != 9 || errs != 9 {
		t.Errorf("metrics %+v, OnError %d", m, errs)
	}
	if mp := m.Map(); mp["attempts"] != int64(27) || mp["successes"] != int64(18) || mp["fallbacks"] != int64(0) {
		t.Errorf("map form %v", mp)
	}
}

func TestFactories(t *testing.T) {
	ctx := context.Background()
	rw, err := er.NewRetry(er.RetryConfig[int]{MaxAttempts: 4, Backoff: er.BackoffFixed})
	if err != nil {
		t.Fatal(err)
	}
	fn, calls := failing(3, errFlaky, 9)
	if v, err := rw.Execute(ctx, fn); v != 9 || err != nil || *calls != 4 {
		t.Errorf("retry workflow: %v %v after %d", v, err, *calls)
	}
	cw, err := er.NewBreakerWorkflow(2, time.Minute, "service_unavailable")
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Breaker().Close()
	for i := range 3 { // two failures open the breaker; the fallback answers the rejection
		v, err := cw.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
		if i < 2 && !errors.Is(err, errFlaky) || i == 2 && (v != "service_unavailable" || err != nil) {
			t.Errorf("breaker workflow, call %d: %q %v", i+1, v, err)
		}
	}
	if cw.Breaker().State() != breaker.StateOpen {
		t.Errorf("breaker %v", cw.Breaker().State())
	}
}

func TestFactoriesTakeClockObserverAndDeadline(t *testing.T) {
	clock := enginetest.NewClock(time.Unix(0, 0))
	var steps int
	obs := engine.ObserverFunc(func(engine.Record) { steps++ })
	rw, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Retry:    &er.RetryConfig[int]{MaxAttempts: 3, Backoff: er.BackoffFixed, InitialDelay: time.Second},
		Deadline: &er.DeadlineConfig{Timeout: 90 * time.Second},
	}, engine.WithClock(clock), engine.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	failing2, calls := failing(2, errFlaky, 9)
	var left []time.Duration // the time left on each attempt, from WithDeadline's timeout
	fn := func(ctx context.Context) (int, error) {
		d, ok := er.TimeLeft(ctx)
		if !ok {
			t.Error("no deadline on the attempt's context: WithDeadline was ignored")
		}
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
		if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	<-done
	if v != 9 || err != nil || *calls != 3 {
		t.Errorf("retry workflow on the manual clock: %v %v after %d calls", v, err, *calls)
	}
	if steps == 0 {
		t.Error("the observer saw no step")
	}
	// 90s overall, less the two one-second backoffs on the manual clock.
	if want := []time.Duration{90 * time.Second, 89 * time.Second, 88 * time.Second}; !slices.Equal(left, want) {
		t.Errorf("time left per attempt %v, want %v", left, want)
	}

	cw, err := er.NewBreakerWorkflow(1, time.Minute, "fallback", engine.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Breaker().Close()
	if _, err := cw.Execute(context.Background(), func(context.Context) (string, error) { return "", errFlaky }); !errors.Is(err, errFlaky) {
		t.Fatalf("breaker workflow: %v, want the failure's own error", err)
	}
	if cw.Breaker().State() != breaker.StateOpen {
		t.Fatalf("breaker %v after one failure, want Open", cw.Breaker().State())
	}
	if v, err := cw.Execute(context.Background(), func(context.Context) (string, error) { return "", errFlaky }); v != "fallback" || err != nil {
		t.Fatalf("breaker workflow while open: %q %v, want the fallback", v, err)
	}
	clock.Advance(time.Minute) // the open timeout runs on the manual clock
	if s := cw.Breaker().State(); s != breaker.StateHalfOpen {
		t.Errorf("breaker %v a minute later on the manual clock, want HalfOpen", s)
	}
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
			if v != c.wantVal || err != nil {
				t.Errorf("got %q, %v; want %q", v, err, c.wantVal)
			}
			if waited := clock.Now().Sub(start); waited != c.wantWait {
				t.Errorf("waited %v on the clock, want %v", waited, c.wantWait)
			}
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
		var ce *er.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestOneBreakerSharedByWorkflowsOfDifferentTypes(t *testing.T) {
	b, err := breaker.New(*countBreaker(2, time.Minute), engine.WithClock(enginetest.NewClock(time.Time{})))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ints := mustWorkflow(t, er.ErrorRecoveryConfig[int]{SharedBreaker: b})
	strs := mustWorkflow(t, er.ErrorRecoveryConfig[string]{SharedBreaker: b})
	ctx := context.Background()
	ints.Execute(ctx, func(context.Context) (int, error) { return 0, errFlaky })
	strs.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
	if b.State() != breaker.StateOpen {
		t.Fatalf("two failures through two workflows: breaker %v", b.State())
	}
	if _, err := ints.Execute(ctx, func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, breaker.ErrOpen) {
		t.Errorf("the int workflow does not see the shared breaker open: %v", err)
	}
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
			if r := recover(); r != "oops" {
				t.Errorf("recovered %v", r)
			}
		}()
		w.Execute(context.Background(), func(context.Context) (int, error) { calls++; panic("oops") })
	}()
	if calls != 1 {
		t.Errorf("%d calls: a panic is neither retried nor fallen back", calls)
	}
	if w.Bulkhead().Metrics().Active != 0 {
		t.Errorf("bulkhead slot held after the panic")
	}
	if w.Breaker().State() != breaker.StateOpen {
		t.Errorf("the panic was not recorded as a failure: breaker %v", w.Breaker().State())
	}
}

// TestTracesFollowOnlyTheirDefinitionsEdges runs a fully layered workflow
// through many outcomes and checks every step against its definition.
func TestClockIsTheOneBackoffsRunOn(t *testing.T) {
	clock := enginetest.NewClock(time.Unix(0, 0))
	if got := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry}, engine.WithClock(clock)).Clock(); got != clock {
		t.Errorf("Clock() = %v, want the configured clock", got)
	}
	if _, ok := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry}).Clock().(engine.RealClock); !ok {
		t.Error("Clock() of a workflow without one is not the real clock")
	}
}

func TestNameNamesTheMachineInDiagramsAndTraces(t *testing.T) {
	for _, c := range []struct{ name, want string }{{"", "workflow"}, {"quotes", "quotes"}} {
		w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Name: c.name, Primary: er.StrategyRetry})
		if got := w.Definition().Name(); got != c.want {
			t.Errorf("Name %q: machine %q, want %q", c.name, got, c.want)
		}
		_, steps, err := w.Trace(context.Background(), func(context.Context) (int, error) { return 1, nil })
		if err != nil || len(steps) == 0 || steps[0].Machine != c.want {
			t.Errorf("Name %q: trace %v, %v; want steps of machine %q", c.name, steps, err, c.want)
		}
		if dot := w.Dot(); !strings.Contains(dot, "digraph \""+c.want+"\"") {
			t.Errorf("Name %q: dot does not name the graph %q:\n%s", c.name, c.want, dot)
		}
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
			if s.Transition < 0 {
				t.Fatalf("execution %d: a step took no transition: %+v", i, s)
			}
			if !edges[s.From+"|"+s.Event+"|"+s.To] {
				t.Fatalf("execution %d: step %s -%s-> %s is not an edge of the definition", i, s.From, s.Event, s.To)
			}
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
	if len(opts.Clusters) != 3 {
		t.Errorf("%d clusters, want cache, bulkhead and breaker", len(opts.Clusters))
	}
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
	if err != nil || r.Value != 5 || r.Source != er.SourceFunction || r.Attempts != 2 || r.Age != 0 {
		t.Errorf("from the function: %+v %v", r, err)
	}
	clk.Advance(20 * time.Second)
	if r, _ := w.ExecuteResult(ctx, fn); r.Source != er.SourceCache || r.Age != 20*time.Second || r.Attempts != 0 {
		t.Errorf("fresh hit: %+v", r)
	}
	clk.Advance(time.Hour)
	r, err = w.ExecuteResult(ctx, func(context.Context) (int, error) { return 0, errFlaky })
	if err != nil || r.Source != er.SourceStaleCache || r.Age != time.Hour+20*time.Second || r.Value != 5 {
		t.Errorf("stale on error: %+v %v", r, err)
	}
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
		if m.TotalTime != want || (timing && m.MaxTime != 3*time.Second) {
			t.Errorf("timing %v: total %v max %v", timing, m.TotalTime, m.MaxTime)
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
		if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("queued past the deadline: %v", err)
		}
	}
	close(release)
	// The holder's success came back after its deadline too: deadlines
	// are absolute, so it is a timeout as well.
	if err := <-holder; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("holder: %v, want its deadline", err)
	}
	if m := w.Metrics(); m.Timeouts != queued+1 {
		t.Errorf("metrics %+v, want %d timeouts", m, queued+1)
	}
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
	if !errors.Is(err, context.Canceled) || v != "" || calls != 1 {
		t.Errorf("Execute = %q, %v after %d calls; want context.Canceled after 1, no fallback", v, err, calls)
	}
	if m := w.Metrics(); m.Fallbacks != 0 || m.Failed != 1 {
		t.Errorf("metrics %+v: want the execution failed, not fallen back", m)
	}
}
