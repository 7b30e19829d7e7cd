package errorrecovery_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// The layers of RATE_LIMIT, ADAPTIVE_LIMIT and BUDGET in a workflow:
// each alone, their order against the breaker, and all of them with
// retry, breaker and fallback.

var limitsStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// limitedWorkflow is mustWorkflow on a fresh manual clock, closing the
// shared machines it made.
func limitedWorkflow(t *testing.T, cfg er.ErrorRecoveryConfig[int]) (*er.Workflow[int], *enginetest.Clock) {
	t.Helper()
	clk := enginetest.NewClock(limitsStart)
	w := mustWorkflow(t, cfg, engine.WithClock(clk))
	if l := w.RateLimiter(); l != nil {
		t.Cleanup(l.Close)
	}
	if b := w.Budget(); b != nil {
		t.Cleanup(b.Close)
	}
	return w, clk
}

func one(context.Context) (int, error) { return 1, nil }

func TestRateLimitAloneRejectsWithATypedErrorCountedAsARejection(t *testing.T) {
	w, _ := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRateLimit,
		RateLimit: &ratelimit.Config{Permits: 1, Period: time.Second}})
	ctx := context.Background()

	v, steps, err := w.Trace(ctx, one)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.Equal(t, "Start → RateLimit → Attempt → Done", pathOf(steps))

	calls := 0
	_, steps, err = w.Trace(ctx, func(context.Context) (int, error) { calls++; return 1, nil })
	require.ErrorIs(t, err, ratelimit.ErrLimited)
	le, ok := errors.AsType[*ratelimit.Error](err)
	require.True(t, ok, "the limiter's own error: %v", err)
	assert.Equal(t, time.Second, le.RetryAfter(), "the next permit is a period away")
	assert.Zero(t, calls, "a rejected execution does not call the function")
	assert.Equal(t, "Start → RateLimit → Failed", pathOf(steps))

	m := w.Metrics()
	assert.Equal(t, int64(1), m.Rejections)
	assert.Equal(t, int64(1), m.Calls)
	assert.Equal(t, int64(1), m.Failed)
}

func TestRateLimitWaitsOnTheClockUpToItsMaxWait(t *testing.T) {
	// One permit every 100ms; a call may wait 150ms for its own.
	w, clk := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRateLimit,
		RateLimit: &ratelimit.Config{Permits: 10, Period: time.Second, MaxWait: 150 * time.Millisecond}})
	l := w.RateLimiter()
	ctx := context.Background()
	require.True(t, l.Allow(), "the permit of now")

	v, advances, err := onClock(clk, func() (int, error) { return w.Execute(ctx, one) })
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.Equal(t, []time.Duration{100 * time.Millisecond}, advances, "the execution slept until its permit, on the clock")

	_, err = l.Reserve() // the permit of 200ms, a 100ms wait
	require.NoError(t, err)
	_, advances, err = onClock(clk, func() (int, error) { return w.Execute(ctx, one) })
	assert.ErrorIs(t, err, ratelimit.ErrLimited, "the next permit is 200ms away, more than MaxWait")
	assert.Empty(t, advances, "a rejection does not wait")
	assert.Equal(t, int64(1), w.Metrics().Rejections)
}

func TestRateLimitWaitNeverPassesTheOverallDeadline(t *testing.T) {
	w, clk := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRateLimit, GlobalTimeout: 50 * time.Millisecond,
		RateLimit: &ratelimit.Config{Permits: 10, Period: time.Second, MaxWait: time.Second}})
	require.True(t, w.RateLimiter().Allow())
	_, advances, err := onClock(clk, func() (int, error) { return w.Execute(context.Background(), one) })
	require.ErrorIs(t, err, ratelimit.ErrLimited, "the permit is due after the deadline: refused at once, not a timeout later")
	assert.Empty(t, advances)
	assert.Equal(t, limitsStart, clk.Now())
	assert.Equal(t, ratelimit.Metrics{State: ratelimit.StateLimited, Permitted: 1, Rejected: 1}, w.RateLimiter().Metrics(),
		"the refused permit was not spent")
}

func TestRateLimitCallerGivingUpWhileWaitingIsNoRejection(t *testing.T) {
	w, clk := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRateLimit, Secondary: []er.Strategy{er.StrategyCircuitBreaker},
		RateLimit: &ratelimit.Config{Permits: 10, Period: time.Second, MaxWait: time.Second}})
	require.True(t, w.RateLimiter().Allow())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := w.Execute(ctx, one); done <- err }()
	waiters(t, clk, 1)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Zero(t, w.Metrics().Rejections)
	assert.Zero(t, w.Breaker().Metrics().Calls, "the breaker permit was dropped, not counted")
}

func TestBreakerRejectionTakesNoRatePermit(t *testing.T) {
	w, _ := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Secondary: []er.Strategy{er.StrategyRateLimit},
		Breaker: countBreaker(5, time.Minute), RateLimit: &ratelimit.Config{Permits: 1, Period: time.Hour}})
	ctx := context.Background()
	w.Breaker().ForceOpen()
	for range 3 {
		_, steps, err := w.Trace(ctx, one)
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, "Start → CheckCircuit → Failed", pathOf(steps))
	}
	assert.Zero(t, w.RateLimiter().Metrics().Permitted, "the breaker refused first: no rate permit taken")
	w.Breaker().ForceClosed()
	_, err := w.Execute(ctx, one)
	assert.NoError(t, err, "the hour's one permit is still there")
	assert.Equal(t, int64(3), w.Metrics().Rejections)
}

func TestRateRejectionIsNoBreakerFailure(t *testing.T) {
	w, clk := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Secondary: []er.Strategy{er.StrategyRateLimit},
		Breaker: countBreaker(1, time.Minute), RateLimit: &ratelimit.Config{Permits: 1, Period: time.Second}})
	ctx := context.Background()
	_, err := w.Execute(ctx, one)
	require.NoError(t, err)
	for range 5 {
		_, steps, err := w.Trace(ctx, one)
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.Equal(t, "Start → CheckCircuit → RateLimit → Failed", pathOf(steps))
	}
	bm := w.Breaker().Metrics()
	assert.Equal(t, breaker.StateClosed, bm.State, "a threshold of one failure, and no failure recorded")
	assert.Equal(t, 1, bm.Calls, "only the call made is in the window")
	assert.Zero(t, bm.Failures)

	// Half-open with one trial: a rate rejection gives the trial back.
	w.Breaker().ForceOpen()
	clk.Advance(time.Minute)
	require.Equal(t, breaker.StateHalfOpen, w.Breaker().State())
	require.True(t, w.RateLimiter().Allow(), "spend the permit the minute brought")
	_, err = w.Execute(ctx, one)
	require.ErrorIs(t, err, ratelimit.ErrLimited, "the second's permit is not due yet")
	assert.Zero(t, w.Breaker().Metrics().TrialsInFlight, "the trial was dropped")
	clk.Advance(time.Second)
	for range 2 {
		_, err = w.Execute(ctx, one)
		require.NoError(t, err, "the trial slot serves the next call")
		clk.Advance(time.Second)
	}
	assert.Equal(t, breaker.StateClosed, w.Breaker().State())
}

func TestAdaptiveLimitAloneRecordsLatencyAndRejectsOverTheLimit(t *testing.T) {
	w, clk := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyAdaptiveLimit,
		AdaptiveLimit: &adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1, Window: time.Millisecond, MinSamples: 1}})
	ctx := context.Background()
	var inner error
	var innerPath string
	v, steps, err := w.Trace(ctx, func(ctx context.Context) (int, error) {
		var s []engine.Record
		_, s, inner = w.Trace(ctx, one) // the limit is one call in flight: this one
		innerPath = pathOf(s)
		clk.Advance(30 * time.Millisecond)
		return 2, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, v)
	assert.Equal(t, "Start → AdaptiveLimit → Attempt → Done", pathOf(steps))
	require.ErrorIs(t, inner, adaptive.ErrLimitExceeded)
	le, ok := errors.AsType[*adaptive.LimitError](inner)
	require.True(t, ok)
	assert.Equal(t, adaptive.LimitError{Limit: 1, InFlight: 1}, *le)
	assert.Equal(t, "Start → AdaptiveLimit → Failed", innerPath)

	m := w.AdaptiveLimiter().Metrics()
	assert.Equal(t, adaptive.Metrics{Limit: 1, Baseline: 30 * time.Millisecond, Admitted: 1, Rejected: 1, Completed: 1}, m,
		"the attempt's latency, 30ms on the clock, closed the window")
	assert.Equal(t, int64(1), w.Metrics().Rejections)
}

func TestAdaptiveRejectionDropsTheBreakerTrial(t *testing.T) {
	bc := countBreaker(5, time.Minute)
	bc.HalfOpenMaxCalls = 1
	w, clk := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Secondary: []er.Strategy{er.StrategyAdaptiveLimit},
		Breaker: bc, AdaptiveLimit: &adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1}})
	w.Breaker().ForceOpen()
	clk.Advance(time.Minute)
	held, err := w.AdaptiveLimiter().Acquire()
	require.NoError(t, err)
	_, steps, err := w.Trace(context.Background(), one)
	require.ErrorIs(t, err, adaptive.ErrLimitExceeded)
	assert.Equal(t, "Start → CheckCircuit → AdaptiveLimit → Failed", pathOf(steps))
	bm := w.Breaker().Metrics()
	assert.Equal(t, breaker.StateHalfOpen, bm.State)
	assert.Zero(t, bm.TrialsInFlight, "the trial was given back")
	held.Drop()
	_, err = w.Execute(context.Background(), one)
	assert.NoError(t, err)
}

func TestPanicDropsTheAdaptivePermit(t *testing.T) {
	w, _ := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyAdaptiveLimit})
	assert.PanicsWithValue(t, "boom", func() {
		w.Execute(context.Background(), func(context.Context) (int, error) { panic("boom") })
	})
	m := w.AdaptiveLimiter().Metrics()
	assert.Zero(t, m.InFlight)
	assert.Equal(t, uint64(1), m.Dropped, "a panic's latency says nothing of the dependency")
}

// outage runs n executions of a dependency that always fails through a
// workflow with three attempts and a fallback value, with or without a
// budget allowing retries of a tenth of the executions, and returns the
// calls made and the workflow.
func outage(t *testing.T, n int, bc *budget.Config) (int, *er.Workflow[int], error) {
	t.Helper()
	cfg := er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyFallback},
		Retry: fastRetry[int](3), Fallback: ptr(er.FallbackValue(-1)), Budget: bc}
	var last error
	cfg.OnError = func(err error) { last = err }
	w, _ := limitedWorkflow(t, cfg)
	calls := 0
	for range n {
		v, err := w.Execute(context.Background(), func(context.Context) (int, error) { calls++; return 0, errFlaky })
		require.NoError(t, err, "the fallback answers every execution")
		require.Equal(t, -1, v)
	}
	return calls, w, last
}

func TestBudgetRefusesRetriesDuringAnOutageWhileTheFallbackAnswers(t *testing.T) {
	calls, w, _ := outage(t, 100, nil)
	assert.Equal(t, 300, calls, "without a budget, every execution makes its three attempts")
	assert.Equal(t, int64(200), w.Metrics().Retries)

	calls, w, last := outage(t, 100, &budget.Config{Ratio: 0.1, MinPerSecond: budget.NoMinimum})
	// Each execution deposits once; a retry needs a whole one in the
	// budget: a tenth of ten executions. So every tenth execution gets
	// one retry, and each ends with a refused retry.
	assert.Equal(t, 110, calls, "the budget bounds the retry storm at a tenth of the executions")
	m := w.Metrics()
	want := er.WorkflowMetrics{Executions: 100, Fallbacks: 100, Failures: 100, Calls: 110, Retries: 110, RetriesRefused: 100}
	assert.Empty(t, cmp.Diff(want, m))
	bm := w.Budget().Metrics()
	assert.Equal(t, budget.StateExhausted, bm.State)
	assert.Equal(t, uint64(10), bm.Withdrawn)
	assert.Equal(t, uint64(100), bm.Refused)
	assert.Equal(t, int64(100), bm.Executions)

	// What the fallback answered: the budget's refusal, typed.
	require.ErrorIs(t, last, budget.ErrExhausted)
	assert.ErrorIs(t, last, er.ErrExhausted, "retrying ended: the retries allowed are spent")
	assert.ErrorIs(t, last, errFlaky, "and the last attempt's error")
	be, ok := errors.AsType[*er.BudgetError](last)
	require.True(t, ok)
	assert.Equal(t, 2, be.Attempts, "the hundredth execution: one retry earned by the last ten, the second refused")
}

func TestBudgetRefusalWithoutFallbackEndsInExhausted(t *testing.T) {
	w, _ := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyBudget},
		Retry: fastRetry[int](3), Budget: &budget.Config{Ratio: budget.NoRatio, MinPerSecond: 1, Window: time.Second}})
	fail := func(context.Context) (int, error) { return 0, errFlaky }
	_, steps, err := w.Trace(context.Background(), fail)
	// The minimum allows one retry a second.
	be, ok := errors.AsType[*er.BudgetError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 2, be.Attempts)
	assert.Equal(t, "Start → Attempt → Backoff → Retry → Attempt → Backoff → Retry → Exhausted", pathOf(steps))
	r, err := w.ExecuteResult(context.Background(), fail)
	assert.ErrorIs(t, err, budget.ErrExhausted)
	assert.Equal(t, 1, r.Attempts)
}

func TestBudgetWithoutRetryOnlyDeposits(t *testing.T) {
	w, _ := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyBudget})
	for range 4 {
		_, err := w.Execute(context.Background(), one)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(4), w.Budget().Metrics().Executions, "one deposit per execution, for the workflows sharing the budget to retry with")
}

// everyLimit is retry, breaker and fallback with the three new layers.
func everyLimit(t *testing.T) (*er.Workflow[int], *enginetest.Clock) {
	return limitedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary:   er.StrategyRetry,
		Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback, er.StrategyRateLimit, er.StrategyAdaptiveLimit, er.StrategyBudget},
		Retry:     fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(-1)),
		RateLimit: &ratelimit.Config{Permits: 100, Period: time.Second, Burst: 10},
	})
}

func TestEveryLimitWithRetryBreakerAndFallback(t *testing.T) {
	w, _ := everyLimit(t)
	ctx := context.Background()
	fn, calls := failing(1, errFlaky, 5)
	v, steps, err := w.Trace(ctx, fn)
	require.NoError(t, err)
	assert.Equal(t, 5, v)
	assert.Equal(t, 2, *calls)
	assert.Equal(t, "Start → CheckCircuit → RateLimit → AdaptiveLimit → Attempt → Backoff → Retry → CheckCircuit → RateLimit → AdaptiveLimit → Attempt → Done",
		pathOf(steps), "a retry asks the budget, then the breaker and both limiters again")

	assert.Equal(t, uint64(2), w.RateLimiter().Metrics().Permitted)
	am := w.AdaptiveLimiter().Metrics()
	assert.Equal(t, uint64(2), am.Completed)
	assert.Zero(t, am.InFlight)
	assert.Equal(t, uint64(1), w.Budget().Metrics().Withdrawn)
	assert.Equal(t, 2, w.Breaker().Metrics().Calls)

	// Spend the rest of the burst: the rate limiter's rejection goes to
	// the fallback, and is not retried.
	for w.RateLimiter().Allow() {
	}
	r, err := w.ExecuteResult(ctx, one)
	require.NoError(t, err)
	assert.Equal(t, er.Result[int]{Value: -1, Source: er.SourceFallbackValue}, r)
	assert.Equal(t, int64(1), w.Metrics().Rejections)
}

func TestLimitsWorkflowDiagram(t *testing.T) {
	w, _ := everyLimit(t)
	g, opts := w.Diagram(fsm.DiagramOptions{})
	var names []string
	for _, c := range opts.Clusters {
		names = append(names, c.Graph.Name)
	}
	assert.Empty(t, cmp.Diff([]string{"circuit breaker", "rate limiter", "adaptive limiter", "retry budget"}, names))
	var dot, mermaid bytes.Buffer
	require.NoError(t, fsm.WriteDot(&dot, g, opts))
	require.NoError(t, fsm.WriteMermaid(&mermaid, g, opts))
	checkMachine(t, "limits", dot.String(), mermaid.String())
}

func TestLimitsTakePartWhenNamedOrGiven(t *testing.T) {
	shared, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	t.Cleanup(shared.Close)
	for _, tc := range []struct {
		name                    string
		cfg                     er.ErrorRecoveryConfig[int]
		rate, budgeted, adapted bool
	}{
		{"named", er.ErrorRecoveryConfig[int]{Primary: er.StrategyRateLimit, Secondary: []er.Strategy{er.StrategyBudget, er.StrategyAdaptiveLimit}}, true, true, true},
		{"sub-configs", er.ErrorRecoveryConfig[int]{RateLimit: &ratelimit.Config{}, Budget: &budget.Config{}, AdaptiveLimit: &adaptive.Config{}}, true, true, true},
		{"shared", er.ErrorRecoveryConfig[int]{SharedRateLimiter: shared}, true, false, false},
		{"none", er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := limitedWorkflow(t, tc.cfg)
			assert.Equal(t, tc.rate, w.RateLimiter() != nil)
			assert.Equal(t, tc.budgeted, w.Budget() != nil)
			assert.Equal(t, tc.adapted, w.AdaptiveLimiter() != nil)
			if tc.name == "shared" {
				assert.Same(t, shared, w.RateLimiter())
			}
		})
	}
}

func TestLimitSubConfigsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		cfg           er.ErrorRecoveryConfig[int]
		config, field string
	}{
		{er.ErrorRecoveryConfig[int]{RateLimit: &ratelimit.Config{Permits: -1}}, "ratelimit.Config", "Permits"},
		{er.ErrorRecoveryConfig[int]{Budget: &budget.Config{Window: time.Hour}}, "budget.Config", "Window"},
		{er.ErrorRecoveryConfig[int]{AdaptiveLimit: &adaptive.Config{Smoothing: 2}}, "adaptive.Config", "Smoothing"},
	} {
		_, err := er.NewWorkflow(tc.cfg)
		ce, ok := errors.AsType[*er.ConfigError](err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, [2]string{tc.config, tc.field}, [2]string{ce.Config, ce.Field})
	}
}

func TestNewStrategyNamesParse(t *testing.T) {
	for name, want := range map[string]er.Strategy{"RATE_LIMIT": er.StrategyRateLimit, "budget": er.StrategyBudget, "Adaptive_Limit": er.StrategyAdaptiveLimit} {
		s, err := er.ParseStrategy(name)
		require.NoError(t, err)
		assert.Equal(t, want, s)
		text, err := s.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, want.String(), string(text))
	}
}
