package enginetest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// Inside a bubble, the manual clock and a deadline on it work as outside,
// and their time is their own: the bubble's fake time does not move.
func TestClockWorksInsideASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := enginetest.NewClock(time.Time{})
		bubbleStart := time.Now()
		ctx, cancel := engine.WithTimeout(t.Context(), c, time.Minute)
		defer cancel()

		short := make(chan error, 1)
		long := make(chan error, 1)
		go func() { short <- c.Sleep(ctx, time.Second) }()
		go func() { long <- c.Sleep(ctx, time.Hour) }()
		if err := c.BlockUntilWaiters(t.Context(), 2); err != nil {
			t.Fatal(err)
		}

		c.Advance(time.Second)
		if err := <-short; err != nil {
			t.Errorf("Sleep(ctx, 1s) = %v, want nil", err)
		}
		synctest.Wait()
		if got := c.Waiters(); got != 1 {
			t.Errorf("Waiters() = %d, want 1", got)
		}

		c.Advance(time.Minute)
		if err := <-long; err != context.DeadlineExceeded {
			t.Errorf("Sleep(ctx, 1h) past the context's deadline = %v, want %v", err, context.DeadlineExceeded)
		}
		if !time.Now().Equal(bubbleStart) {
			t.Errorf("the bubble's time moved by %v", time.Since(bubbleStart))
		}
	})
}
