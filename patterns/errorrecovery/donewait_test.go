package errorrecovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// hangs is a function that does nothing but wait for its context to end,
// as one calling a dependency that never answers does.
func hangs(ctx context.Context) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// TestBlockUntilWaitersCountsAFunctionBlockedOnItsAttemptContext: the
// function of an execution under a deadline, blocked on its context's
// Done, waits for the clock: BlockUntilWaiters counts it, so a test of a
// deadline advances when the function blocks, with no polling.
func TestBlockUntilWaitersCountsAFunctionBlockedOnItsAttemptContext(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	d, err := er.NewDeadline[string](er.DeadlineConfig{Timeout: 50 * time.Millisecond}, engine.WithClock(clk))
	require.NoError(t, err)
	errs := make(chan error, 1)
	go func() {
		_, err := d.Execute(context.Background(), hangs)
		errs <- err
	}()
	waiters(t, clk, 1)
	clk.Advance(50 * time.Millisecond)
	require.ErrorAs(t, <-errs, new(*er.TimeoutError), "Execute")
	assert.Zero(t, clk.Waiters(), "Waiters() after the execution")
}

// TestAdvancingWhenEveryoneWaitsFollowsAttemptTimeoutsAndBackoffs: with
// attempt contexts counted, the loop "advance to the next timer whenever
// the execution waits" runs a retry of hanging attempts to its end, and
// moves the clock exactly by each attempt's timeout and each backoff.
func TestAdvancingWhenEveryoneWaitsFollowsAttemptTimeoutsAndBackoffs(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	retry := er.RetryConfig[string]{MaxAttempts: 3, Backoff: er.BackoffFixed, InitialDelay: time.Second}
	dl := er.DeadlineConfig{Timeout: er.None, AttemptTimeout: 100 * time.Millisecond}
	w := mustRetryWithin(t, retry, dl, engine.WithClock(clk))
	errs := make(chan error, 1)
	go func() {
		_, err := w.Execute(context.Background(), hangs)
		errs <- err
	}()
	var advances []time.Duration
	var err error
	for done := false; !done; {
		// onClock's loop, with a real-time limit that only turns a hang
		// (the function not counted) into a failure.
		giveUp, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		waiting := make(chan error, 1)
		go func() { waiting <- clk.BlockUntilWaiters(giveUp, 1) }()
		select {
		case err = <-errs:
			done = true
			cancel()
			<-waiting
		case werr := <-waiting:
			cancel()
			require.NoError(t, werr, "nothing waits on the clock, and the execution has not returned")
			if d, ok := clk.AdvanceToNext(); ok {
				advances = append(advances, d)
			}
		}
	}
	require.ErrorIs(t, err, er.ErrExhausted, "Execute: want exhausted by attempt timeouts")
	require.ErrorIs(t, err, context.DeadlineExceeded, "Execute: want exhausted by attempt timeouts")
	ms := time.Millisecond
	if diff := cmp.Diff([]time.Duration{100 * ms, time.Second, 100 * ms, time.Second, 100 * ms}, advances); diff != "" {
		t.Errorf("the clock's advances (-want +got):\n%s", diff)
	}
}

// TestTheCallersDeadlineContextIsNotAWaiterOfTheExecutionsOwnWaits: the
// executor's own waits (its backoffs, the link from an attempt's context
// to the caller's) do not make the caller's context a waiter: while the
// function blocks on its attempt's context only that counts, during a
// backoff only the sleeper does, and nothing once Execute returns.
func TestTheCallersDeadlineContextIsNotAWaiterOfTheExecutionsOwnWaits(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	caller, cancel := engine.WithTimeout(context.Background(), clk, time.Hour)
	defer cancel()
	retry := er.RetryConfig[string]{MaxAttempts: 2, Backoff: er.BackoffFixed, InitialDelay: time.Second}
	dl := er.DeadlineConfig{Timeout: time.Minute, AttemptTimeout: 100 * time.Millisecond}
	w := mustRetryWithin(t, retry, dl, engine.WithClock(clk))
	errs := make(chan error, 1)
	go func() {
		_, err := w.Execute(caller, hangs)
		errs <- err
	}()
	for _, step := range []time.Duration{100 * time.Millisecond, time.Second, 100 * time.Millisecond} {
		waiters(t, clk, 1)
		assert.Equal(t, 1, clk.Waiters(), "Waiters() before the %v step", step)
		clk.Advance(step)
	}
	select {
	case err := <-errs:
		require.ErrorIs(t, err, er.ErrExhausted, "Execute")
	case <-time.After(10 * time.Second): // real time, only to fail
		require.Fail(t, "Execute did not return: the clock was advanced before the execution waited on it")
	}
	assert.Zero(t, clk.Waiters(), "Waiters() after Execute returned: the caller's context stayed counted")
}

// TestAQueuedCallLeavesTheCallersDeadlineContextUncounted: a bulkhead's
// queue wait derives a context from the caller's, and deriving is not
// waiting: the queued call counts as its queue-timeout sleeper alone, and
// once the wait is over nothing is left counted.
func TestAQueuedCallLeavesTheCallersDeadlineContextUncounted(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: 1, QueueTimeout: time.Second}, engine.WithClock(clk))
	require.NoError(t, err)
	require.NoError(t, b.Acquire(context.Background()))
	defer b.Release()
	caller, cancel := engine.WithTimeout(context.Background(), clk, time.Minute)
	defer cancel()
	errs := make(chan error, 1)
	go func() { errs <- b.Acquire(caller) }()
	waiters(t, clk, 1)
	clk.Advance(time.Second)
	require.ErrorIs(t, <-errs, bulkhead.ErrQueueTimeout, "Acquire")
	assert.Zero(t, clk.Waiters(), "Waiters() after the queue wait: the caller's context was left counted")
}
