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
	b.Run("go-TransitionTableCtx", func(b *testing.B) {
		// The least a transition that honours its context can do: ask
		// the context for its error, read the next state from an integer
		// table, store it and return what it did (floorHop). What Run's
		// plain transition cannot undercut.
		m := &floorTable{hops: []floorTableHop{{dest: 1, to: 1}, {from: 1, decl: 1}}, events: 1}
		ctx := context.Background()
		for b.Loop() {
			if _, err := m.fire(ctx, 0); err != nil {
				b.Fatal(err)
			}
		}
		sink = uint64(m.cur)
	})
	for _, m := range []struct {
		name        string
		withBreaker bool
	}{{"engine-RetryMachine", false}, {"engine-RetryBreakerMachine", true}} {
		b.Run(m.name, func(b *testing.B) {
			// The per-call retry machine and nothing else, with a
			// breaker's permit step or without (floor_machine_test.go):
			// what RetryFirstSuccess and FallbackRetryBreaker cannot
			// undercut while the engine runs each step.
			ctx, r := context.Background(), floorRetryRunner(b, m.withBreaker)
			for b.Loop() {
				if v, err := floorRetry(ctx, r, okIntCtx); err != nil || v != 1 {
					b.Fatal(v, err)
				}
			}
		})
	}
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

// floorTable is the transition table of the go-TransitionTableCtx row:
// the hop out of state s on event e at s*events+e, dest -1 for none.
type floorTable struct {
	hops   []floorTableHop
	events int
	cur    int
}

type floorTableHop struct{ dest, from, to, decl int32 }

type floorResult struct{ from, to, decl int }

// fire takes the hop out of the current state on e, as a library's
// Fire would: not inlined, its context asked before the commit.
//
//go:noinline
func (m *floorTable) fire(ctx context.Context, e int) (floorResult, error) {
	if e >= 0 && e < m.events {
		if h := &m.hops[m.cur*m.events+e]; h.dest >= 0 {
			if err := ctx.Err(); err != nil {
				return floorResult{}, err
			}
			m.cur = int(h.dest)
			return floorResult{from: int(h.from), to: int(h.to), decl: int(h.decl)}, nil
		}
	}
	return floorResult{}, errBoom
}

var (
	sink     uint64
	sinkTime time.Time
)
