package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

var errFlaky = errors.New("flaky")

// failing returns a function that fails n times with err, then returns v.
func failing[T any](n int, err error, v T) (func(context.Context) (T, error), *int) {
	calls := 0
	return func(ctx context.Context) (T, error) {
		calls++
		if calls <= n {
			var zero T
			return zero, err
		}
		return v, nil
	}, &calls
}

func retryCfg(attempts int, b er.Backoff, d time.Duration) er.RetryConfig[int] {
	c := er.DefaultRetryConfig[int]()
	c.MaxAttempts, c.Backoff, c.InitialDelay = attempts, b, d
	return c
}

func mustRetry[T any](t *testing.T, cfg er.RetryConfig[T], opts ...engine.Option) *er.Workflow[T] {
	t.Helper()
	x, err := er.NewRetry(cfg, opts...)
	require.NoError(t, err)
	return x
}

// mustRetryWithin is a retry under dl's timeouts: a workflow of RETRY and
// DEADLINE, named "retry" like NewRetry's.
func mustRetryWithin[T any](t *testing.T, cfg er.RetryConfig[T], dl er.DeadlineConfig, opts ...engine.Option) *er.Workflow[T] {
	t.Helper()
	x, err := er.NewWorkflow(er.ErrorRecoveryConfig[T]{Name: "retry", Retry: &cfg, Deadline: &dl, MetricsDisabled: true}, opts...)
	require.NoError(t, err)
	return x
}

func TestBackoffDelaySequences(t *testing.T) {
	const s = time.Second
	cases := []struct {
		name   string
		edit   func(*er.RetryConfig[int])
		random func() float64
		want   []time.Duration
	}{
		{"fixed", func(c *er.RetryConfig[int]) { c.Backoff = er.BackoffFixed }, nil, []time.Duration{s, s, s, s}},
		{"linear", func(c *er.RetryConfig[int]) { c.Backoff = er.BackoffLinear }, nil, []time.Duration{s, 2 * s, 3 * s, 4 * s}},
		{"exponential x2", func(c *er.RetryConfig[int]) {}, nil, []time.Duration{s, 2 * s, 4 * s, 8 * s}},
		{"exponential x3 capped at 10s", func(c *er.RetryConfig[int]) { c.Multiplier, c.MaxDelay = 3, 10*s }, nil,
			[]time.Duration{s, 3 * s, 9 * s, 10 * s}},
		{"jitter 10%: factors 0.9, 1.0, 1.1 then 0.9", func(c *er.RetryConfig[int]) { c.Backoff = er.BackoffJitter },
			seq(0, 0.5, 1, 0), []time.Duration{900 * time.Millisecond, 2 * s, 4400 * time.Millisecond, 7200 * time.Millisecond}},
		{"jitter capped after jitter", func(c *er.RetryConfig[int]) { c.Backoff, c.MaxDelay = er.BackoffJitter, 2*s },
			seq(1), []time.Duration{1100 * time.Millisecond, 2 * s, 2 * s, 2 * s}},
		{"decorrelated: U(d, 3*prev), prev starts at d", func(c *er.RetryConfig[int]) { c.Backoff = er.BackoffDecorrelated },
			seq(1, 1, 0, 0.5), []time.Duration{3 * s, 9 * s, s, 2 * s}},
		{"decorrelated capped", func(c *er.RetryConfig[int]) { c.Backoff, c.MaxDelay = er.BackoffDecorrelated, 5*s },
			seq(1), []time.Duration{3 * s, 5 * s, 5 * s, 5 * s}},
		{"no delay", func(c *er.RetryConfig[int]) { c.InitialDelay = er.None }, nil, []time.Duration{0, 0, 0, 0}},
		{"a literal naming only MaxAttempts has the default backoff", func(c *er.RetryConfig[int]) {
			*c = er.RetryConfig[int]{MaxAttempts: 5}
		}, nil, []time.Duration{s, 2 * s, 4 * s, 8 * s}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := retryCfg(5, er.BackoffExponential, s)
			tc.edit(&cfg)
			var got []time.Duration
			cfg.OnRetry = func(_ int, _ error, d time.Duration) { got = append(got, d) }
			clk := enginetest.NewClock(time.Time{})
			opts := []engine.Option{engine.WithClock(clk)}
			if tc.random != nil {
				opts = append(opts, engine.WithRandom(tc.random))
			}
			x := mustRetry(t, cfg, opts...)
			fn, calls := failing(4, errFlaky, 7)
			v, slept, err := onClock(clk, func() (int, error) { return x.Execute(context.Background(), fn) })
			require.NoError(t, err, "Execute")
			require.Equal(t, 7, v, "Execute")
			require.Equal(t, 5, *calls, "Execute: calls")
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("delays (-want +got):\n%s", diff)
			}
			var nonzero []time.Duration
			for _, d := range tc.want {
				if d > 0 {
					nonzero = append(nonzero, d)
				}
			}
			if diff := cmp.Diff(nonzero, slept, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("clock advances, want the delays slept (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBackoffFormulasStayInBounds draws 10,000 delays per strategy from a
// real random source and checks each against its formula's bounds and the
// cap.
func TestBackoffFormulasStayInBounds(t *testing.T) {
	const d, capD = 100 * time.Millisecond, 30 * time.Second
	r := rand.New(rand.NewPCG(1, 2))
	for b := er.BackoffFixed; b <= er.BackoffEqualJitter; b++ {
		cfg := retryCfg(10_001, b, d)
		cfg.MaxDelay, cfg.Multiplier, cfg.JitterRange = capD, 1.5, 0.25
		cfg.RetryOnResult = func(int) bool { return true }
		var prev time.Duration = d
		n := 0
		cfg.OnRetry = func(attempt int, _ error, got time.Duration) {
			n++
			// Plain comparisons: this hook checks 70,000 delays, and
			// testify's reflection makes the test 15 times slower.
			if got > capD || got < 0 {
				t.Fatalf("%v draw %d: %v outside [0, cap]", b, attempt, got)
			}
			k := float64(attempt)
			var lo, hi float64
			switch b {
			case er.BackoffFixed:
				lo, hi = float64(d), float64(d)
			case er.BackoffLinear:
				lo, hi = float64(d)*k, float64(d)*k
			case er.BackoffExponential:
				lo = float64(d) * math.Pow(1.5, k-1)
				hi = lo
			case er.BackoffJitter:
				e := float64(d) * math.Pow(1.5, k-1)
				lo, hi = e*0.75, e*1.25
			case er.BackoffDecorrelated:
				lo, hi = float64(d), math.Max(float64(d), 3*float64(prev))
			case er.BackoffFullJitter:
				lo, hi = 0, math.Min(float64(d)*math.Pow(1.5, k-1), float64(capD))
			case er.BackoffEqualJitter:
				hi = math.Min(float64(d)*math.Pow(1.5, k-1), float64(capD))
				lo = hi / 2
			}
			lo, hi = math.Min(lo, float64(capD)), math.Min(hi, float64(capD))
			if float64(got) < lo-1 || float64(got) > hi+1 {
				t.Fatalf("%v attempt %d: %v outside [%v, %v]", b, attempt, got, time.Duration(lo), time.Duration(hi))
			}
			prev = got
		}
		x := mustRetry(t, cfg, engine.WithClock(zeroSleepClock{enginetest.NewClock(time.Time{})}), engine.WithRandom(r.Float64))
		x.Execute(context.Background(), func(context.Context) (int, error) { return 0, nil })
		assert.Equal(t, 10_000, n, "%v: draws", b)
	}
}

// zeroSleepClock is a manual clock whose Sleep returns at once (time does
// not move), for tests that only read the delays chosen.
type zeroSleepClock struct{ *enginetest.Clock }

func (zeroSleepClock) Sleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

// SleepUntil returns at once too, so this clock is not used as an
// engine.DeadlineClock through the embedded manual clock's method.
func (zeroSleepClock) SleepUntil(ctx context.Context, t time.Time) error { return ctx.Err() }

func TestHooksAndTheirOrder(t *testing.T) {
	var log []string
	cfg := retryCfg(3, er.BackoffFixed, er.None)
	cfg.OnRetry = func(n int, err error, d time.Duration) { log = append(log, fmt.Sprintf("retry %d %v %v", n, err, d)) }
	cfg.OnFailure = func(err error) { log = append(log, fmt.Sprintf("failure %v", errors.Is(err, er.ErrExhausted))) }
	x := mustRetry(t, cfg)
	fn, _ := failing(5, errFlaky, 1)
	_, err := x.Execute(context.Background(), fn)
	want := []string{"retry 1 flaky 0s", "retry 2 flaky 0s", "failure true"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	if ex, ok := errors.AsType[*er.ExhaustedError](err); assert.True(t, ok, "error %v, want *ExhaustedError", err) {
		assert.Equal(t, 3, ex.Attempts, "attempts")
	}
	assert.ErrorIs(t, err, errFlaky)
}

type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

func TestClassification(t *testing.T) {
	errBadInput := errors.New("bad input")
	cases := []struct {
		name      string
		edit      func(*er.RetryConfig[int])
		err       error
		wantCalls int
		wantIs    error
	}{
		{"default retries every error", nil, errFlaky, 3, er.ErrExhausted},
		{"marked permanent stops", nil, er.Permanent(errBadInput), 1, errBadInput},
		{"PermanentOn stops", func(c *er.RetryConfig[int]) { c.PermanentOn = []er.ErrorMatcher{er.ErrorIs(errBadInput)} },
			fmt.Errorf("wrapped: %w", errBadInput), 1, errBadInput},
		{"RetryOn value retries", func(c *er.RetryConfig[int]) { c.RetryOn = []er.ErrorMatcher{er.ErrorIs(io.ErrUnexpectedEOF)} },
			io.ErrUnexpectedEOF, 3, er.ErrExhausted},
		{"RetryOn type retries", func(c *er.RetryConfig[int]) { c.RetryOn = []er.ErrorMatcher{er.ErrorType[*net.OpError]()} },
			&net.OpError{Op: "dial", Err: errFlaky}, 3, er.ErrExhausted},
		{"RetryOn predicate retries", func(c *er.RetryConfig[int]) {
			c.RetryOn = []er.ErrorMatcher{er.ErrorFunc(func(err error) bool {
				se, ok := errors.AsType[*statusError](err)
				return ok && se.code >= 500
			})}
		}, &statusError{503}, 3, er.ErrExhausted},
		{"not in RetryOn stops", func(c *er.RetryConfig[int]) { c.RetryOn = []er.ErrorMatcher{er.ErrorIs(io.ErrUnexpectedEOF)} },
			errFlaky, 1, errFlaky},
		{"permanent beats RetryOn", func(c *er.RetryConfig[int]) { c.RetryOn = []er.ErrorMatcher{er.ErrorIs(errFlaky)} },
			er.Permanent(errFlaky), 1, errFlaky},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := retryCfg(3, er.BackoffFixed, er.None)
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			x := mustRetry(t, cfg)
			fn, calls := failing(10, tc.err, 1)
			_, err := x.Execute(context.Background(), fn)
			assert.Equal(t, tc.wantCalls, *calls, "calls")
			assert.ErrorIs(t, err, tc.wantIs)
			if tc.wantIs != er.ErrExhausted {
				assert.NotErrorIs(t, err, er.ErrExhausted, "a stopped execution reports exhaustion")
			}
		})
	}
}

func TestCallerContextStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	x := mustRetry(t, retryCfg(5, er.BackoffFixed, er.None))
	calls := 0
	_, err := x.Execute(ctx, func(context.Context) (int, error) {
		calls++
		cancel()
		return 0, errFlaky
	})
	assert.Equal(t, 1, calls, "calls")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCallerContextEndingDuringBackoff(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	failures := 0
	cfg := retryCfg(5, er.BackoffFixed, time.Minute)
	cfg.OnFailure = func(error) { failures++ }
	x := mustRetry(t, cfg, engine.WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := x.Execute(ctx, func(context.Context) (int, error) { return 0, errFlaky })
		done <- err
	}()
	clk.BlockUntilWaiters(context.Background(), 1)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, 1, failures, "OnFailure calls")
}

func TestResultPredicateExhaustionReturnsTheLastResult(t *testing.T) {
	cfg := er.DefaultRetryConfig[*statusError]()
	cfg.InitialDelay = er.None
	cfg.RetryOnResult = func(r *statusError) bool { return r.code >= 500 }
	x := mustRetry(t, cfg)
	codes := []int{500, 502, 503}
	calls := 0
	res, err := x.Execute(context.Background(), func(context.Context) (*statusError, error) {
		calls++
		return &statusError{codes[calls-1]}, nil
	})
	ex, ok := errors.AsType[*er.ExhaustedError](err)
	require.True(t, ok, "error %v, want *ExhaustedError", err)
	require.ErrorIs(t, err, er.ErrBadResult)
	require.Equal(t, 3, ex.Attempts, "attempts")
	if assert.NotNil(t, res, "result: want the last one") {
		assert.Equal(t, 503, res.code, "result: want the last one")
	}
	// A good result on the way stops the retry.
	calls = 0
	codes = []int{500, 200, 503}
	res, err = x.Execute(context.Background(), func(context.Context) (*statusError, error) {
		calls++
		return &statusError{codes[calls-1]}, nil
	})
	if assert.NoError(t, err) {
		assert.Equal(t, 200, res.code)
	}
}

func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := retryCfg(3, er.BackoffFixed, time.Second)
	cfg.MaxDelay = 10 * time.Second
	x := mustRetry(t, cfg, engine.WithClock(clk))
	afters := []time.Duration{7 * time.Second, time.Hour}
	calls := 0
	_, slept, err := onClock(clk, func() (int, error) {
		return x.Execute(context.Background(), func(context.Context) (int, error) {
			calls++
			if calls <= len(afters) {
				return 0, er.RetryAfter(errFlaky, afters[calls-1])
			}
			return 1, nil
		})
	})
	assert.NoError(t, err)
	if diff := cmp.Diff([]time.Duration{7 * time.Second, 10 * time.Second}, slept); diff != "" {
		t.Errorf("slept: want the carried delay, then the cap (-want +got):\n%s", diff)
	}
}

func TestDeadlineCutsAttemptsAndRefusesALateBackoff(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := retryCfg(10, er.BackoffFixed, 4*time.Second)
	x := mustRetryWithin(t, cfg, er.DeadlineConfig{Timeout: 10 * time.Second, AttemptTimeout: 3 * time.Second}, engine.WithClock(clk))
	var lefts []time.Duration
	_, slept, err := onClock(clk, func() (int, error) {
		return x.Execute(context.Background(), func(ctx context.Context) (int, error) {
			left, _ := er.TimeLeft(ctx)
			lefts = append(lefts, left)
			return 0, errFlaky
		})
	})
	// Attempts at 0s and 4s get the 3s attempt timeout; the one at 8s gets
	// the 2s left. A 4s backoff from 8s would end past 10s: refused.
	const s = time.Second
	if diff := cmp.Diff([]time.Duration{3 * s, 3 * s, 2 * s}, lefts); diff != "" {
		t.Errorf("time left (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{4 * s, 4 * s}, slept); diff != "" {
		t.Errorf("slept (-want +got):\n%s", diff)
	}
	if te, ok := errors.AsType[*er.TimeoutError](err); assert.True(t, ok, "error %v, want *TimeoutError", err) {
		assert.Equal(t, 3, te.Attempts, "attempts")
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestAttemptTimeoutIsRetriedAndRunsOnTheClock(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	x := mustRetryWithin(t, retryCfg(3, er.BackoffFixed, er.None), er.DeadlineConfig{AttemptTimeout: time.Second}, engine.WithClock(clk))
	calls := 0
	v, _, err := onClock(clk, func() (int, error) {
		return x.Execute(context.Background(), func(ctx context.Context) (int, error) {
			calls++
			if calls == 1 {
				// A cooperative function: waits on its context, which the
				// manual clock ends after 1s. The sleeper sleeps on the
				// attempt's context, so it ends with the attempt even when
				// onClock has advanced past the timeout before it slept
				// (the attempt's Done already counts as a waiter): on
				// context.Background it could outlive the test (goleak).
				done := ctx.Done()
				go func() { clk.Sleep(ctx, time.Second) }()
				<-done
				return 0, ctx.Err()
			}
			return 42, nil
		})
	})
	assert.NoError(t, err)
	assert.Equal(t, 42, v)
	assert.Equal(t, 2, calls, "calls: want the timed-out attempt retried")
}

func TestWalkAwayReturnsAtTheDeadline(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	x, err := er.NewDeadline[int](er.DeadlineConfig{Timeout: 5 * time.Second, WalkAway: true}, engine.WithClock(clk))
	require.NoError(t, err)
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := x.Execute(context.Background(), func(ctx context.Context) (int, error) {
			close(started)
			<-release // ignores its context
			defer close(finished)
			return 99, nil
		})
		done <- err
	}()
	<-started
	clk.Advance(5 * time.Second)
	require.ErrorIs(t, <-done, context.DeadlineExceeded)
	// The abandoned function returns later; its result goes nowhere, and
	// goleak (TestMain) checks its goroutine ends.
	close(release)
	<-finished
	v, err := x.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
	assert.Equal(t, 1, v, "next execution: the late result leaked")
	assert.NoError(t, err, "next execution")
}

func TestAttemptInfoFromContextAllocatesNothing(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	x := mustRetryWithin(t, retryCfg(3, er.BackoffFixed, er.None), er.DeadlineConfig{Timeout: time.Minute}, engine.WithClock(clk))
	var seen []string
	fn := func(ctx context.Context) (int, error) {
		n, ok := er.AttemptFromContext(ctx)
		left, hasDeadline := er.TimeLeft(ctx)
		seen = append(seen, fmt.Sprint(n, ok, left, hasDeadline))
		if n < 3 {
			return 0, errFlaky
		}
		return n, nil
	}
	v, err := x.Execute(context.Background(), fn)
	require.Equal(t, 3, v)
	require.NoError(t, err)
	if diff := cmp.Diff([]string{"1 true 1m0s true", "2 true 1m0s true", "3 true 1m0s true"}, seen); diff != "" {
		t.Errorf("attempt info (-want +got):\n%s", diff)
	}
	_, ok := er.AttemptFromContext(context.Background())
	assert.False(t, ok, "AttemptFromContext on a plain context reports an attempt")
	x2 := mustRetry(t, retryCfg(1, er.BackoffFixed, er.None))
	testutil.WantAllocs(t, 0, "AttemptFromContext and TimeLeft", func() {
		x2.Execute(context.Background(), func(ctx context.Context) (int, error) {
			er.AttemptFromContext(ctx)
			er.TimeLeft(ctx)
			return 0, nil
		})
	})
}

func TestPanicIsReRaisedAndNotRetried(t *testing.T) {
	failures := 0
	cfg := retryCfg(3, er.BackoffFixed, er.None)
	cfg.OnFailure = func(error) { failures++ }
	x := mustRetry(t, cfg)
	calls := 0
	func() {
		defer func() {
			assert.Equal(t, "kaboom", recover(), "recovered: want the original value")
		}()
		x.Execute(context.Background(), func(context.Context) (int, error) {
			calls++
			panic("kaboom")
		})
	}()
	assert.Equal(t, 1, calls, "calls: a panic must not be retried")
	v, err := x.Execute(context.Background(), func(context.Context) (int, error) { return 5, nil })
	assert.Equal(t, 5, v, "executor unusable after a panic")
	assert.NoError(t, err, "executor unusable after a panic")
}

func TestTraceOfAThreeAttemptSuccess(t *testing.T) {
	x := mustRetry(t, retryCfg(5, er.BackoffFixed, er.None))
	fn, _ := failing(2, errFlaky, 3)
	v, steps, err := x.Trace(context.Background(), fn)
	require.NoError(t, err)
	require.Equal(t, 3, v)
	var path []string
	for _, s := range steps {
		path = append(path, s.From+" -"+s.Event+"-> "+s.To)
	}
	want := []string{
		"Start -begin-> Attempt", "Attempt -retryable-> Backoff", "Backoff -after backoff-> Retry", "Retry -retry-> Attempt",
		"Attempt -retryable-> Backoff", "Backoff -after backoff-> Retry", "Retry -retry-> Attempt", "Attempt -success-> Done",
	}
	if diff := cmp.Diff(want, path); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
}

// With no delay and no cap, the exponential formula's m^(n-1) overflows
// after about 1025 attempts; the delay must stay zero, not become NaN and
// then the largest Duration.
func TestNoDelayStaysZeroPastTheOverflowOfTheFormula(t *testing.T) {
	cfg := er.RetryConfig[int]{MaxAttempts: 1100, InitialDelay: er.None, MaxDelay: er.None}
	var nonzero []time.Duration
	cfg.OnRetry = func(_ int, _ error, d time.Duration) {
		if d != 0 {
			nonzero = append(nonzero, d)
		}
	}
	x := mustRetry(t, cfg)
	fn, calls := failing(1100, errFlaky, 0)
	_, err := x.Execute(context.Background(), fn)
	require.ErrorIs(t, err, er.ErrExhausted, "Execute")
	require.Equal(t, 1100, *calls, "Execute: calls")
	assert.Empty(t, nonzero, "delays that were not zero")
}

// A zero RetryConfig means DefaultRetryConfig, field by field.
func TestZeroRetryConfigMeansTheDefaults(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var zero, def []time.Duration
	for _, c := range []struct {
		cfg er.RetryConfig[int]
		got *[]time.Duration
	}{{er.RetryConfig[int]{}, &zero}, {er.DefaultRetryConfig[int](), &def}} {
		c.cfg.OnRetry = func(_ int, _ error, d time.Duration) { *c.got = append(*c.got, d) }
		x := mustRetry(t, c.cfg, engine.WithClock(clk), engine.WithRandom(func() float64 { return 0.25 }))
		fn, calls := failing(10, errFlaky, 0)
		_, _, err := onClock(clk, func() (int, error) { return x.Execute(context.Background(), fn) })
		require.ErrorIs(t, err, er.ErrExhausted, "%+v", c.cfg)
		require.Equal(t, 3, *calls, "%+v: calls", c.cfg)
	}
	want := []time.Duration{time.Second, 2 * time.Second}
	if diff := cmp.Diff(want, zero); diff != "" {
		t.Errorf("zero config delays (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, def); diff != "" {
		t.Errorf("default config delays (-want +got):\n%s", diff)
	}
}

func TestInvalidRetryConfigNamesTheField(t *testing.T) {
	cases := map[string]func(*er.RetryConfig[int]){
		"MaxAttempts":  func(c *er.RetryConfig[int]) { c.MaxAttempts = -1 },
		"InitialDelay": func(c *er.RetryConfig[int]) { c.InitialDelay = 25 * time.Hour },
		"MaxDelay":     func(c *er.RetryConfig[int]) { c.MaxDelay = 25 * time.Hour },
		"Backoff":      func(c *er.RetryConfig[int]) { c.Backoff = 9 },
		"Multiplier":   func(c *er.RetryConfig[int]) { c.Multiplier = 0.5 },
		"JitterRange":  func(c *er.RetryConfig[int]) { c.JitterRange = 1 },
		"RetryOn":      func(c *er.RetryConfig[int]) { c.RetryOn = []er.ErrorMatcher{nil} },
	}
	for field, edit := range cases {
		cfg := er.DefaultRetryConfig[int]()
		edit(&cfg)
		_, err := er.NewRetry(cfg)
		if ce, ok := errors.AsType[*er.ConfigError](err); assert.True(t, ok, "%s: error %v", field, err) {
			assert.Equal(t, field, ce.Field, "%s: error %v", field, err)
			assert.Equal(t, "RetryConfig", ce.Config, "%s: error %v", field, err)
		}
	}
	_, err := er.NewDeadline[int](er.DeadlineConfig{WalkAway: true, Timeout: er.None})
	if ce, ok := errors.AsType[*er.ConfigError](err); assert.True(t, ok, "walk-away with no timeout: %v", err) {
		assert.Equal(t, "WalkAway", ce.Field, "walk-away with no timeout: %v", err)
	}
}

func TestRetryFirstAttemptSuccessAllocatesNothing(t *testing.T) {
	x := mustRetry(t, er.DefaultRetryConfig[int]())
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	testutil.WantAllocs(t, 0, "first-attempt success", func() { x.Execute(ctx, fn) })
	y := mustRetry(t, retryCfg(3, er.BackoffFixed, er.None))
	testutil.WantAllocs(t, 0, "success on the third attempt", func() {
		thirdTimeCalls = 0
		y.Execute(ctx, thirdTime)
	})
}

// thirdTime fails twice, then succeeds; it captures nothing, so calling it
// allocates nothing of its own.
var thirdTimeCalls int

func thirdTime(ctx context.Context) (int, error) {
	if thirdTimeCalls++; thirdTimeCalls < 3 {
		return 0, errFlaky
	}
	return 1, nil
}
