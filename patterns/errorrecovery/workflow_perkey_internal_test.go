package errorrecovery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// TestPerKeyExecutionsNeverTouchTheWorkflowsOwnMachines pins what the
// sharing of one definition by every key rests on: the states that use a
// machine kept per key read it from the execution's executor
// (execution.x), so the workflow's own machines, which made its
// definition, see no call. A new state that uses a machine through its
// receiver instead fails here.
func TestPerKeyExecutionsNeverTouchTheWorkflowsOwnMachines(t *testing.T) {
	clk := enginetest.NewClock(time.Unix(0, 0))
	w, err := NewWorkflow(ErrorRecoveryConfig[int]{
		Primary:       StrategyRetry,
		Retry:         &RetryConfig[int]{MaxAttempts: 2, Backoff: BackoffFixed, InitialDelay: None},
		Breaker:       &breaker.Config{FailureThreshold: 3, WindowDuration: breaker.CountOnly},
		Bulkhead:      &bulkhead.Config{MaxConcurrent: 2},
		RateLimit:     &ratelimit.Config{Permits: 1000, Period: time.Second, Mode: ratelimit.ModeBursty},
		AdaptiveLimit: &adaptive.Config{InitialLimit: 5, MinLimit: 5, MaxLimit: 5},
		PerKey:        &PerKeyConfig{Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout}},
	}, engine.WithClock(clk))
	require.NoError(t, err)
	fails := 0
	for i := range 6 {
		ctx := WithKey(context.Background(), []string{"a", "b"}[i%2])
		_, _ = w.Execute(ctx, func(context.Context) (int, error) {
			if fails++; fails%2 == 0 {
				return 0, errFlakyInternal
			}
			return 1, nil
		})
		_, _, _ = w.Trace(ctx, func(context.Context) (int, error) { return 1, nil })
	}
	x := w.x
	assert.Zero(t, x.breaker.Metrics().Calls+x.breaker.Metrics().Failures, "the workflow's own breaker")
	assert.Zero(t, x.bulkhead.Metrics().Completed, "the workflow's own bulkhead")
	assert.Zero(t, x.rate.Metrics().Permitted, "the workflow's own rate limiter")
	assert.Zero(t, x.adaptive.Metrics().Admitted, "the workflow's own adaptive limiter")

	var calls uint64
	w.keys.reg.Range(func(key string, m *keyMachines[int]) bool {
		calls += m.x.adaptive.Metrics().Admitted
		assert.Zero(t, m.x.bulkhead.Metrics().Active, "key %s: every slot given back", key)
		return true
	})
	assert.Equal(t, uint64(w.Metrics().Calls), calls, "every attempt took its key's adaptive permit")
}

// TestPerKeyHedgesNeverTouchTheWorkflowsOwnMachines is the same check
// with HEDGE, whose Hedge state takes a breaker permit, a rate permit and
// an adaptive permit of its own for each hedge.
func TestPerKeyHedgesNeverTouchTheWorkflowsOwnMachines(t *testing.T) {
	clk := enginetest.NewClock(time.Unix(0, 0))
	w, err := NewWorkflow(ErrorRecoveryConfig[int]{
		Primary:       StrategyRetry,
		Retry:         &RetryConfig[int]{MaxAttempts: 2, Backoff: BackoffFixed, InitialDelay: None},
		Breaker:       &breaker.Config{FailureThreshold: 3, WindowDuration: breaker.CountOnly},
		Bulkhead:      &bulkhead.Config{MaxConcurrent: 4},
		RateLimit:     &ratelimit.Config{Permits: 1000, Period: time.Second, Mode: ratelimit.ModeBursty},
		AdaptiveLimit: &adaptive.Config{InitialLimit: 5, MinLimit: 5, MaxLimit: 5},
		Hedge:         &HedgeConfig{Delay: None, MaxHedges: 1}, // every round starts its hedge at once
		PerKey:        &PerKeyConfig{Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout}},
	}, engine.WithClock(clk))
	require.NoError(t, err)
	for i := range 6 {
		ctx := WithKey(context.Background(), []string{"a", "b"}[i%2])
		_, err := w.Execute(ctx, func(context.Context) (int, error) { return 1, nil })
		require.NoError(t, err)
	}
	x := w.x
	assert.Zero(t, x.breaker.Metrics().Calls+x.breaker.Metrics().Failures, "the workflow's own breaker")
	assert.Zero(t, x.bulkhead.Metrics().Completed, "the workflow's own bulkhead")
	assert.Zero(t, x.rate.Metrics().Permitted, "the workflow's own rate limiter")
	assert.Zero(t, x.adaptive.Metrics().Admitted, "the workflow's own adaptive limiter")
	assert.Positive(t, w.Metrics().Hedges, "hedges started")

	var permitted uint64
	w.keys.reg.Range(func(key string, m *keyMachines[int]) bool {
		permitted += m.x.rate.Metrics().Permitted
		return true
	})
	assert.Equal(t, uint64(w.Metrics().Calls), permitted, "every attempt and hedge took its key's rate permit")
}

var errFlakyInternal = errors.New("flaky")
