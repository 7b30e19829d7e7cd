package bench

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFloor measures, on the machine at hand, the primitives
// DESIGN.md's "floors" list: what a transition or a permit cannot be
// cheaper than once it uses them. Its rows are not a library's; the
// report shows them apart, to read the other rows against.
func BenchmarkFloor(b *testing.B) {
	b.Run("go-AtomicLoad", func(b *testing.B) {
		var w atomic.Uint64
		var sum uint64
		for b.Loop() {
			sum += w.Load()
		}
		sink = sum
	})
	b.Run("go-AtomicAdd", func(b *testing.B) {
		var w atomic.Uint64
		for b.Loop() {
			w.Add(1)
		}
	})
	b.Run("go-AtomicCompareAndSwap", func(b *testing.B) {
		var w atomic.Uint64
		for b.Loop() {
			v := w.Load()
			w.CompareAndSwap(v, v+1)
		}
	})
	b.Run("go-MutexLockUnlock", func(b *testing.B) {
		var mu sync.Mutex
		n := 0
		for b.Loop() {
			mu.Lock()
			n++
			mu.Unlock()
		}
		sink = uint64(n)
	})
	b.Run("go-PoolGetPut", func(b *testing.B) {
		p := sync.Pool{New: func() any { return new([64]byte) }}
		for b.Loop() {
			p.Put(p.Get())
		}
	})
	b.Run("go-TimeNow", func(b *testing.B) {
		var t time.Time
		for b.Loop() {
			t = time.Now()
		}
		sinkTime = t
	})
	b.Run("go-TimeSince", func(b *testing.B) {
		// The monotonic clock alone: what statecraft reads after an
		// execution's start, and for the start from its anchor.
		origin := time.Now()
		var d time.Duration
		for b.Loop() {
			d = time.Since(origin)
		}
		sink = uint64(d)
	})
	b.Run("go-MapLookupString", func(b *testing.B) {
		// A Go map of 1000 host names, the hot one looked up: what a
		// per-key registry's lookup of a key cannot undercut.
		m := make(map[string]*uint64, 1000)
		var hot string
		for i := range 1000 {
			k := "host-" + strconv.Itoa(i) + ".example.com"
			m[k] = new(uint64)
			if i == 500 {
				hot = k
			}
		}
		var p *uint64
		for b.Loop() {
			p = m[hot]
		}
		sink = *p
	})
	b.Run("engine-RetryMachine", func(b *testing.B) {
		// The per-call retry machine and nothing else (floor_machine_test.go):
		// what RetryFirstSuccess cannot undercut while the engine runs
		// each step.
		ctx, r := context.Background(), floorRetryRunner(b)
		for b.Loop() {
			if v, err := floorRetry(ctx, r, okIntCtx); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
	b.Run("go-ContextWithCancel", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			_, cancel := context.WithCancel(ctx)
			cancel()
		}
	})
	b.Run("go-ContextWithTimeout", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			_, cancel := context.WithTimeout(ctx, time.Minute)
			cancel()
		}
	})
}

var (
	sink     uint64
	sinkTime time.Time
)
