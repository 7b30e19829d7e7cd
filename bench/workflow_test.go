package bench

import (
	"context"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/failsafe-go/failsafe-go/fallback"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	scbulkhead "github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// The layered policies compared. Both libraries nest them the same way,
// outermost first; the function succeeds at once, so fallback and retry
// only watch.
//
//   - fallback+retry+breaker: statecraft's Workflow with RETRY (3
//     attempts, no delay), CIRCUIT_BREAKER (count window, as in
//     breaker_test.go) and FALLBACK (a value); failsafe-go's
//     With(fallback.NewWithResult(0), retry policy, circuit breaker).
//   - five layers: the same plus a bulkhead of 10 slots with a 30 s queue
//     timeout (statecraft also has a queue of 100, failsafe-go's is
//     unbounded), an overall timeout of 1 minute and an attempt timeout of
//     1 s. statecraft: ErrorRecoveryConfig with Bulkhead, GlobalTimeout
//     and Deadline.AttemptTimeout; failsafe-go: With(fallback, bulkhead,
//     timeout.New(time.Minute), retry policy, breaker,
//     timeout.New(time.Second)).
//
// failsafe-go arms a timer (time.AfterFunc) for each timeout on every
// execution; statecraft arms one only when the function asks for
// ctx.Done(). BenchmarkFiveLayersCtxDone makes the function ask, so that
// both pay for a real timer.

func scThreeLayers(tb testing.TB) *er.Workflow[int] {
	tb.Helper()
	return scWorkflow(tb, false, false)
}

func scFiveLayers(tb testing.TB) *er.Workflow[int] {
	tb.Helper()
	return scWorkflow(tb, true, false)
}

// scWorkflow builds the three or five layers. A workflow counts its
// executions (Metrics) and keeps a health window (Health) by default;
// noMetrics turns the counters off (MetricsDisabled), which failsafe-go
// has no equivalent of, to show what they cost.
func scWorkflow(tb testing.TB, five, noMetrics bool) *er.Workflow[int] {
	tb.Helper()
	r := er.DefaultRetryConfig[int]()
	r.InitialDelay = er.None
	cb := breaker.DefaultConfig()
	cb.WindowDuration = breaker.CountOnly
	fb := er.FallbackValue(0)
	cfg := er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: &r, Breaker: &cb, Fallback: &fb, MetricsDisabled: noMetrics,
	}
	if five {
		bh := scbulkhead.DefaultConfig()
		cfg.Secondary = append(cfg.Secondary, er.StrategyBulkhead, er.StrategyDeadline)
		cfg.Bulkhead, cfg.GlobalTimeout = &bh, time.Minute
		cfg.Deadline = &er.DeadlineConfig{AttemptTimeout: time.Second}
	}
	w, err := er.NewWorkflow(cfg)
	require.NoError(tb, err)
	tb.Cleanup(w.Breaker().Close)
	return w
}

func fsThreeLayers() failsafe.Executor[int] {
	return failsafe.With[int](fallback.NewWithResult(0), fsRetryPolicy(), fsBreaker())
}

func fsFiveLayers() failsafe.Executor[int] {
	return failsafe.With[int](fallback.NewWithResult(0),
		bulkhead.NewBuilder[int](10).WithMaxWaitTime(30*time.Second).Build(),
		timeout.New[int](time.Minute), fsRetryPolicy(), fsBreaker(), timeout.New[int](time.Second))
}

// BenchmarkFallbackRetryBreaker is a successful call through fallback,
// retry and a circuit breaker. statecraft-Workflow-MetricsDisabled is the
// same workflow with its counters off (its health window stays).
func BenchmarkFallbackRetryBreaker(b *testing.B) {
	benchLayers(b, false, fsThreeLayers)
}

// BenchmarkFiveLayers is a successful call through fallback, bulkhead, an
// overall timeout, retry, a circuit breaker and an attempt timeout. The
// function does not look at its context.
func BenchmarkFiveLayers(b *testing.B) {
	benchLayers(b, true, fsFiveLayers)
}

func benchLayers(b *testing.B, five bool, fs func() failsafe.Executor[int]) {
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		noMetrics bool
	}{{"statecraft-Workflow", false}, {"statecraft-Workflow-MetricsDisabled", true}} {
		b.Run(c.name, func(b *testing.B) {
			w := scWorkflow(b, five, c.noMetrics)
			for b.Loop() {
				if v, err := w.Execute(ctx, okIntCtx); err != nil || v != 1 {
					b.Fatal(v, err) // the fallback answers 0
				}
			}
		})
	}
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := fs()
		for b.Loop() {
			if v, err := x.Get(okInt); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
}

// BenchmarkFiveLayersCtxDone is BenchmarkFiveLayers with a function that
// selects on ctx.Done() before answering, as a function that waits on its
// context would: statecraft arms the attempt's deadline timer (and
// disarms it when the attempt returns); failsafe-go's timers are armed
// anyway. failsafe-go passes the context through GetWithExecution.
func BenchmarkFiveLayersCtxDone(b *testing.B) {
	ctx := context.Background()
	b.Run("statecraft-Workflow", func(b *testing.B) {
		w := scFiveLayers(b)
		sawDeadline := false
		fn := func(ctx context.Context) (int, error) {
			_, sawDeadline = ctx.Deadline()
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			default:
				return 1, nil
			}
		}
		for b.Loop() {
			if v, err := w.Execute(ctx, fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		require.True(b, sawDeadline, "the function's context had no deadline")
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := fsFiveLayers()
		fn := func(exec failsafe.Execution[int]) (int, error) {
			select {
			case <-exec.Context().Done():
				return 0, exec.Context().Err()
			default:
				return 1, nil
			}
		}
		for b.Loop() {
			if v, err := x.GetWithExecution(fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
}
