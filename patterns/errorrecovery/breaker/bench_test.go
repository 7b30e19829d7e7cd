package breaker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// benchBreaker is a breaker with the count-only window, the configuration
// of the performance targets, on a manual clock (no timer ever fires).
func benchBreaker(b *testing.B) *breaker.Breaker {
	b.Helper()
	cfg := breaker.DefaultConfig()
	cfg.WindowDuration = breaker.CountOnly
	br, err := breaker.New(cfg, engine.WithClock(enginetest.NewClock(benchStart)))
	require.NoError(b, err)
	return br
}

func benchOpenBreaker(b *testing.B) *breaker.Breaker {
	br := benchBreaker(b)
	br.ForceOpen()
	require.Equal(b, breaker.StateOpen, br.State(), "ForceOpen")
	return br
}

func BenchmarkBreakerClosedSuccess(b *testing.B) {
	br := benchBreaker(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := br.Allow()
		if err != nil {
			b.Fatal(err)
		}
		p.Done(nil)
	}
}

func BenchmarkBreakerClosedSuccessParallel(b *testing.B) {
	br := benchBreaker(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := br.Allow()
			if err != nil {
				panic(err)
			}
			p.Done(nil)
		}
	})
}

var benchErr error

func BenchmarkBreakerOpenReject(b *testing.B) {
	br := benchOpenBreaker(b)
	b.ReportAllocs()
	var err error
	for b.Loop() {
		_, err = br.Allow()
	}
	benchErr = err
	require.ErrorIs(b, err, breaker.ErrOpen)
}

func BenchmarkBreakerOpenRejectParallel(b *testing.B) {
	br := benchOpenBreaker(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := br.Allow(); err == nil {
				panic("admitted while open")
			}
		}
	})
}

func BenchmarkBreakerProtectSuccess(b *testing.B) {
	br := benchBreaker(b)
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Protect(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBreakerProtectSuccessParallel(b *testing.B) {
	br := benchBreaker(b)
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Protect(ctx, fn); err != nil {
				panic(err)
			}
		}
	})
}

// BenchmarkBreakerClosedFailure is the locked path: each failure is
// recorded and fired through the Instance (the window keeps one failure
// below the threshold, so the breaker stays closed).
func BenchmarkBreakerClosedFailure(b *testing.B) {
	cfg := breaker.DefaultConfig()
	cfg.WindowDuration = breaker.CountOnly
	cfg.FailureThreshold = 2
	cfg.WindowSize = 2
	br, err := breaker.New(cfg, engine.WithClock(enginetest.NewClock(benchStart)))
	require.NoError(b, err)
	fail := errors.New("boom")
	b.ReportAllocs()
	for b.Loop() {
		p, _ := br.Allow()
		p.Done(fail)
		p, _ = br.Allow()
		p.Done(nil)
	}
}

// BenchmarkBreakerTimeWindowSuccess is the default config's success path:
// the 60-second window reads the clock (the real one here) and takes the
// window's mutex, but not the Instance's.
func BenchmarkBreakerTimeWindowSuccess(b *testing.B) {
	br, err := breaker.New(breaker.DefaultConfig())
	require.NoError(b, err)
	defer br.Close()
	b.ReportAllocs()
	for b.Loop() {
		p, _ := br.Allow()
		p.Done(nil)
	}
}

// BenchmarkBreakerClosedSuccessFailureRate is the count-only success path
// with the failure-rate rule on: a success is still lock-free, except the
// one that brings the window to MinimumCalls, which is fired so that the
// rule is judged (once per closed period).
func BenchmarkBreakerClosedSuccessFailureRate(b *testing.B) {
	cfg := breaker.DefaultConfig()
	cfg.WindowDuration = breaker.CountOnly
	cfg.FailureRateThreshold = 0.5
	br, err := breaker.New(cfg, engine.WithClock(enginetest.NewClock(benchStart)))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		p, _ := br.Allow()
		p.Done(nil)
	}
}

// BenchmarkBreakerTimeWindowSuccessFailureRate is the default config's
// success path with the failure-rate rule on: with a time window every
// success may change what the rule says (older outcomes age out), so
// each one is judged against the window.
func BenchmarkBreakerTimeWindowSuccessFailureRate(b *testing.B) {
	cfg := breaker.DefaultConfig()
	cfg.FailureRateThreshold = 0.5
	br, err := breaker.New(cfg)
	require.NoError(b, err)
	defer br.Close()
	b.ReportAllocs()
	for b.Loop() {
		p, _ := br.Allow()
		p.Done(nil)
	}
}
