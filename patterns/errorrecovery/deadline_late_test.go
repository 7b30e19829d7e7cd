package errorrecovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// slow returns a function that ignores its context: it advances clk by
// took (the time it "spends"), then returns v, err.
func slow[T any](clk *enginetest.Clock, took time.Duration, v T, err error) func(context.Context) (T, error) {
	return func(context.Context) (T, error) {
		clk.Advance(took)
		return v, err
	}
}

func TestAResultAfterTheOverallDeadlineIsATimeoutWhateverItSays(t *testing.T) {
	bad := func(v int) bool { return v < 0 }
	cases := []struct {
		name    string
		took    time.Duration
		v       int
		err     error
		timeout bool
	}{
		{"success before the deadline", 49 * time.Millisecond, 7, nil, false},
		{"success at the deadline", 50 * time.Millisecond, 7, nil, true},
		{"success after the deadline", 150 * time.Millisecond, 7, nil, true},
		{"bad result after the deadline", 150 * time.Millisecond, -1, nil, true},
		{"error after the deadline", 150 * time.Millisecond, 0, errFlaky, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			rc := er.RetryConfig[int]{MaxAttempts: 1, RetryOnResult: bad}
			w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Retry: &rc, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
			res, err := w.ExecuteResult(context.Background(), slow(clk, tc.took, tc.v, tc.err))
			if !tc.timeout {
				if err != nil || res.Value != tc.v || res.Source != er.SourceFunction {
					t.Fatalf("got %v from %v, %v; want %v from the function", res.Value, res.Source, err, tc.v)
				}
				return
			}
			te, ok := errors.AsType[*er.TimeoutError](err)
			if !ok || !errors.Is(err, context.DeadlineExceeded) || te.Attempts != 1 {
				t.Fatalf("error %v, want a *TimeoutError after 1 attempt matching DeadlineExceeded", err)
			}
			if res.Value != 0 || res.Source != er.SourceNone {
				t.Errorf("got %v from %v: the late value must be discarded", res.Value, res.Source)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error %v does not unwrap to the function's late error", err)
			}
		})
	}
}

func TestALateSuccessIsAnsweredByTheFallbackAsADeadline(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	fb := er.FallbackValue(-1)
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyFallback, Fallback: &fb, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
	res, err := w.ExecuteResult(context.Background(), slow(clk, 150*time.Millisecond, 7, nil))
	if err != nil || res.Value != -1 || res.Source != er.SourceFallbackValue {
		t.Errorf("got %v from %v, %v; want the fallback value", res.Value, res.Source, err)
	}

	fb.IgnoreDeadline = true
	w = mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyFallback, Fallback: &fb, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
	res, err = w.ExecuteResult(context.Background(), slow(clk, 150*time.Millisecond, 7, nil))
	if _, ok := errors.AsType[*er.TimeoutError](err); !ok || res.Value != 0 {
		t.Errorf("with IgnoreDeadline got %v, %v; want the *TimeoutError", res.Value, err)
	}
}

func TestALateSuccessIsNotCached(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cache.Config{MaxStale: er.None}, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
	ctx := context.Background()
	if _, err := w.Execute(ctx, slow(clk, 150*time.Millisecond, 7, nil)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("late success: %v, want the deadline", err)
	}
	if n := w.Cache().Len(); n != 0 {
		t.Errorf("the cache holds %d entries after a late success, want none", n)
	}
	res, err := w.ExecuteResult(ctx, func(context.Context) (int, error) { return 8, nil })
	if err != nil || res.Value != 8 || res.Source != er.SourceFunction {
		t.Errorf("next call got %v from %v, %v; want the function's 8", res.Value, res.Source, err)
	}
}

func TestASuccessAfterItsAttemptTimeoutIsTheAttemptsTimeoutAndIsRetried(t *testing.T) {
	cases := []struct {
		name     string
		took     time.Duration
		want     int
		attempts int
	}{
		{"before the attempt timeout", 999 * time.Millisecond, 1, 1},
		{"at the attempt timeout", time.Second, 2, 2},
		{"after the attempt timeout", 3 * time.Second, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](3), Deadline: &er.DeadlineConfig{Timeout: er.None, AttemptTimeout: time.Second}}, engine.WithClock(clk))
			calls := 0
			res, err := w.ExecuteResult(context.Background(), func(context.Context) (int, error) {
				calls++
				if calls == 1 {
					clk.Advance(tc.took) // ignores its context
				}
				return calls, nil
			})
			if err != nil || res.Value != tc.want || res.Attempts != tc.attempts {
				t.Errorf("got %v after %d attempts, %v; want %v after %d", res.Value, res.Attempts, err, tc.want, tc.attempts)
			}
		})
	}
}

func TestLateSuccessesExhaustRetriesAsAttemptTimeouts(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](3), Deadline: &er.DeadlineConfig{Timeout: er.None, AttemptTimeout: time.Second}}, engine.WithClock(clk))
	v, err := w.Execute(context.Background(), slow(clk, 2*time.Second, 7, nil))
	ee, ok := errors.AsType[*er.ExhaustedError](err)
	if !ok || ee.Attempts != 3 || !errors.Is(err, context.DeadlineExceeded) || v != 0 {
		t.Errorf("got %v, %v; want a zero value and *ExhaustedError of 3 attempt timeouts", v, err)
	}
}
