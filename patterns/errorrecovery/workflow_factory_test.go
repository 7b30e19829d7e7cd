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
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// newBreakerWorkflow is NewBreakerWorkflow on a manual clock, closed when
// the test ends.
func newBreakerWorkflow(t *testing.T, threshold int) (*er.Workflow[string], *enginetest.Clock) {
	t.Helper()
	clock := enginetest.NewClock(time.Unix(0, 0))
	w, err := er.NewBreakerWorkflow(threshold, time.Minute, "fallback", engine.WithClock(clock))
	require.NoError(t, err)
	t.Cleanup(w.Breaker().Close)
	return w, clock
}

// The original's create_circuit_breaker_workflow(20, ...) opened after
// 20 failures; a window of the default 10 outcomes could never hold them.
func TestBreakerWorkflowGrowsItsWindowToHoldTheThreshold(t *testing.T) {
	ctx := context.Background()
	failing := func(context.Context) (string, error) { return "", errFlaky }
	w, _ := newBreakerWorkflow(t, 20)
	for i := range 19 {
		_, _ = w.Execute(ctx, failing)
		require.Equal(t, breaker.StateClosed, w.Breaker().State(), "breaker after %d failures: want Closed until the 20th", i+1)
	}
	_, _ = w.Execute(ctx, failing)
	m := w.Breaker().Metrics()
	require.Equal(t, breaker.StateOpen, m.State, "after 20 failures: %+v", m)
	require.Equal(t, 20, m.Failures, "after 20 failures: %+v, want 20 failures in a window of 20", m)
	require.Equal(t, 20, m.Calls, "after 20 failures: %+v, want 20 failures in a window of 20", m)

	// At or below the default, the window keeps its default size.
	w, _ = newBreakerWorkflow(t, 3)
	for range 12 {
		_, _ = w.Execute(ctx, func(context.Context) (string, error) { return "ok", nil })
	}
	require.Equal(t, 10, w.Breaker().Metrics().Calls, "outcomes the window holds after 12 successes: want the default 10")

	// Beyond the largest window, the threshold is refused, naming it.
	_, err := er.NewBreakerWorkflow(1<<20+1, time.Minute, "fallback")
	ce, ok := errors.AsType[*er.ConfigError](err)
	require.True(t, ok, "threshold 1<<20+1: %v, want a *ConfigError", err)
	require.Equal(t, "FailureThreshold", ce.Field, "threshold 1<<20+1: %v", err)
}

// The fallback answers "while open", as the factory's doc says: only the
// calls the breaker rejects. A call it lets through, failing, gets its own
// error, in Closed and in HalfOpen alike.
func TestBreakerWorkflowFallsBackOnlyOnBreakerRejections(t *testing.T) {
	ctx := context.Background()
	w, clock := newBreakerWorkflow(t, 2)
	calls := 0
	failing := func(context.Context) (string, error) { calls++; return "", errFlaky }

	for i := range 2 { // closed: the function's own error, the one that opens it included
		r, err := w.ExecuteResult(ctx, failing)
		require.ErrorIs(t, err, errFlaky, "failure %d while closed: want the function's error", i+1)
		require.Equal(t, er.SourceNone, r.Source, "failure %d while closed: %q, want no fallback", i+1, r.Value)
	}
	require.Equal(t, breaker.StateOpen, w.Breaker().State(), "breaker after 2 failures")
	r, err := w.ExecuteResult(ctx, failing) // open: rejected, answered by the fallback
	require.NoError(t, err, "while open")
	require.Equal(t, "fallback", r.Value, "while open: want the fallback value")
	require.Equal(t, er.SourceFallbackValue, r.Source, "while open: want the fallback value")
	require.Equal(t, 2, calls, "while open: want no call")

	clock.Advance(time.Minute) // half-open: a trial is let through
	r, err = w.ExecuteResult(ctx, failing)
	require.ErrorIs(t, err, errFlaky, "failed trial: want the function's error")
	require.Equal(t, er.SourceNone, r.Source, "failed trial: %q", r.Value)

	// A deadline the function ran into is its own error too.
	w2, _ := newBreakerWorkflow(t, 5)
	_, err = w2.Execute(ctx, func(context.Context) (string, error) { return "", context.DeadlineExceeded })
	require.ErrorIs(t, err, context.DeadlineExceeded, "deadline while closed")
}

// A half-open breaker with all its trials in flight rejects with
// ErrTooManyTrials, and the fallback answers that rejection too.
func TestBreakerWorkflowFallsBackWhenHalfOpenTrialsAreTaken(t *testing.T) {
	ctx := context.Background()
	w, clock := newBreakerWorkflow(t, 1)
	_, err := w.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky })
	require.ErrorIs(t, err, errFlaky, "the failure that opens the breaker")
	clock.Advance(time.Minute) // half-open: 2 trials (the default success threshold)

	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := w.Execute(ctx, func(context.Context) (string, error) {
				started <- struct{}{}
				<-release
				return "ok", nil
			})
			done <- err
		}()
	}
	<-started
	<-started // both trials admitted and running
	r, err := w.ExecuteResult(ctx, func(context.Context) (string, error) {
		assert.Fail(t, "a third call ran while both trials were in flight")
		return "", nil
	})
	assert.NoError(t, err, "with both trials in flight")
	assert.Equal(t, er.SourceFallbackValue, r.Source, "with both trials in flight: %q, want the fallback value", r.Value)
	close(release)
	for range 2 {
		assert.NoError(t, <-done, "trial")
	}
	assert.Equal(t, breaker.StateClosed, w.Breaker().State(), "breaker after two successful trials")
}
