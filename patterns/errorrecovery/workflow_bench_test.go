package errorrecovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// threeLayers is fallback + retry + breaker (count window), the shape
// failsafe-go's Fallback(RetryPolicy(CircuitBreaker(fn))) is compared with.
func threeLayers(tb testing.TB) *er.Workflow[int] {
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
	})
	require.NoError(tb, err)
	return w
}

// fiveLayers adds a bulkhead and an overall deadline with an attempt
// timeout.
func fiveLayers(tb testing.TB) *er.Workflow[int] {
	bc := bulkhead.DefaultConfig()
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback, er.StrategyBulkhead, er.StrategyDeadline},
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
		Bulkhead: &bc, GlobalTimeout: time.Minute, Deadline: &er.DeadlineConfig{AttemptTimeout: time.Second},
	})
	require.NoError(tb, err)
	return w
}

func BenchmarkWorkflowFallbackRetryBreakerSuccess(b *testing.B) {
	w := threeLayers(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

func BenchmarkWorkflowFallbackRetryBreakerSuccessParallel(b *testing.B) {
	w := threeLayers(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Execute(ctx, succeed)
		}
	})
}

func BenchmarkWorkflowFiveLayersSuccess(b *testing.B) {
	w := fiveLayers(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

func BenchmarkWorkflowFiveLayersSuccessParallel(b *testing.B) {
	w := fiveLayers(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Execute(ctx, succeed)
		}
	})
}

func TestWorkflowAllocations(t *testing.T) {
	ctx := context.Background()
	three, five := threeLayers(t), fiveLayers(t)
	defer three.Breaker().Close()
	defer five.Breaker().Close()
	testutil.WantAllocs(t, 0, "fallback+retry+breaker success", func() { three.Execute(ctx, succeed) })
	testutil.WantAllocs(t, 0, "five layers success", func() { five.Execute(ctx, succeed) })
}
