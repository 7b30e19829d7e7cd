package errorrecovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// BenchmarkWorkflowPerKey runs fallback + retry + breaker, the first
// attempt succeeding, without keys and with a breaker per key: one hot
// key, and 1000 keys (each with its machines) taken in turn. Compare the
// rows with benchstat -col /key.
func BenchmarkWorkflowPerKey(b *testing.B) {
	cfg := er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
	}
	plain, err := er.NewWorkflow(cfg)
	require.NoError(b, err)
	cfg.PerKey = &er.PerKeyConfig{Key: hostOf, Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout}}
	keyed, err := er.NewWorkflow(cfg)
	require.NoError(b, err)
	ctxs := make([]context.Context, 1000)
	for i := range ctxs {
		ctxs[i] = context.WithValue(context.Background(), hostKey{}, fmt.Sprintf("host-%d.example", i))
		keyed.Execute(ctxs[i], succeed)
	}

	b.Run("key=none", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			plain.Execute(ctx, succeed)
		}
	})
	b.Run("key=hot", func(b *testing.B) {
		ctx := ctxs[0]
		b.ReportAllocs()
		for b.Loop() {
			keyed.Execute(ctx, succeed)
		}
	})
	// A new key each time: the registry (of 64) evicts one and makes the
	// machines (a breaker and the per-call machine) for the next.
	fresh, err := er.NewWorkflow(func() er.ErrorRecoveryConfig[int] {
		c := cfg
		c.PerKey = &er.PerKeyConfig{Key: hostOf, Registry: perkey.Config{MaxKeys: 64, IdleTimeout: perkey.NoIdleTimeout}}
		return c
	}())
	require.NoError(b, err)
	b.Run("key=new", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			fresh.Execute(ctxs[i], succeed)
			if i++; i == len(ctxs) {
				i = 0
			}
		}
	})
	b.Run("key=1000", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			keyed.Execute(ctxs[i], succeed)
			if i++; i == len(ctxs) {
				i = 0
			}
		}
	})
}
