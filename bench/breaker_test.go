package bench

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/stretchr/testify/require"
)

// The breakers compared, each opening after 5 failures and staying open a
// minute:
//
//   - statecraft: breaker.DefaultConfig with WindowDuration CountOnly, the
//     count-only window (5 failures among the last 10 outcomes), on the
//     real clock. Its success path reads no clock; the default 60-second
//     window would (see BenchmarkBreakerTimeWindow).
//   - gobreaker: Settings{} as they come, its count-based default: no
//     window (Interval zero), open after more than 5 consecutive failures.
//     Every call reads the clock twice and takes its mutex twice.
//   - failsafe-go: WithFailureThresholdRatio(5, 10), its count-based
//     window of the last 10 executions, and WithDelay(time.Minute).

func scBreaker(tb testing.TB, edit func(*breaker.Config)) *breaker.Breaker {
	tb.Helper()
	cfg := breaker.DefaultConfig()
	cfg.WindowDuration = breaker.CountOnly
	if edit != nil {
		edit(&cfg)
	}
	br, err := breaker.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(br.Close) // stops the open timer
	return br
}

func gbSettings() gobreaker.Settings { return gobreaker.Settings{Name: "bench"} }

func fsBreaker() circuitbreaker.CircuitBreaker[int] {
	return circuitbreaker.NewBuilder[int]().WithFailureThresholdRatio(5, 10).WithDelay(time.Minute).Build()
}

// The open breakers: each tripped by failures, as in use.

func scOpenBreaker(tb testing.TB) *breaker.Breaker {
	br := scBreaker(tb, nil)
	for range 5 {
		p, _ := br.Allow()
		p.Done(errBoom)
	}
	require.Equal(tb, breaker.StateOpen, br.State(), "statecraft breaker after 5 failures")
	return br
}

func gbOpenBreaker(tb testing.TB) *gobreaker.CircuitBreaker[int] {
	cb := gobreaker.NewCircuitBreaker[int](gbSettings())
	for range 6 {
		_, _ = cb.Execute(func() (int, error) { return 0, errBoom })
	}
	require.Equal(tb, gobreaker.StateOpen, cb.State(), "gobreaker after 6 failures")
	return cb
}

func gbOpenTwoStep(tb testing.TB) *gobreaker.TwoStepCircuitBreaker[int] {
	cb := gobreaker.NewTwoStepCircuitBreaker[int](gbSettings())
	for range 6 {
		done, _ := cb.Allow()
		done(errBoom)
	}
	require.Equal(tb, gobreaker.StateOpen, cb.State(), "gobreaker after 6 failures")
	return cb
}

func fsOpenBreaker(tb testing.TB) circuitbreaker.CircuitBreaker[int] {
	cb := fsBreaker()
	for range 5 {
		cb.TryAcquirePermit()
		cb.RecordFailure()
	}
	require.True(tb, cb.IsOpen(), "failsafe breaker is %v after 5 failures", cb.State())
	return cb
}

// BenchmarkBreakerClosedSuccess is one successful call through a closed
// breaker. The -AllowDone, -TwoStepAllowDone and -TryAcquireRecord rows
// take a permit and report a success without calling anything; the -Call,
// -Execute and -Executor rows call a function that returns nil.
func BenchmarkBreakerClosedSuccess(b *testing.B) {
	b.Run("statecraft-AllowDone", func(b *testing.B) {
		br := scBreaker(b, nil)
		for b.Loop() {
			p, err := br.Allow()
			if err != nil {
				b.Fatal(err)
			}
			p.Done(nil)
		}
		wantClosedCalls(b, br)
	})
	b.Run("statecraft-Call", func(b *testing.B) {
		br := scBreaker(b, nil)
		ctx := context.Background()
		for b.Loop() {
			if err := br.Protect(ctx, okCtx); err != nil {
				b.Fatal(err)
			}
		}
		wantClosedCalls(b, br)
	})
	b.Run("gobreaker-Execute", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gbSettings())
		for b.Loop() {
			if _, err := cb.Execute(okInt); err != nil {
				b.Fatal(err)
			}
		}
		require.Equal(b, gobreaker.StateClosed, cb.State(), "gobreaker's state")
		require.NotZero(b, cb.Counts().TotalSuccesses, "gobreaker's successes")
	})
	b.Run("gobreaker-TwoStepAllowDone", func(b *testing.B) {
		cb := gobreaker.NewTwoStepCircuitBreaker[int](gbSettings())
		for b.Loop() {
			done, err := cb.Allow()
			if err != nil {
				b.Fatal(err)
			}
			done(nil)
		}
		require.Equal(b, gobreaker.StateClosed, cb.State(), "gobreaker's state")
		require.NotZero(b, cb.Counts().TotalSuccesses, "gobreaker's successes")
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		cb := fsBreaker()
		x := failsafe.With[int](cb)
		for b.Loop() {
			if _, err := x.Get(okInt); err != nil {
				b.Fatal(err)
			}
		}
		wantFailsafeClosed(b, cb)
	})
	b.Run("failsafe-TryAcquireRecord", func(b *testing.B) {
		cb := fsBreaker()
		for b.Loop() {
			if !cb.TryAcquirePermit() {
				b.Fatal("rejected")
			}
			cb.RecordSuccess()
		}
		wantFailsafeClosed(b, cb)
	})
}

// BenchmarkBreakerOpenReject is one call refused by an open breaker: the
// function never runs. The rows mirror BenchmarkBreakerClosedSuccess.
func BenchmarkBreakerOpenReject(b *testing.B) {
	b.Run("statecraft-Allow", func(b *testing.B) {
		br := scOpenBreaker(b)
		var err error
		for b.Loop() {
			if _, err = br.Allow(); err == nil {
				b.Fatal("admitted")
			}
		}
		wantErrIs(b, err, breaker.ErrOpen)
	})
	b.Run("statecraft-Call", func(b *testing.B) {
		br := scOpenBreaker(b)
		ctx := context.Background()
		var err error
		for b.Loop() {
			if err = br.Protect(ctx, okCtx); err == nil {
				b.Fatal("admitted")
			}
		}
		wantErrIs(b, err, breaker.ErrOpen)
	})
	b.Run("gobreaker-Execute", func(b *testing.B) {
		cb := gbOpenBreaker(b)
		var err error
		for b.Loop() {
			if _, err = cb.Execute(okInt); err == nil {
				b.Fatal("admitted")
			}
		}
		wantErrIs(b, err, gobreaker.ErrOpenState)
	})
	b.Run("gobreaker-TwoStepAllow", func(b *testing.B) {
		cb := gbOpenTwoStep(b)
		var err error
		for b.Loop() {
			if _, err = cb.Allow(); err == nil {
				b.Fatal("admitted")
			}
		}
		wantErrIs(b, err, gobreaker.ErrOpenState)
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := failsafe.With[int](fsOpenBreaker(b))
		var err error
		for b.Loop() {
			if _, err = x.Get(okInt); err == nil {
				b.Fatal("admitted")
			}
		}
		wantErrIs(b, err, circuitbreaker.ErrOpen)
	})
	b.Run("failsafe-TryAcquirePermit", func(b *testing.B) {
		cb := fsOpenBreaker(b)
		for b.Loop() {
			if cb.TryAcquirePermit() {
				b.Fatal("admitted")
			}
		}
	})
}

// BenchmarkBreakerClosedSuccessParallel is BenchmarkBreakerClosedSuccess
// from GOMAXPROCS goroutines (b.RunParallel) sharing one breaker.
func BenchmarkBreakerClosedSuccessParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("statecraft-AllowDone", func(b *testing.B) {
		br := scBreaker(b, nil)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, err := br.Allow()
				if err != nil {
					b.Error(err)
					return
				}
				p.Done(nil)
			}
		})
		wantClosedCalls(b, br)
	})
	b.Run("statecraft-Call", func(b *testing.B) {
		br := scBreaker(b, nil)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := br.Protect(ctx, okCtx); err != nil {
					b.Error(err)
					return
				}
			}
		})
		wantClosedCalls(b, br)
	})
	b.Run("gobreaker-Execute", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gbSettings())
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cb.Execute(okInt); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("gobreaker-TwoStepAllowDone", func(b *testing.B) {
		cb := gobreaker.NewTwoStepCircuitBreaker[int](gbSettings())
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				done, err := cb.Allow()
				if err != nil {
					b.Error(err)
					return
				}
				done(nil)
			}
		})
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		cb := fsBreaker()
		x := failsafe.With[int](cb)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := x.Get(okInt); err != nil {
					b.Error(err)
					return
				}
			}
		})
		wantFailsafeClosed(b, cb)
	})
	b.Run("failsafe-TryAcquireRecord", func(b *testing.B) {
		cb := fsBreaker()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !cb.TryAcquirePermit() {
					b.Error("rejected")
					return
				}
				cb.RecordSuccess()
			}
		})
		wantFailsafeClosed(b, cb)
	})
}

// BenchmarkBreakerOpenRejectParallel is BenchmarkBreakerOpenReject from
// GOMAXPROCS goroutines sharing one breaker.
func BenchmarkBreakerOpenRejectParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("statecraft-Allow", func(b *testing.B) {
		br := scOpenBreaker(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := br.Allow(); err == nil {
					b.Error("admitted")
					return
				}
			}
		})
	})
	b.Run("statecraft-Call", func(b *testing.B) {
		br := scOpenBreaker(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := br.Protect(ctx, okCtx); err == nil {
					b.Error("admitted")
					return
				}
			}
		})
	})
	b.Run("gobreaker-Execute", func(b *testing.B) {
		cb := gbOpenBreaker(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cb.Execute(okInt); err == nil {
					b.Error("admitted")
					return
				}
			}
		})
	})
	b.Run("gobreaker-TwoStepAllow", func(b *testing.B) {
		cb := gbOpenTwoStep(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cb.Allow(); err == nil {
					b.Error("admitted")
					return
				}
			}
		})
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := failsafe.With[int](fsOpenBreaker(b))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := x.Get(okInt); err == nil {
					b.Error("admitted")
					return
				}
			}
		})
	})
	b.Run("failsafe-TryAcquirePermit", func(b *testing.B) {
		cb := fsOpenBreaker(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if cb.TryAcquirePermit() {
					b.Error("admitted")
					return
				}
			}
		})
	})
}

// BenchmarkSharedBreaker is a closed breaker's success path from 1, 2, 8
// and 64 goroutines sharing it, b.N calls in all: cost per call should
// stay flat as callers are added, not grow with contention.
func BenchmarkSharedBreaker(b *testing.B) {
	ctx := context.Background()
	for _, g := range goroutineCounts {
		b.Run("goroutines="+strconv.Itoa(g), func(b *testing.B) {
			b.Run("statecraft-AllowDone", func(b *testing.B) {
				br := scBreaker(b, nil)
				inGoroutines(b, g, func(n int) {
					for range n {
						p, err := br.Allow()
						if err != nil {
							b.Error(err)
							return
						}
						p.Done(nil)
					}
				})
				wantClosedCalls(b, br)
			})
			b.Run("statecraft-Call", func(b *testing.B) {
				br := scBreaker(b, nil)
				inGoroutines(b, g, func(n int) {
					for range n {
						if err := br.Protect(ctx, okCtx); err != nil {
							b.Error(err)
							return
						}
					}
				})
				wantClosedCalls(b, br)
			})
			b.Run("gobreaker-Execute", func(b *testing.B) {
				cb := gobreaker.NewCircuitBreaker[int](gbSettings())
				inGoroutines(b, g, func(n int) {
					for range n {
						if _, err := cb.Execute(okInt); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run("failsafe-Executor", func(b *testing.B) {
				cb := fsBreaker()
				x := failsafe.With[int](cb)
				inGoroutines(b, g, func(n int) {
					for range n {
						if _, err := x.Get(okInt); err != nil {
							b.Error(err)
							return
						}
					}
				})
				wantFailsafeClosed(b, cb)
			})
			b.Run("failsafe-TryAcquireRecord", func(b *testing.B) {
				cb := fsBreaker()
				inGoroutines(b, g, func(n int) {
					for range n {
						if !cb.TryAcquirePermit() {
							b.Error("rejected")
							return
						}
						cb.RecordSuccess()
					}
				})
				wantFailsafeClosed(b, cb)
			})
		})
	}
}

// BenchmarkBreakerTimeWindow is the success path of breakers whose window
// is a duration cut into 10 time buckets, for windows of 10 µs, 10 ms and
// 1 minute: buckets of 1 µs roll over every few calls, buckets of 6 s
// almost never. statecraft: WindowDuration (its bucket count is fixed at
// 10; WindowSize stays 10); gobreaker: Interval with BucketPeriod a tenth
// of it; failsafe-go: WithFailureThresholdPeriod(5, window), which always
// uses 10 buckets. Each library reads the clock on every outcome here.
func BenchmarkBreakerTimeWindow(b *testing.B) {
	ctx := context.Background()
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"10us", 10 * time.Microsecond}, {"10ms", 10 * time.Millisecond}, {"1m", time.Minute}} {
		timed := func(c *breaker.Config) { c.WindowDuration = w.d }
		b.Run("window="+w.name, func(b *testing.B) {
			b.Run("statecraft-AllowDone", func(b *testing.B) {
				br := scBreaker(b, timed)
				for b.Loop() {
					p, err := br.Allow()
					if err != nil {
						b.Fatal(err)
					}
					p.Done(nil)
				}
				require.Equal(b, breaker.StateClosed, br.State())
			})
			b.Run("statecraft-Call", func(b *testing.B) {
				br := scBreaker(b, timed)
				for b.Loop() {
					if err := br.Protect(ctx, okCtx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("gobreaker-Execute", func(b *testing.B) {
				s := gbSettings()
				s.Interval, s.BucketPeriod = w.d, w.d/10
				cb := gobreaker.NewCircuitBreaker[int](s)
				for b.Loop() {
					if _, err := cb.Execute(okInt); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("failsafe-TryAcquireRecord", func(b *testing.B) {
				cb := circuitbreaker.NewBuilder[int]().WithFailureThresholdPeriod(5, w.d).WithDelay(time.Minute).Build()
				for b.Loop() {
					if !cb.TryAcquirePermit() {
						b.Fatal("rejected")
					}
					cb.RecordSuccess()
				}
				wantFailsafeClosed(b, cb)
			})
		})
	}
}

// BenchmarkBreakerMixedOutcomes is a closed breaker seeing one failure in
// every four calls, with count windows of 10, 100 and 1000 outcomes and a
// failure threshold equal to the window (so it never opens): the failure
// path records positions in the window and, in statecraft, fires the
// failure event through the machine's lock. gobreaker has no window (its
// row is the same machine each time, for reference); failsafe-go's is
// WithFailureThresholdRatio(size, size).
func BenchmarkBreakerMixedOutcomes(b *testing.B) {
	ctx := context.Background()
	fail := func(context.Context) error { return errBoom }
	gbFail := func() (int, error) { return 0, errBoom }
	for _, size := range []int{10, 100, 1000} {
		sized := func(c *breaker.Config) { c.WindowSize, c.FailureThreshold = size, size }
		b.Run("window="+strconv.Itoa(size), func(b *testing.B) {
			b.Run("statecraft-AllowDone", func(b *testing.B) {
				br := scBreaker(b, sized)
				i := 0
				for b.Loop() {
					p, err := br.Allow()
					if err != nil {
						b.Fatal(err)
					}
					if i++; i%4 == 0 {
						p.Done(errBoom)
					} else {
						p.Done(nil)
					}
				}
				wantClosedCalls(b, br)
			})
			b.Run("statecraft-Call", func(b *testing.B) {
				br := scBreaker(b, sized)
				i := 0
				for b.Loop() {
					fn := okCtx
					if i++; i%4 == 0 {
						fn = fail
					}
					if err := br.Protect(ctx, fn); errors.Is(err, breaker.ErrOpen) {
						b.Fatal(err)
					}
				}
				wantClosedCalls(b, br)
			})
			b.Run("gobreaker-Execute", func(b *testing.B) {
				cb := gobreaker.NewCircuitBreaker[int](gbSettings())
				i := 0
				for b.Loop() {
					fn := okInt
					if i++; i%4 == 0 {
						fn = gbFail
					}
					if _, err := cb.Execute(fn); errors.Is(err, gobreaker.ErrOpenState) {
						b.Fatal(err)
					}
				}
			})
			b.Run("failsafe-TryAcquireRecord", func(b *testing.B) {
				cb := circuitbreaker.NewBuilder[int]().WithFailureThresholdRatio(uint(size), uint(size)).WithDelay(time.Minute).Build()
				i := 0
				for b.Loop() {
					if !cb.TryAcquirePermit() {
						b.Fatal("rejected")
					}
					if i++; i%4 == 0 {
						cb.RecordFailure()
					} else {
						cb.RecordSuccess()
					}
				}
				wantFailsafeClosed(b, cb)
			})
		})
	}
}

// wantClosedCalls checks that a statecraft breaker is still closed and
// recorded outcomes.
func wantClosedCalls(b *testing.B, br *breaker.Breaker) {
	b.Helper()
	m := br.Metrics()
	require.Equal(b, breaker.StateClosed, m.State, "statecraft breaker's state")
	require.NotZero(b, m.Calls, "calls in the statecraft breaker's window")
}

func wantFailsafeClosed(b *testing.B, cb circuitbreaker.CircuitBreaker[int]) {
	b.Helper()
	require.True(b, cb.IsClosed(), "failsafe breaker is %v", cb.State())
	require.NotZero(b, cb.Metrics().Executions(), "failsafe breaker's executions")
}

func wantErrIs(b *testing.B, err, target error) {
	b.Helper()
	require.ErrorIs(b, err, target)
}
