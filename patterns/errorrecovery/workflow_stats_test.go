package errorrecovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// hangUntilDone returns a function standing for a dependency that never
// answers: it advances clk by d, past its context's deadline, and returns
// when the context is done, with its error.
func hangUntilDone[T any](clk *enginetest.Clock, d time.Duration) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		done := ctx.Done()
		clk.Advance(d)
		<-done
		var zero T
		return zero, ctx.Err()
	}
}

// TestDeadDependencyBehindAFallbackIsUnhealthyAndAlertsOnce is issue 16's
// case: a dependency that never answers, behind a breaker and a fallback
// value. The caller always gets the fallback, but health describes the
// dependency: it is unhealthy, the alert fires once (and again only after
// failures fell below the threshold), OnError hears every failure, and
// the metrics count each timeout and each rejection that the fallback
// answered.
func TestDeadDependencyBehindAFallbackIsUnhealthyAndAlertsOnce(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var alerts []int
	var errs []error
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[string](2), Breaker: countBreaker(2, time.Minute), Fallback: ptr(er.FallbackValue("cached")),
		GlobalTimeout: time.Second, HealthWindow: 10, AlertThreshold: 5,
		OnAlert: func(n int) { alerts = append(alerts, n) },
		OnError: func(err error) { errs = append(errs, err) },
	}, engine.WithClock(clk))
	ctx := context.Background()
	dead := hangUntilDone[string](clk, time.Second)

	// The first two executions time out at the overall deadline, which
	// opens the breaker; the next eight are rejected by it. The fallback
	// answers all ten.
	for i := range 10 {
		r, err := w.ExecuteResult(ctx, dead)
		require.NoError(t, err, "execution %d", i)
		require.Equal(t, "cached", r.Value, "execution %d: %+v, want the fallback value", i, r)
		require.Equal(t, er.SourceFallbackValue, r.Source, "execution %d: %+v, want the fallback value", i, r)
	}
	h := w.Health()
	assert.Equal(t, er.HealthUnhealthy, h.Status, "Health() = %+v", h)
	assert.Equal(t, 10, h.Failures, "Health() = %+v", h)
	assert.Equal(t, 1.0, h.ErrorRate, "Health() = %+v", h)
	assert.Equal(t, []int{5}, alerts, "alerts: want one, at 5 failures")
	var timeouts, rejections int
	for _, err := range errs {
		var te *er.TimeoutError
		switch {
		case errors.As(err, &te):
			timeouts++
		case errors.Is(err, breaker.ErrOpen):
			rejections++
		}
	}
	assert.Len(t, errs, 10, "OnError: %v", errs)
	assert.Equal(t, 2, timeouts, "OnError timeouts: %v", errs)
	assert.Equal(t, 8, rejections, "OnError rejections: %v", errs)
	want := er.WorkflowMetrics{Executions: 10, Fallbacks: 10, Failures: 10, Calls: 2, Rejections: 8, Timeouts: 2}
	if diff := cmp.Diff(want, w.Metrics()); diff != "" {
		t.Errorf("Metrics() (-want +got):\n%s", diff)
	}
	wantMap := map[string]any{"attempts": int64(10), "successes": int64(0), "failures": int64(10), "fallbacks": int64(10)}
	if diff := cmp.Diff(wantMap, w.Metrics().Map(), onlyKeys("attempts", "successes", "failures", "fallbacks")); diff != "" {
		t.Errorf("Map() (-want +got):\n%s", diff)
	}

	// The dependency comes back: the breaker half-opens and closes, and
	// the failures leave the window, which re-arms the alert.
	clk.Advance(time.Minute)
	for range 10 {
		r, err := w.ExecuteResult(ctx, func(context.Context) (string, error) { return "fresh", nil })
		require.NoError(t, err, "the dependency is back")
		require.Equal(t, er.SourceFunction, r.Source, "the dependency is back: %+v", r)
	}
	h = w.Health()
	assert.Equal(t, er.HealthOK, h.Status, "after 10 successes Health() = %+v", h)
	assert.Zero(t, h.Failures, "after 10 successes Health() = %+v", h)
	clk.Advance(time.Minute)
	for range 5 {
		w.Execute(ctx, dead)
	}
	assert.Equal(t, []int{5, 5}, alerts, "alerts: want a second one after the first re-armed")
}

// TestMetricsCountWhatTheCallerSawAndWhatTheDependencyDid pins what each
// counter counts, one execution per case: each is counted in one of
// Successes, Fallbacks, StaleServed and Failed, and Failures (the
// dependency's) is the sum of the last three.
func TestMetricsCountWhatTheCallerSawAndWhatTheDependencyDid(t *testing.T) {
	ok := func(context.Context) (int, error) { return 1, nil }
	bad := func(context.Context) (int, error) { return 0, errFlaky }
	fallback := ptr(er.FallbackValue(-1))
	type setup struct {
		cfg  er.ErrorRecoveryConfig[int]
		prep func(t *testing.T, w *er.Workflow[int], clk *enginetest.Clock) // before the execution counted
		fn   func(clk *enginetest.Clock) func(context.Context) (int, error)
	}
	retry2 := func(s er.Strategy) er.ErrorRecoveryConfig[int] {
		return er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Secondary: []er.Strategy{s}, Retry: fastRetry[int](2), Fallback: fallback}
	}
	fixed := func(fn func(context.Context) (int, error)) func(*enginetest.Clock) func(context.Context) (int, error) {
		return func(*enginetest.Clock) func(context.Context) (int, error) { return fn }
	}
	cacheCfg := er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache}
	tests := []struct {
		name string
		setup
		want er.WorkflowMetrics
	}{{
		name:  "the first attempt succeeds",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](2)}, fn: fixed(ok)},
		want:  er.WorkflowMetrics{Executions: 1, Successes: 1, Calls: 1},
	}, {
		name: "a retry succeeds",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](2)}, fn: func(*enginetest.Clock) func(context.Context) (int, error) {
			fn, _ := failing(1, errFlaky, 1)
			return fn
		}},
		want: er.WorkflowMetrics{Executions: 1, Successes: 1, Calls: 2, Retries: 1},
	}, {
		name:  "retries run out",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](2)}, fn: fixed(bad)},
		want:  er.WorkflowMetrics{Executions: 1, Failed: 1, Failures: 1, Calls: 2, Retries: 1},
	}, {
		name:  "retries run out and a fallback answers",
		setup: setup{cfg: retry2(er.StrategyFallback), fn: fixed(bad)},
		want:  er.WorkflowMetrics{Executions: 1, Fallbacks: 1, Failures: 1, Calls: 2, Retries: 1},
	}, {
		name: "the open breaker rejects and a fallback answers",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Secondary: []er.Strategy{er.StrategyFallback}, Fallback: fallback},
			prep: func(t *testing.T, w *er.Workflow[int], _ *enginetest.Clock) { w.Breaker().ForceOpen() }, fn: fixed(ok)},
		want: er.WorkflowMetrics{Executions: 1, Fallbacks: 1, Failures: 1, Rejections: 1},
	}, {
		name: "the full bulkhead rejects",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Bulkhead: &bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: er.None}},
			prep: func(t *testing.T, w *er.Workflow[int], _ *enginetest.Clock) {
				require.NoError(t, w.Bulkhead().Acquire(context.Background()))
				t.Cleanup(w.Bulkhead().Release)
			}, fn: fixed(ok)},
		want: er.WorkflowMetrics{Executions: 1, Failed: 1, Failures: 1, Rejections: 1},
	}, {
		name: "the overall deadline passes and a fallback answers",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Primary: er.StrategyFallback, GlobalTimeout: time.Second, Fallback: fallback},
			fn: func(clk *enginetest.Clock) func(context.Context) (int, error) {
				return hangUntilDone[int](clk, time.Second)
			}},
		want: er.WorkflowMetrics{Executions: 1, Fallbacks: 1, Failures: 1, Calls: 1, Timeouts: 1},
	}, {
		name: "an attempt times out and the retry succeeds",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](2), Deadline: &er.DeadlineConfig{Timeout: er.None, AttemptTimeout: time.Second}},
			fn: func(clk *enginetest.Clock) func(context.Context) (int, error) {
				hang, calls := hangUntilDone[int](clk, time.Second), 0
				return func(ctx context.Context) (int, error) {
					if calls++; calls == 1 {
						return hang(ctx)
					}
					return 1, nil
				}
			}},
		want: er.WorkflowMetrics{Executions: 1, Successes: 1, Calls: 2, Retries: 1, AttemptTimeouts: 1},
	}, {
		name: "a fresh cache entry answers",
		setup: setup{cfg: cacheCfg, prep: func(t *testing.T, w *er.Workflow[int], _ *enginetest.Clock) {
			w.Cache().Put(w.Cache().Key(context.Background()), 7)
		}, fn: fixed(bad)},
		want: er.WorkflowMetrics{Executions: 1, Successes: 1, CacheHits: 1},
	}, {
		name: "a stale cache entry answers",
		setup: setup{cfg: cacheCfg, prep: func(t *testing.T, w *er.Workflow[int], clk *enginetest.Clock) {
			w.Cache().Put(w.Cache().Key(context.Background()), 7)
			clk.Advance(time.Hour)
		}, fn: fixed(bad)},
		want: er.WorkflowMetrics{Executions: 1, StaleServed: 1, Failures: 1, Calls: 1},
	}, {
		name: "the caller's own deadline is no timeout of the workflow",
		setup: setup{cfg: er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](2)}, fn: func(*enginetest.Clock) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				ctx.Value(expiringKey{}).(*expiringCtx).expire()
				return 0, ctx.Err()
			}
		}},
		want: er.WorkflowMetrics{Executions: 1, Failed: 1, Failures: 1, Calls: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			w := mustWorkflow(t, tt.cfg, engine.WithClock(clk))
			if tt.prep != nil {
				tt.prep(t, w, clk)
			}
			w.Execute(&expiringCtx{Context: context.Background()}, tt.fn(clk))
			if diff := cmp.Diff(tt.want, w.Metrics()); diff != "" {
				t.Errorf("Metrics() (-want +got):\n%s", diff)
			}
		})
	}
}

// expiringCtx is a caller's context whose deadline passes when the
// function calls expire, as if the caller's own deadline had come.
type expiringCtx struct {
	context.Context
	expired bool
}

func (c *expiringCtx) expire() { c.expired = true }

// Value lets the function reach the caller's context through the one it
// is given.
func (c *expiringCtx) Value(key any) any {
	if key == (expiringKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *expiringCtx) Err() error {
	if c.expired {
		return context.DeadlineExceeded
	}
	return nil
}

type expiringKey struct{}

// TestOnErrorHearsFailuresAFallbackAnswered: OnError is called
// once per execution the dependency failed, with the error returned or the
// one the fallback answered.
func TestOnErrorHearsFailuresAFallbackAnswered(t *testing.T) {
	var errs []error
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyFallback},
		Retry: fastRetry[int](2), Fallback: ptr(er.FallbackValue(-1)),
		OnError: func(err error) { errs = append(errs, err) },
	})
	w.Execute(context.Background(), func(context.Context) (int, error) { return 0, errFlaky })
	w.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
	if assert.Len(t, errs, 1, "OnError: want the one *ExhaustedError the fallback answered") {
		assert.ErrorIs(t, errs[0], er.ErrExhausted)
		assert.ErrorIs(t, errs[0], errFlaky)
	}
}

// TestAFollowerAnsweredByItsLeadersFallbackIsAFailureReportedOnce: a
// coalesced call that takes the fallback answer its leader got counts as
// a failure of the dependency, like its leader, but the error is reported
// (OnError) once, by the leader that met it.
func TestAFollowerAnsweredByItsLeadersFallbackIsAFailureReportedOnce(t *testing.T) {
	var errs []error
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Secondary: []er.Strategy{er.StrategyFallback},
		Cache: &cache.Config{}, Fallback: ptr(er.FallbackValue("default")),
		OnError: func(err error) { errs = append(errs, err) }})
	r := coalesced(t, w, func(context.Context) (string, error) { return "", errFlaky })
	require.Equal(t, er.SourceFallbackValue, r.Source, "follower got %+v, want the leader's fallback answer", r)
	h := w.Health()
	assert.Equal(t, 2, h.Failures, "Health() = %+v, want both executions failed", h)
	assert.Equal(t, er.HealthUnhealthy, h.Status, "Health() = %+v, want both executions failed", h)
	m := w.Metrics()
	assert.Equal(t, int64(2), m.Fallbacks, "Metrics() = %+v", m)
	assert.Equal(t, int64(2), m.Failures, "Metrics() = %+v", m)
	assert.Equal(t, int64(1), m.Calls, "Metrics() = %+v", m)
	if assert.Len(t, errs, 1, "OnError: want the leader's error once") {
		assert.ErrorIs(t, errs[0], errFlaky)
	}
}
