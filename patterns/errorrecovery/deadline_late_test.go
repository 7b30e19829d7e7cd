package errorrecovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
				require.NoError(t, err)
				require.Equal(t, tc.v, res.Value, "want the function's value")
				require.Equal(t, er.SourceFunction, res.Source)
				return
			}
			te, ok := errors.AsType[*er.TimeoutError](err)
			require.True(t, ok, "error %v, want a *TimeoutError", err)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Equal(t, 1, te.Attempts, "attempts")
			assert.Zero(t, res.Value, "the late value must be discarded")
			assert.Equal(t, er.SourceNone, res.Source, "the late value must be discarded")
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err, "the function's late error")
			}
		})
	}
}

func TestALateSuccessIsAnsweredByTheFallbackAsADeadline(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	fb := er.FallbackValue(-1)
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyFallback, Fallback: &fb, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
	res, err := w.ExecuteResult(context.Background(), slow(clk, 150*time.Millisecond, 7, nil))
	assert.NoError(t, err)
	assert.Equal(t, -1, res.Value, "want the fallback value")
	assert.Equal(t, er.SourceFallbackValue, res.Source, "want the fallback value")

	fb.IgnoreDeadline = true
	w = mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyFallback, Fallback: &fb, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
	res, err = w.ExecuteResult(context.Background(), slow(clk, 150*time.Millisecond, 7, nil))
	_, ok := errors.AsType[*er.TimeoutError](err)
	assert.True(t, ok, "with IgnoreDeadline got %v, want the *TimeoutError", err)
	assert.Zero(t, res.Value, "with IgnoreDeadline")
}

func TestALateSuccessIsNotCached(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCache, Cache: &cache.Config{MaxStale: er.None}, GlobalTimeout: 50 * time.Millisecond}, engine.WithClock(clk))
	ctx := context.Background()
	_, err := w.Execute(ctx, slow(clk, 150*time.Millisecond, 7, nil))
	require.ErrorIs(t, err, context.DeadlineExceeded, "late success: want the deadline")
	assert.Zero(t, w.Cache().Len(), "entries in the cache after a late success")
	res, err := w.ExecuteResult(ctx, func(context.Context) (int, error) { return 8, nil })
	assert.NoError(t, err, "next call")
	assert.Equal(t, 8, res.Value, "next call: want the function's 8")
	assert.Equal(t, er.SourceFunction, res.Source, "next call: want the function's 8")
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
			assert.NoError(t, err)
			assert.Equal(t, tc.want, res.Value)
			assert.Equal(t, tc.attempts, res.Attempts, "attempts")
		})
	}
}

func TestLateSuccessesExhaustRetriesAsAttemptTimeouts(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](3), Deadline: &er.DeadlineConfig{Timeout: er.None, AttemptTimeout: time.Second}}, engine.WithClock(clk))
	v, err := w.Execute(context.Background(), slow(clk, 2*time.Second, 7, nil))
	if ee, ok := errors.AsType[*er.ExhaustedError](err); assert.True(t, ok, "error %v, want *ExhaustedError", err) {
		assert.Equal(t, 3, ee.Attempts, "attempts")
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "want attempt timeouts")
	assert.Zero(t, v)
}
