package enginetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// blockUntil is BlockUntilWaiters with a real-time limit that only turns a
// hang into a failure.
func blockUntil(t *testing.T, c *enginetest.Clock, n int) {
	t.Helper()
	giveUp, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntilWaiters(giveUp, n); err != nil {
		t.Fatalf("BlockUntilWaiters(%d) with %d waiters: %v", n, c.Waiters(), err)
	}
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
			if got := c.Waiters(); got != 1 {
				t.Errorf("Waiters() = %d with one goroutine on the context, want 1", got)
			}
			c.Advance(time.Second)
			if err := <-errs; err != context.DeadlineExceeded {
				t.Errorf("the goroutine woke with %v, want %v", err, context.DeadlineExceeded)
			}
			if got := c.Waiters(); got != 0 {
				t.Errorf("Waiters() = %d once the context is done, want 0", got)
			}
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
	if got := c.Waiters(); got != 2 {
		t.Errorf("Waiters() = %d, want 2: the context once, and the sleeper", got)
	}
	c.Advance(time.Second)
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
	if got := c.Waiters(); got != 1 {
		t.Errorf("Waiters() = %d after the sleeper woke, want 1", got)
	}
	cancel()
	if got := c.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d once cancelled, want 0", got)
	}
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
	if got := c.Waiters(); got != 1 {
		t.Errorf("Waiters() = %d with one sleeper, want 1", got)
	}
	c.Advance(time.Second)
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
	if got := c.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d after the sleep, want 0: the sleep left its context counted", got)
	}
	// A context of the clock as BlockUntilWaiters' own: it does not count
	// itself, and ends it at its deadline.
	giveUp, stop := engine.WithTimeout(context.Background(), c, time.Second)
	defer stop()
	errs := make(chan error, 1)
	go func() { errs <- c.BlockUntilWaiters(giveUp, 1) }()
	c.AdvanceToNext()
	if err := <-errs; err != context.DeadlineExceeded {
		t.Errorf("BlockUntilWaiters(giveUp, 1) = %v, want %v: it counted its own context", err, context.DeadlineExceeded)
	}
}
