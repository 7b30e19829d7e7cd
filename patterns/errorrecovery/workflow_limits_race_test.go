package errorrecovery_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// TestManyGoroutinesThroughEveryLimitLoseNoPermit runs 200 goroutines
// through retry, breaker, rate limiter, adaptive limiter, budget and
// fallback at once, and checks that the counts of every layer agree: no
// permit lost or counted twice.
func TestManyGoroutinesThroughEveryLimitLoseNoPermit(t *testing.T) {
	const goroutines, rounds = 200, 10
	w, _ := limitedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary:   er.StrategyRetry,
		Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry:     fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(-1)),
		RateLimit:     &ratelimit.Config{Permits: 1 << 20, Period: time.Hour, Mode: ratelimit.ModeBursty},
		AdaptiveLimit: &adaptive.Config{InitialLimit: 8, MinLimit: 8, MaxLimit: 8},
		Budget:        &budget.Config{},
	})
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				v, err := w.Execute(context.Background(), func(context.Context) (int, error) { runtime.Gosched(); return 1, nil })
				if err != nil || (v != 1 && v != -1) {
					t.Errorf("Execute = %v, %v", v, err)
				}
			}
		})
	}
	wg.Wait()

	m := w.Metrics()
	am := w.AdaptiveLimiter().Metrics()
	require.Equal(t, int64(goroutines*rounds), m.Executions)
	assert.Equal(t, m.Rejections, m.Fallbacks, "every rejection, the adaptive limiter's, was answered by the fallback")
	assert.Equal(t, uint64(m.Rejections), am.Rejected)
	assert.Zero(t, am.InFlight, "every permit was given back")
	assert.Equal(t, uint64(m.Calls), am.Admitted)
	assert.Equal(t, am.Admitted, am.Completed+am.Dropped)
	assert.Equal(t, uint64(m.Calls)+am.Rejected, w.RateLimiter().Metrics().Permitted,
		"a rate permit for each call, and for each call the adaptive limiter then refused")
	assert.Equal(t, m.Calls, w.Budget().Metrics().Executions, "one deposit per execution that reached an attempt")
	bm := w.Breaker().Metrics()
	assert.Zero(t, bm.Failures, "no rejection counted as a failure")
}
