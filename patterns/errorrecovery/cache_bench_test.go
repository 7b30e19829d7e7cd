package errorrecovery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// tickClock reads a microsecond later at each reading. The cache
// benchmarks run on it so that the time they report is the cache's rather
// than time.Now's, and so that an entry with a TTL of a nanosecond has
// expired by the next reading. It sleeps and sets timers on the real
// clock; the cache does neither.
type tickClock struct{ ticks atomic.Int64 }

func (c *tickClock) Now() time.Time {
	return time.Unix(0, c.ticks.Add(int64(time.Microsecond)))
}

func (c *tickClock) AfterFunc(d time.Duration, f func()) engine.Timer {
	return engine.RealClock{}.AfterFunc(d, f)
}

func (c *tickClock) Sleep(ctx context.Context, d time.Duration) error {
	return engine.RealClock{}.Sleep(ctx, d)
}

// cacheWorkflow is CACHE alone, with its defaults (stale on error,
// coalescing) but the given TTL, on clk.
func cacheWorkflow(tb testing.TB, ttl time.Duration, clk engine.Clock) *er.Workflow[int] {
	cc := er.DefaultCacheConfig()
	cc.TTL = ttl
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cc}, engine.WithClock(clk))
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// freshCache is a cache holding one fresh entry, "k".
func freshCache(tb testing.TB) *er.ResultCache[int] {
	c, err := er.NewResultCache[int](er.DefaultCacheConfig(), &tickClock{})
	if err != nil {
		tb.Fatal(err)
	}
	c.Put("k", 1)
	return c
}

func BenchmarkCacheGetFresh(b *testing.B) {
	c := freshCache(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Get("k")
	}
}

func BenchmarkCachePut(b *testing.B) {
	c := freshCache(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Put("k", 2)
	}
}

// A fresh entry answers: the function is not called.
func BenchmarkWorkflowCacheHit(b *testing.B) {
	w := cacheWorkflow(b, time.Hour, &tickClock{})
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
	w := cacheWorkflow(b, time.Hour, &tickClock{})
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
	w := cacheWorkflow(b, time.Nanosecond, &tickClock{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Execute(ctx, succeed)
	}
}

func TestCacheAllocations(t *testing.T) {
	ctx := context.Background()
	c := freshCache(t)
	testutil.WantAllocs(t, 0, "Get of a fresh entry", func() { c.Get("k") })
	testutil.WantAllocs(t, 0, "Get of an absent key", func() { c.Get("absent") })
	testutil.WantAllocs(t, 0, "Put of a key present", func() { c.Put("k", 2) })

	small := er.DefaultCacheConfig()
	small.MaxEntries, small.TTL = 2, time.Nanosecond
	sc, err := er.NewResultCache[int](small, &tickClock{})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "b", "c"}
	var i int
	testutil.WantAllocs(t, 0, "Put of a new key, evicting the least recently used", func() {
		sc.Put(keys[i%len(keys)], i)
		i++
	})
	testutil.WantAllocs(t, 0, "Get of a stale entry", func() { sc.Get(keys[(i+1)%len(keys)]) })

	hit := cacheWorkflow(t, time.Hour, nil)
	testutil.WantAllocs(t, 0, "workflow, cache hit", func() { hit.Execute(ctx, succeed) })
	// The call a miss leads: its record and the channel those who join
	// it wait on.
	miss := cacheWorkflow(t, time.Nanosecond, nil)
	testutil.WantAllocs(t, 2, "workflow, cache miss", func() { miss.Execute(ctx, succeed) })
	fails := func(context.Context) (int, error) { return 0, errFlaky }
	testutil.WantAllocs(t, 2, "workflow, a failure answered by a stale entry", func() { miss.Execute(ctx, fails) })
	alone := er.DefaultCacheConfig()
	alone.Coalesce = false
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &alone})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WantAllocs(t, 0, "workflow, cache miss without coalescing", func() { w.Execute(ctx, fails) })
	fb := er.DefaultCacheConfig()
	fb.StaleOnError = false
	w, err = er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Secondary: []er.Strategy{er.StrategyFallback},
		Cache: &fb, Fallback: ptr(er.FallbackValue(3))})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WantAllocs(t, 2, "workflow, a failure with no entry, answered by the fallback", func() { w.Execute(ctx, fails) })
}
