package errorrecovery_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// rateLimited is fallback + retry + breaker with a rate limiter whose
// permits are always free: a billion a second, on the real clock; more
// names the other limits to add.
func rateLimited(tb testing.TB, more ...er.Strategy) *er.Workflow[int] {
	cfg := er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: append([]er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback, er.StrategyRateLimit}, more...),
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
		RateLimit: &ratelimit.Config{Permits: 1e9, Period: time.Second, Burst: 1 << 20},
	}
	// A generous limit and budget, so that no success is refused: given
	// only when named, since a sub-config makes its strategy take part.
	if slices.Contains(more, er.StrategyAdaptiveLimit) {
		cfg.AdaptiveLimit = &adaptive.Config{InitialLimit: 100, MaxLimit: 100, MinLimit: 100}
	}
	if slices.Contains(more, er.StrategyBudget) {
		cfg.Budget = &budget.Config{MinPerSecond: 1 << 20}
	}
	w, err := er.NewWorkflow(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.RateLimiter().Close)
	if b := w.Budget(); b != nil {
		tb.Cleanup(b.Close)
	}
	return w
}

func TestRateLimitedWorkflowAllocations(t *testing.T) {
	ctx := context.Background()
	rate := rateLimited(t)
	if rate.AdaptiveLimiter() != nil || rate.Budget() != nil {
		t.Fatal("the rate-limited workflow has more layers than the rate limiter")
	}
	testutil.WantAllocs(t, 0, "fallback+retry+breaker+rate limiter success, a permit free", func() { rate.Execute(ctx, succeed) })
	all := rateLimited(t, er.StrategyAdaptiveLimit, er.StrategyBudget)
	testutil.WantAllocs(t, 0, "with the adaptive limiter and the budget too", func() { all.Execute(ctx, succeed) })

	// Retries withdrawn from the budget add nothing to a failing
	// execution's one allocation, the *ExhaustedError the fallback
	// answers. No breaker here, which would open.
	for _, budgeted := range []bool{false, true} {
		cfg := er.ErrorRecoveryConfig[int]{
			Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyFallback},
			Retry: fastRetry[int](3), Fallback: ptr(er.FallbackValue(0)),
		}
		if budgeted {
			cfg.Budget = &budget.Config{MinPerSecond: 1 << 20}
		}
		w, err := er.NewWorkflow(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fails := func(context.Context) (int, error) { return 0, errFlaky }
		testutil.WantAllocs(t, 1, "three failing attempts answered by the fallback", func() { w.Execute(ctx, fails) })
		if b := w.Budget(); b != nil {
			b.Close()
			if m := b.Metrics(); m.Withdrawn == 0 || m.Refused != 0 {
				t.Fatalf("budget %+v: want retries withdrawn and none refused", m)
			}
		}
	}
}

func BenchmarkWorkflowRateLimitedSuccess(b *testing.B) {
	w := rateLimited(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

func BenchmarkWorkflowEveryLimitSuccess(b *testing.B) {
	w := rateLimited(b, er.StrategyAdaptiveLimit, er.StrategyBudget)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}
