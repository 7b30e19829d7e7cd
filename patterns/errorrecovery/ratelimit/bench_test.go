package ratelimit_test

import (
	"testing"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// A limiter whose permits are never exhausted on the real clock: a
// billion a second, more than a core can ask for.
func benchLimiter(b *testing.B, mode ratelimit.Mode) *ratelimit.Limiter {
	l, err := ratelimit.New(ratelimit.Config{Permits: 1e9, Period: time.Second, Mode: mode})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(l.Close)
	return l
}

// Allow with a permit free: one clock reading and one compare-and-swap.
func BenchmarkAllow(b *testing.B) {
	for _, mode := range []ratelimit.Mode{ratelimit.ModeSmooth, ratelimit.ModeBursty} {
		b.Run(mode.String(), func(b *testing.B) {
			l := benchLimiter(b, mode)
			b.ReportAllocs()
			for b.Loop() {
				l.Allow()
			}
		})
	}
}

// The same from GOMAXPROCS goroutines, contending on the permit word.
func BenchmarkAllowParallel(b *testing.B) {
	l := benchLimiter(b, ratelimit.ModeSmooth)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow()
		}
	})
}

// Allow with no permit free: the machine's lock, a guard and the action.
func BenchmarkAllowRejected(b *testing.B) {
	l, err := ratelimit.New(ratelimit.Config{Permits: 1, Period: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(l.Close)
	l.Allow()
	b.ReportAllocs()
	for b.Loop() {
		l.Allow()
	}
}
