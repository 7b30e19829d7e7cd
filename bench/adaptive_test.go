package bench

import (
	"strconv"
	"testing"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

// The adaptive limiters compared, with the same limits: floor 1, ceiling
// 200, initial limit 20 (failsafe-go's defaults). statecraft:
// adaptive.Config with those limits and its other defaults (Vegas rule,
// 1 s windows of at least 10 samples, a probe every 60 windows);
// failsafe-go: adaptivelimiter.NewWithDefaults (its own rule over a
// t-digest of recent latencies, 1-30 s windows of at least 50 samples).
// Each row takes a permit without waiting and gives it back with its
// latency recorded: statecraft's Acquire and Permit.Done, failsafe-go's
// TryAcquirePermit and Permit.Record. Neither moves its limit in a row
// that runs faster than a window's minimum samples take to arrive, which
// on the real clock is every row: a window closes about once a second.

func scAdaptive(tb testing.TB) *adaptive.Limiter {
	tb.Helper()
	l, err := adaptive.New(adaptive.Config{MinLimit: 1, MaxLimit: 200, InitialLimit: 20})
	require.NoError(tb, err)
	return l
}

// adaptiveGoroutines are the goroutine counts of BenchmarkSharedAdaptiveLimiter:
// fewer than the initial limit of 20, so that no call is refused.
var adaptiveGoroutines = []int{1, 2, 8}

// BenchmarkSharedAdaptiveLimiter is an acquire and a release with its
// latency recorded, through one limiter shared by 1, 2 and 8 goroutines,
// b.N in all.
func BenchmarkSharedAdaptiveLimiter(b *testing.B) {
	for _, g := range adaptiveGoroutines {
		b.Run("goroutines="+strconv.Itoa(g), func(b *testing.B) {
			b.Run("statecraft-AcquireDone", func(b *testing.B) {
				l := scAdaptive(b)
				b.ReportAllocs()
				inGoroutines(b, g, func(n int) {
					for range n {
						p, err := l.Acquire()
						if err != nil {
							b.Error(err)
							return
						}
						p.Done(nil)
					}
				})
				m := l.Metrics()
				require.Zero(b, m.InFlight, "after the run: in flight")
				require.Equal(b, m.Admitted, m.Completed, "after the run: completed, of those admitted")
				require.Zero(b, m.Rejected, "after the run: rejected")
			})
			b.Run("failsafe-TryAcquireRecord", func(b *testing.B) {
				l := adaptivelimiter.NewWithDefaults[any]()
				b.ReportAllocs()
				inGoroutines(b, g, func(n int) {
					for range n {
						p, ok := l.TryAcquirePermit()
						if !ok {
							b.Error("failsafe-go refused a permit under its limit")
							return
						}
						p.Record()
					}
				})
				require.Zero(b, l.Inflight(), "after the run: in flight")
			})
		})
	}
}

// BenchmarkAdaptiveLimiterReject is a call refused at the limit (one
// permit held, a limit of 1).
func BenchmarkAdaptiveLimiterReject(b *testing.B) {
	b.Run("statecraft-Acquire", func(b *testing.B) {
		l, err := adaptive.New(adaptive.Config{MinLimit: 1, MaxLimit: 1, InitialLimit: 1})
		require.NoError(b, err)
		p, _ := l.Acquire()
		defer p.Drop()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Acquire(); err == nil {
				b.Fatal("admitted over the limit")
			}
		}
	})
	b.Run("failsafe-TryAcquirePermit", func(b *testing.B) {
		l := adaptivelimiter.NewBuilder[any]().WithLimits(1, 1, 1).Build()
		p, _ := l.TryAcquirePermit()
		defer p.Drop()
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := l.TryAcquirePermit(); ok {
				b.Fatal("admitted over the limit")
			}
		}
	})
}
