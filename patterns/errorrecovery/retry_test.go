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
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// mustRetryWithin is a retry under dl's timeouts: a workflow of RETRY and
// DEADLINE, named "retry" like NewRetry's.
func mustRetryWithin[T any](t *testing.T, cfg er.RetryConfig[T], dl er.DeadlineConfig, opts ...engine.Option) *er.Workflow[T] {
	t.Helper()
	x, err := er.NewWorkflow(er.ErrorRecoveryConfig[T]{Name: "retry", Retry: &cfg, Deadline: &dl, MetricsDisabled: true}, opts...)
	if err != nil {
		t.Fatal(err)
	}
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
			if err != nil || v != 7 || *calls != 5 {
				t.Fatalf("Execute = %v, %v after %d calls", v, err, *calls)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("delays %v, want %v", got, tc.want)
			}
			var nonzero []time.Duration
			for _, d := range tc.want {
				if d > 0 {
					nonzero = append(nonzero, d)
				}
			}
			if fmt.Sprint(slept) != fmt.Sprint(nonzero) {
				t.Errorf("clock advanced %v, want the delays slept %v", slept, nonzero)
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
		if n != 10_000 {
			t.Errorf("%v: %d draws, want 10000", b, n)
		}
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
	want := "[retry 1 flaky 0s retry 2 flaky 0s failure true]"
	if fmt.Sprint(log) != want {
		t.Errorf("hooks %v, want %s", log, want)
	}
	var ex *er.ExhaustedError
	if !errors.As(err, &ex) || ex.Attempts != 3 || !errors.Is(err, errFlaky) {
		t.Errorf("error %v, want *ExhaustedError after 3 attempts wrapping flaky", err)
	}
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
			if *calls != tc.wantCalls || !errors.Is(err, tc.wantIs) {
				t.Errorf("%d calls, error %v; want %d calls and errors.Is %v", *calls, err, tc.wantCalls, tc.wantIs)
			}
			if tc.wantIs != er.ErrExhausted && errors.Is(err, er.ErrExhausted) {
				t.Errorf("a stopped execution reports exhaustion: %v", err)
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
	if calls != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("%d calls, %v; want 1 call and context.Canceled", calls, err)
	}
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
	if err := <-done; !errors.Is(err, context.Canceled) || failures != 1 {
		t.Errorf("error %v with %d OnFailure calls; want context.Canceled and 1", err, failures)
	}
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
	var ex *er.ExhaustedError
	if !errors.As(err, &ex) || !errors.Is(err, er.ErrBadResult) || ex.Attempts != 3 {
		t.Fatalf("error %v, want *ExhaustedError of ErrBadResult after 3", err)
	}
	if res == nil || res.code != 503 {
		t.Errorf("result %v, want the last one (503)", res)
	}
	// A good result on the way stops the retry.
	calls = 0
	codes = []int{500, 200, 503}
	if res, err := x.Execute(context.Background(), func(context.Context) (*statusError, error) {
		calls++
		return &statusError{codes[calls-1]}, nil
	}); err != nil || res.code != 200 {
		t.Errorf("got %v, %v; want 200", res, err)
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
	if err != nil || fmt.Sprint(slept) != "[7s 10s]" {
		t.Errorf("slept %v (%v), want [7s 10s]: the carried delay, then the cap", slept, err)
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
	if fmt.Sprint(lefts) != "[3s 3s 2s]" || fmt.Sprint(slept) != "[4s 4s]" {
		t.Errorf("time left %v, slept %v; want [3s 3s 2s] and [4s 4s]", lefts, slept)
	}
	var te *er.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.Attempts != 3 {
		t.Errorf("error %v, want *TimeoutError matching DeadlineExceeded after 3 attempts", err)
	}
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
				// manual clock ends after 1s.
				done := ctx.Done()
				go func() { clk.Sleep(context.Background(), time.Second) }()
				<-done
				return 0, ctx.Err()
			}
			return 42, nil
		})
	})
	if err != nil || v != 42 || calls != 2 {
		t.Errorf("got %v, %v after %d calls; want the timed-out attempt retried", v, err, calls)
	}
}

func TestWalkAwayReturnsAtTheDeadline(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	x, err := er.NewDeadline[int](er.DeadlineConfig{Timeout: 5 * time.Second, WalkAway: true}, engine.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
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
	err = <-done
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	// The abandoned function returns later; its result goes nowhere, and
	// goleak (TestMain) checks its goroutine ends.
	close(release)
	<-finished
	if v, err := x.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil }); v != 1 || err != nil {
		t.Errorf("next execution %v, %v: the late result leaked", v, err)
	}
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
	if v, err := x.Execute(context.Background(), fn); v != 3 || err != nil {
		t.Fatal(v, err)
	}
	if fmt.Sprint(seen) != "[1 true 1m0s true 2 true 1m0s true 3 true 1m0s true]" {
		t.Errorf("attempt info %v", seen)
	}
	if _, ok := er.AttemptFromContext(context.Background()); ok {
		t.Error("AttemptFromContext on a plain context reports an attempt")
	}
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
			if r := recover(); r != "kaboom" {
				t.Errorf("recovered %v, want the original value", r)
			}
		}()
		x.Execute(context.Background(), func(context.Context) (int, error) {
			calls++
			panic("kaboom")
		})
	}()
	if calls != 1 {
		t.Errorf("%d calls: a panic must not be retried", calls)
	}
	if v, err := x.Execute(context.Background(), func(context.Context) (int, error) { return 5, nil }); v != 5 || err != nil {
		t.Errorf("executor unusable after a panic: %v, %v", v, err)
	}
}

func TestTraceOfAThreeAttemptSuccess(t *testing.T) {
	x := mustRetry(t, retryCfg(5, er.BackoffFixed, er.None))
	fn, _ := failing(2, errFlaky, 3)
	v, steps, err := x.Trace(context.Background(), fn)
	if err != nil || v != 3 {
		t.Fatal(v, err)
	}
	var path []string
	for _, s := range steps {
		path = append(path, s.From+" -"+s.Event+"-> "+s.To)
	}
	want := []string{
		"Start -begin-> Attempt", "Attempt -retryable-> Backoff", "Backoff -after backoff-> Retry", "Retry -retry-> Attempt",
		"Attempt -retryable-> Backoff", "Backoff -after backoff-> Retry", "Retry -retry-> Attempt", "Attempt -success-> Done",
	}
	if fmt.Sprint(path) != fmt.Sprint(want) {
		t.Errorf("trace\n%v\nwant\n%v", path, want)
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
	if !errors.Is(err, er.ErrExhausted) || *calls != 1100 {
		t.Fatalf("Execute: %v after %d calls, want exhausted after 1100", err, *calls)
	}
	if len(nonzero) > 0 {
		t.Errorf("%d delays were not zero, the first %v", len(nonzero), nonzero[0])
	}
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
		if !errors.Is(err, er.ErrExhausted) || *calls != 3 {
			t.Fatalf("%+v: %v after %d calls, want exhausted after 3", c.cfg, err, *calls)
		}
	}
	if fmt.Sprint(zero) != fmt.Sprint(def) || fmt.Sprint(def) != fmt.Sprint([]time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("zero config delays %v, default %v, want [1s 2s] for both", zero, def)
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
		var ce *er.ConfigError
		if !errors.As(err, &ce) || ce.Field != field || ce.Config != "RetryConfig" {
			t.Errorf("%s: error %v", field, err)
		}
	}
	_, err := er.NewDeadline[int](er.DeadlineConfig{WalkAway: true, Timeout: er.None})
	var ce *er.ConfigError
	if !errors.As(err, &ce) || ce.Field != "WalkAway" {
		t.Errorf("walk-away with no timeout: %v", err)
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
