package bench

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/failsafe-go/failsafe-go/fallback"
	fsratelimiter "github.com/failsafe-go/failsafe-go/ratelimiter"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	scbulkhead "github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// layerNames are the layers of BenchmarkLayers, in the order they are
// added: n layers are the first n. Each is configured as in
// workflow_test.go (and the rate limiter as in ratelimit_test.go, a permit
// always free), and both libraries nest them the same way whatever n is:
// fallback, rate limiter, bulkhead, overall timeout, retry, breaker,
// attempt timeout, outermost first.
var layerNames = []string{"retry", "breaker", "fallback", "bulkhead", "timeout", "attempt-timeout", "ratelimit"}

// scLayers is statecraft's workflow with the first n layers.
func scLayers(tb testing.TB, n int) *er.Workflow[int] {
	tb.Helper()
	r := er.DefaultRetryConfig[int]()
	r.InitialDelay = er.None
	cfg := er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Retry: &r}
	for _, layer := range layerNames[1:n] {
		switch layer {
		case "breaker":
			cb := breaker.DefaultConfig()
			cb.WindowDuration = breaker.CountOnly
			cfg.Secondary, cfg.Breaker = append(cfg.Secondary, er.StrategyCircuitBreaker), &cb
		case "fallback":
			fb := er.FallbackValue(0)
			cfg.Secondary, cfg.Fallback = append(cfg.Secondary, er.StrategyFallback), &fb
		case "bulkhead":
			bh := scbulkhead.DefaultConfig()
			cfg.Secondary, cfg.Bulkhead = append(cfg.Secondary, er.StrategyBulkhead), &bh
		case "timeout":
			cfg.GlobalTimeout = time.Minute
		case "attempt-timeout":
			cfg.Secondary = append(cfg.Secondary, er.StrategyDeadline)
			cfg.Deadline = &er.DeadlineConfig{AttemptTimeout: time.Second}
		case "ratelimit":
			rl := freeLimiter
			cfg.Secondary, cfg.RateLimit = append(cfg.Secondary, er.StrategyRateLimit), &rl
		}
	}
	w, err := er.NewWorkflow(cfg)
	require.NoError(tb, err)
	if br := w.Breaker(); br != nil {
		tb.Cleanup(br.Close)
	}
	return w
}

// fsLayers is failsafe-go's executor with the first n layers.
func fsLayers(n int) failsafe.Executor[int] {
	has := map[string]bool{}
	for _, layer := range layerNames[:n] {
		has[layer] = true
	}
	var policies []failsafe.Policy[int]
	add := func(layer string, p failsafe.Policy[int]) {
		if has[layer] {
			policies = append(policies, p)
		}
	}
	add("fallback", fallback.NewWithResult(0))
	add("ratelimit", fsratelimiter.NewBursty[int](1e9, time.Second))
	add("bulkhead", bulkhead.NewBuilder[int](10).WithMaxWaitTime(30*time.Second).Build())
	add("timeout", timeout.New[int](time.Minute))
	add("retry", fsRetryPolicy())
	add("breaker", fsBreaker())
	add("attempt-timeout", timeout.New[int](time.Second))
	return failsafe.With(policies...)
}

// BenchmarkLayers is a successful call through 1 to 7 layers (layerNames),
// the function ignoring its context: how the per-call machine's cost grows
// with what it has to go through, against failsafe-go's executor.
func BenchmarkLayers(b *testing.B) {
	ctx := context.Background()
	for n := 1; n <= len(layerNames); n++ {
		b.Run("layers="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("statecraft-Workflow", func(b *testing.B) {
				w := scLayers(b, n)
				for b.Loop() {
					if v, err := w.Execute(ctx, okIntCtx); err != nil || v != 1 {
						b.Fatal(v, err) // the fallback answers 0
					}
				}
			})
			b.Run("failsafe-Executor", func(b *testing.B) {
				x := fsLayers(n)
				for b.Loop() {
					if v, err := x.Get(okInt); err != nil || v != 1 {
						b.Fatal(v, err)
					}
				}
			})
		})
	}
}
