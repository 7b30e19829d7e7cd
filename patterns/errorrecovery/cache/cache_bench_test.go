package cache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// freshCache is a cache with its defaults holding one fresh entry, "k".
func freshCache(tb testing.TB) *cache.Cache[int] {
	c, err := cache.New[int](cache.Config{}, engine.WithClock(&testutil.TickClock{}))
	require.NoError(tb, err)
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

// The read-through protocol's hit: what a workflow's Lookup state asks.
func BenchmarkCacheLookupHit(b *testing.B) {
	c := freshCache(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Lookup("k")
	}
}

// Every lookup finds the entry expired (kept, stale), leads a flight,
// stores a value and lands the flight.
func BenchmarkCacheLookupLeadLand(b *testing.B) {
	c, err := cache.New[int](cache.Config{TTL: time.Nanosecond}, engine.WithClock(&testutil.TickClock{}))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		l := c.Lookup("k")
		c.Put("k", 1)
		l.Flight.Land(cache.Result[int]{Value: 1})
	}
}

func TestCacheAllocations(t *testing.T) {
	c := freshCache(t)
	testutil.WantAllocs(t, 0, "Get of a fresh entry", func() { c.Get("k") })
	testutil.WantAllocs(t, 0, "Get of an absent key", func() { c.Get("absent") })
	testutil.WantAllocs(t, 0, "Put of a key present", func() { c.Put("k", 2) })
	testutil.WantAllocs(t, 0, "Lookup of a fresh entry", func() { c.Lookup("k") })

	sc, err := cache.New[int](cache.Config{MaxEntries: 2, TTL: time.Nanosecond}, engine.WithClock(&testutil.TickClock{}))
	require.NoError(t, err)
	keys := []string{"a", "b", "c"}
	var i int
	testutil.WantAllocs(t, 0, "Put of a new key, evicting the least recently used", func() {
		sc.Put(keys[i%len(keys)], i)
		i++
	})
	testutil.WantAllocs(t, 0, "Get of a stale entry", func() { sc.Get(keys[(i+1)%len(keys)]) })
	// A flight: its record and the channel its followers wait on.
	testutil.WantAllocs(t, 2, "Lookup that leads, Put, Land", func() {
		l := sc.Lookup("k")
		sc.Put("k", 1)
		l.Flight.Land(cache.Result[int]{Value: 1})
	})
	plain, err := cache.New[int](cache.Config{TTL: time.Nanosecond, DisableCoalescing: true}, engine.WithClock(&testutil.TickClock{}))
	require.NoError(t, err)
	testutil.WantAllocs(t, 0, "Lookup that misses without coalescing", func() { plain.Lookup("k") })
}
