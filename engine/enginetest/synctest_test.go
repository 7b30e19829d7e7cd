package enginetest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, c.BlockUntilWaiters(t.Context(), 2))

		c.Advance(time.Second)
		assert.NoError(t, <-short, "Sleep(ctx, 1s)")
		synctest.Wait()
		assert.Equal(t, 1, c.Waiters(), "Waiters()")

		c.Advance(time.Minute)
		assert.Equal(t, context.DeadlineExceeded, <-long, "Sleep(ctx, 1h) past the context's deadline")
		if !time.Now().Equal(bubbleStart) {
			t.Errorf("the bubble's time moved by %v", time.Since(bubbleStart))
		}
	})
}
