package snippets

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// snippet:testing-manual-clock begin
// flaky returns a function that fails n times with ErrUnavailable, then
// returns "ok".
func flaky(n int) func(context.Context) (string, error) {
	calls := 0
	return func(context.Context) (string, error) {
		if calls++; calls <= n {
			return "", ErrUnavailable
		}
		return "ok", nil
	}
}

func TestRetryBacksOffOnTheManualClock(t *testing.T) {
	clk := enginetest.NewClock(time.Time{}) // 2000-01-01 UTC; moves only when told
	rec := &enginetest.Recorder{}
	r, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[string](), // 1s, then 2s
		engine.WithClock(clk), engine.WithObserver(rec))
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := r.Execute(t.Context(), flaky(2))
		done <- err
	}()
	for _, want := range []time.Duration{time.Second, 2 * time.Second} {
		// Wait until the execution sleeps in its backoff, then wake it.
		require.NoError(t, clk.BlockUntilWaiters(t.Context(), 1))
		moved, _ := clk.AdvanceToNext()
		assert.Equal(t, want, moved, "backoff")
	}
	require.NoError(t, <-done)
	enginetest.AssertPath(t, rec, "Start", "Attempt", "Backoff", "Retry", "Attempt", "Backoff", "Retry", "Attempt", "Done")
}

// snippet:testing-manual-clock end

// snippet:testing-advance begin
func TestBreakerHalfOpensTheInstantItsTimeoutPasses(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := breaker.DefaultConfig() // open for 60s
	b, err := breaker.New(cfg, engine.WithClock(clk))
	require.NoError(t, err)
	b.ForceOpen()
	clk.Advance(cfg.OpenTimeout - time.Nanosecond)
	require.Equal(t, breaker.StateOpen, b.State(), "after 60s-1ns")
	clk.Advance(time.Nanosecond) // runs the open timer, in this goroutine
	require.Equal(t, breaker.StateHalfOpen, b.State(), "after 60s")
}

// snippet:testing-advance end

// snippet:testing-synctest begin
func TestRetryOnTheRealClockInASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// No WithClock: the real clock, which inside the bubble is fake time
		// that jumps whenever every goroutine in the bubble is blocked.
		r, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[string]())
		require.NoError(t, err)
		start := time.Now()
		_, err = r.Execute(t.Context(), flaky(2))
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, time.Since(start)) // 1s + 2s of backoff, exactly
	})
}

// snippet:testing-synctest end

// snippet:testing-deadline begin
func TestAHangingCallTimesOutOnTheManualClock(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	d, err := errorrecovery.NewDeadline[string](errorrecovery.DeadlineConfig{Timeout: 2 * time.Second},
		engine.WithClock(clk))
	require.NoError(t, err)
	hangs := func(ctx context.Context) (string, error) {
		<-ctx.Done() // a dependency that never answers
		return "", ctx.Err()
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.Execute(t.Context(), hangs)
		done <- err
	}()
	// The function waits on its attempt's context, whose deadline runs on
	// clk: it counts as a waiter once it asks for Done.
	require.NoError(t, clk.BlockUntilWaiters(t.Context(), 1))
	clk.Advance(2 * time.Second)
	require.ErrorIs(t, <-done, context.DeadlineExceeded, "Execute") // a *TimeoutError
}

// snippet:testing-deadline end
