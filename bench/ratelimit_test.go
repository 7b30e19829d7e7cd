package bench

import (
	"math/rand/v2"
	"testing"
	"time"

	fsratelimiter "github.com/failsafe-go/failsafe-go/ratelimiter"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// The rate limiters compared, with a permit always free: a billion
// permits a second with a bucket of a billion, more than a core can ask
// for, so every call is admitted. statecraft: ratelimit.Config{Permits:
// 1e9, Period: time.Second, Burst: 1e9} (ModeSmooth); golang.org/x/time/
// rate: NewLimiter(1e9, 1e9), the same token bucket; failsafe-go:
// ratelimiter.NewBursty(1e9, time.Second), whose smooth limiter has no
// burst, so a permit is free there too only in its bursty mode.

func scLimiter(tb testing.TB, cfg ratelimit.Config) *ratelimit.Limiter {
	tb.Helper()
	l, err := ratelimit.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(l.Close)
	return l
}

var freeLimiter = ratelimit.Config{Permits: 1e9, Period: time.Second, Burst: 1e9}

// BenchmarkRateLimitAllow is a call that finds a permit free and takes
// it, without waiting: statecraft's Allow, x/time/rate's Allow,
// failsafe-go's TryAcquirePermit. Each reads the real clock once.
func BenchmarkRateLimitAllow(b *testing.B) {
	b.Run("statecraft-Allow", func(b *testing.B) {
		l := scLimiter(b, freeLimiter)
		b.ReportAllocs()
		for b.Loop() {
			if !l.Allow() {
				b.Fatal("refused")
			}
		}
	})
	b.Run("xrate-Allow", func(b *testing.B) {
		l := rate.NewLimiter(1e9, 1e9)
		b.ReportAllocs()
		for b.Loop() {
			if !l.Allow() {
				b.Fatal("refused")
			}
		}
	})
	b.Run("failsafe-TryAcquirePermit", func(b *testing.B) {
		l := fsratelimiter.NewBursty[any](1e9, time.Second)
		b.ReportAllocs()
		for b.Loop() {
			if !l.TryAcquirePermit() {
				b.Fatal("refused")
			}
		}
	})
}

// BenchmarkRateLimitAllowParallel is BenchmarkRateLimitAllow from
// GOMAXPROCS goroutines sharing the limiter.
func BenchmarkRateLimitAllowParallel(b *testing.B) {
	b.Run("statecraft-Allow", func(b *testing.B) {
		l := scLimiter(b, freeLimiter)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !l.Allow() {
					b.Error("refused")
					return
				}
			}
		})
	})
	b.Run("xrate-Allow", func(b *testing.B) {
		l := rate.NewLimiter(1e9, 1e9)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !l.Allow() {
					b.Error("refused")
					return
				}
			}
		})
	})
}

// BenchmarkRateLimitReject is a call refused because no permit is free
// (one permit an hour, spent before the loop): statecraft's Allow while
// Limited, x/time/rate's Allow, failsafe-go's TryAcquirePermit.
func BenchmarkRateLimitReject(b *testing.B) {
	b.Run("statecraft-Allow", func(b *testing.B) {
		l := scLimiter(b, ratelimit.Config{Permits: 1, Period: time.Hour})
		l.Allow()
		b.ReportAllocs()
		for b.Loop() {
			if l.Allow() {
				b.Fatal("admitted")
			}
		}
	})
	b.Run("xrate-Allow", func(b *testing.B) {
		l := rate.NewLimiter(rate.Every(time.Hour), 1)
		l.Allow()
		b.ReportAllocs()
		for b.Loop() {
			if l.Allow() {
				b.Fatal("admitted")
			}
		}
	})
	b.Run("failsafe-TryAcquirePermit", func(b *testing.B) {
		l := fsratelimiter.NewSmooth[any](1, time.Hour)
		l.TryAcquirePermit()
		b.ReportAllocs()
		for b.Loop() {
			if l.TryAcquirePermit() {
				b.Fatal("admitted")
			}
		}
	})
}

// TestRateLimitMatchesXTimeRate drives statecraft's smooth limiter (on a
// manual clock) and x/time/rate's limiter (through its explicit-time
// AllowN, TokensAt and ReserveN) with the same random arrivals, and
// checks that they permit the same calls and give reserved permits the
// same delays. The mapping: ratelimit.Config{Permits: p, Period: p*i,
// Burst: b, MaxWait: w} is rate.NewLimiter(rate.Every(i), b) with a call
// allowed when its wait is at most w. x/time/rate counts tokens in
// floating point, so a call that arrives within 2ns of the instant a
// permit comes due (its tokens within 2ns' worth of 1, but not exactly
// 1), or whose wait is within 2ns of the maximum, could go either way
// there; those calls are offered to neither (with the seed below there
// are none), and delays are compared to within 2ns
// (x/time/rate truncates them to the nanosecond).
func TestRateLimitMatchesXTimeRate(t *testing.T) {
	const slack = 2 * time.Nanosecond
	rng := rand.New(rand.NewPCG(19, 2026))
	compared, skipped, permitted := 0, 0, 0
	for trial := range 300 {
		interval := time.Duration(rng.Int64N(int64(100*time.Millisecond))) + time.Microsecond
		permits := 1 + rng.IntN(20)
		burst := 1 + rng.IntN(permits)
		var maxWait time.Duration
		if rng.IntN(2) == 0 {
			maxWait = time.Duration(rng.Int64N(int64(5 * interval)))
		}
		cfg := ratelimit.Config{Permits: permits, Period: interval * time.Duration(permits), Burst: burst, MaxWait: maxWait}
		clk := enginetest.NewClock(time.Time{})
		ours, err := ratelimit.New(cfg, engine.WithClock(clk))
		require.NoError(t, err)
		theirs := rate.NewLimiter(rate.Every(interval), burst)
		start := clk.Now()
		near := slack.Seconds() / interval.Seconds() // 2ns, in tokens
		for call := range 300 {
			// Arrivals a little faster than the rate on average, some at
			// the same instant.
			if rng.IntN(5) > 0 {
				clk.Advance(time.Duration(rng.Int64N(int64(interval) * 3 / 2)))
			}
			now := clk.Now()
			tokens := theirs.TokensAt(now)
			xwait := time.Duration(0)
			if tokens < 1 {
				xwait = time.Duration((1 - tokens) * interval.Seconds() * float64(time.Second))
			}
			if d := xwait - maxWait; (tokens > 1-near && tokens < 1+near && tokens != 1) || (maxWait > 0 && d >= -slack && d <= slack) {
				skipped++
				continue
			}
			compared++
			if maxWait == 0 {
				o, x := ours.Allow(), theirs.AllowN(now, 1)
				require.Equal(t, x, o, "trial %d %+v, call %d at %v: statecraft Allow, want x/time/rate's", trial, cfg, call, now.Sub(start))
				if o {
					permitted++
				}
			} else {
				r, oerr := ours.Reserve()
				xok := xwait <= maxWait
				require.Equal(t, xok, oerr == nil, "trial %d %+v, call %d at %v: statecraft Reserve %v, x/time/rate wait %v", trial, cfg, call, now.Sub(start), oerr, xwait)
				if xok {
					permitted++
					xr := theirs.ReserveN(now, 1)
					require.True(t, xr.OK(), "trial %d %+v, call %d: x/time/rate refused the reservation", trial, cfg, call)
					require.InDelta(t, xr.DelayFrom(now), r.Delay(), float64(slack), "trial %d %+v, call %d: statecraft delay", trial, cfg, call)
				}
			}
		}
		ours.Close()
	}
	t.Logf("%d calls compared (%d permitted), %d within 2ns of a boundary offered to neither", compared, permitted, skipped)
	require.GreaterOrEqual(t, compared, 80000, "calls compared: too few to mean much")
	require.GreaterOrEqual(t, permitted, compared/4, "calls permitted: too few to mean much")
}
