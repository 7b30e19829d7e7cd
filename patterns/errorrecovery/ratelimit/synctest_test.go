package ratelimit_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// TestLimiterWithRealTimeInASynctestBubble runs a limiter on the real
// clock inside a bubble: its monotonic readings and its Limited timer run
// on the bubble's fake time, waits end exactly on time, and nothing
// outlives Close (synctest.Test fails if a goroutine does).
func TestLimiterWithRealTimeInASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.New(ratelimit.Config{Permits: 4, Period: time.Second, MaxWait: ratelimit.NoMaxWait})
		require.NoError(t, err)
		defer l.Close()
		start := time.Now()
		for range 3 {
			require.NoError(t, l.Wait(context.Background()))
		}
		assert.Equal(t, 500*time.Millisecond, time.Since(start), "permits 250ms apart")
		assert.False(t, l.Allow())
		assert.Equal(t, ratelimit.StateLimited, l.State())
		time.Sleep(250 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, ratelimit.StateAvailable, l.State(), "the timer ran on the bubble's time")
	})
}
