package errorrecovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// BenchmarkWorkflowHedgeFirstAttemptAnswers is the three layers of
// BenchmarkWorkflowFallbackRetryBreakerSuccess with HEDGE, whose first
// attempt answers long before the hedge delay: the cost of running a
// round (a goroutine, the round's context and state), on the real clock.
func BenchmarkWorkflowHedgeFirstAttemptAnswers(b *testing.B) {
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
		Hedge: &er.HedgeConfig{Delay: time.Second},
	})
	require.NoError(b, err)
	defer w.Breaker().Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}
