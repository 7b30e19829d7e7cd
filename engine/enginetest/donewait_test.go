package enginetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// blockUntil is BlockUntilWaiters with a real-time limit that only turns a
// hang into a failure.
func blockUntil(t *testing.T, c *enginetest.Clock, n int) {
	t.Helper()
	giveUp, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoErrorf(t, c.BlockUntilWaiters(giveUp, n), "BlockUntilWaiters(%d) with %d waiters", n, c.Waiters())
}

// TestBlockUntilWaitersCountsAGoroutineBlockedOnADeadlineContext: a
// goroutine blocked on the Done channel of a context whose deadline runs
// on the clock waits for the clock, and counts as a waiter, so a test can
// advance once it blocks instead of polling Pending.
func TestBlockUntilWaitersCountsAGoroutineBlockedOnADeadlineContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(context.Context, *enginetest.Clock) (context.Context, context.CancelFunc)
	}{
		{"WithTimeout", func(p context.Context, c *enginetest.Clock) (context.Context, context.CancelFunc) {
			return engine.WithTimeout(p, c, time.Second)
		}},
		{"WithDeadline", func(p context.Context, c *enginetest.Clock) (context.Context, context.CancelFunc) {
			return engine.WithDeadline(p, c, c.Now().Add(time.Second))
		}},
		{"governed by an earlier parent on the clock", func(p context.Context, c *enginetest.Clock) (context.Context, context.CancelFunc) {
			parent, cancelParent := engine.WithTimeout(p, c, time.Second)
			ctx, cancel := engine.WithTimeout(parent, c, time.Hour)
			return ctx, func() { cancel(); cancelParent() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := enginetest.NewClock(time.Time{})
			ctx, cancel := tc.make(context.Background(), c)
			defer cancel()
			errs := make(chan error, 1)
			go func() {
				<-ctx.Done()
				errs <- ctx.Err()
			}()
			blockUntil(t, c, 1)
			assert.Equal(t, 1, c.Waiters(), "Waiters() with one goroutine on the context")
			c.Advance(time.Second)
			assert.Equal(t, context.DeadlineExceeded, <-errs, "the goroutine woke with")
			assert.Equal(t, 0, c.Waiters(), "Waiters() once the context is done")
		})
	}
}

// TestAContextCountsAsOneWaiterAndStopsCountingWhenCancelled: a context
// counts once however often its Done is asked for, beside the goroutines
// asleep in Sleep, and no more once cancelled.
func TestAContextCountsAsOneWaiterAndStopsCountingWhenCancelled(t *testing.T) {
	c := enginetest.NewClock(time.Time{})
	ctx, cancel := engine.WithTimeout(context.Background(), c, time.Minute)
	for range 3 {
		go func() { <-ctx.Done() }()
	}
	blockUntil(t, c, 1)
	slept := make(chan error, 1)
	go func() { slept <- c.Sleep(ctx, time.Second) }()
	blockUntil(t, c, 2)
	assert.Equal(t, 2, c.Waiters(), "Waiters(): the context once, and the sleeper")
	c.Advance(time.Second)
	require.NoError(t, <-slept)
	assert.Equal(t, 1, c.Waiters(), "Waiters() after the sleeper woke")
	cancel()
	assert.Equal(t, 0, c.Waiters(), "Waiters() once cancelled")
}

// TestSleepAndBlockUntilWaitersDoNotMakeAContextAWaiter: Sleep, and
// BlockUntilWaiters given a context of the clock to give up by, take its
// Done without counting it: statecraft's own waits are never counted
// twice, nor left counted once they end.
func TestSleepAndBlockUntilWaitersDoNotMakeAContextAWaiter(t *testing.T) {
	c := enginetest.NewClock(time.Time{})
	ctx, cancel := engine.WithTimeout(context.Background(), c, time.Minute)
	defer cancel()
	slept := make(chan error, 1)
	go func() { slept <- c.Sleep(ctx, time.Second) }()
	blockUntil(t, c, 1)
	assert.Equal(t, 1, c.Waiters(), "Waiters() with one sleeper")
	c.Advance(time.Second)
	require.NoError(t, <-slept)
	assert.Equal(t, 0, c.Waiters(), "Waiters() after the sleep: the sleep left its context counted")
	// A context of the clock as BlockUntilWaiters' own: it does not count
	// itself, and ends it at its deadline.
	giveUp, stop := engine.WithTimeout(context.Background(), c, time.Second)
	defer stop()
	errs := make(chan error, 1)
	go func() { errs <- c.BlockUntilWaiters(giveUp, 1) }()
	c.AdvanceToNext()
	assert.Equal(t, context.DeadlineExceeded, <-errs, "BlockUntilWaiters(giveUp, 1): it counted its own context")
}
