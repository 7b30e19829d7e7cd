package errorrecovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// cacheWorkflow is CACHE alone, with its defaults (stale on error,
// coalescing) but the given TTL, on clk.
func cacheWorkflow(tb testing.TB, ttl time.Duration, clk engine.Clock) *er.Workflow[int] {
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: ttl}}, engine.WithClock(clk))
	require.NoError(tb, err)
	return w
}

// A fresh entry answers: the function is not called.
func BenchmarkWorkflowCacheHit(b *testing.B) {
	w := cacheWorkflow(b, time.Hour, &testutil.TickClock{})
	ctx := context.Background()
	w.Execute(ctx, succeed)
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

// The same on the real clock, whose reading is part of every lookup.
func BenchmarkWorkflowCacheHitRealClock(b *testing.B) {
	w := cacheWorkflow(b, time.Hour, nil)
	ctx := context.Background()
	w.Execute(ctx, succeed)
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

func BenchmarkWorkflowCacheHitParallel(b *testing.B) {
	w := cacheWorkflow(b, time.Hour, &testutil.TickClock{})
	ctx := context.Background()
	w.Execute(ctx, succeed)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Execute(ctx, succeed)
		}
	})
}

// Every call finds the entry expired (kept, stale), leads a load and
// stores the function's result.
func BenchmarkWorkflowCacheMiss(b *testing.B) {
	w := cacheWorkflow(b, time.Nanosecond, &testutil.TickClock{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

func TestWorkflowCacheAllocations(t *testing.T) {
	ctx := context.Background()
	hit := cacheWorkflow(t, time.Hour, nil)
	testutil.WantAllocs(t, 0, "workflow, cache hit", func() { hit.Execute(ctx, succeed) })
	// The flight a miss leads: its record and the channel those who join
	// it wait on.
	miss := cacheWorkflow(t, time.Nanosecond, nil)
	testutil.WantAllocs(t, 2, "workflow, cache miss", func() { miss.Execute(ctx, succeed) })
	fails := func(context.Context) (int, error) { return 0, errFlaky }
	testutil.WantAllocs(t, 2, "workflow, a failure answered by a stale entry", func() { miss.Execute(ctx, fails) })
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cache.Config{DisableCoalescing: true}})
	require.NoError(t, err)
	testutil.WantAllocs(t, 0, "workflow, cache miss without coalescing", func() { w.Execute(ctx, fails) })
	w, err = er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Secondary: []er.Strategy{er.StrategyFallback},
		Cache: &cache.Config{MaxStale: -1}, Fallback: ptr(er.FallbackValue(3))})
	require.NoError(t, err)
	testutil.WantAllocs(t, 2, "workflow, a failure with no entry, answered by the fallback", func() { w.Execute(ctx, fails) })
}
