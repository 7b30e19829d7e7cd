package errorrecovery_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// TestRetryWithRealTimeInASynctestBubble runs a retry on the real clock:
// inside the bubble, time.Now and timers use the bubble's fake time, so the
// 1 s and 2 s backoffs pass at once and exactly.
func TestRetryWithRealTimeInASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := er.DefaultRetryConfig[string]()
		x, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{Retry: &cfg, Deadline: &er.DeadlineConfig{Timeout: time.Minute, AttemptTimeout: 10 * time.Second}})
		require.NoError(t, err)
		start := time.Now()
		fn, calls := failing(2, errFlaky, "ok")
		v, err := x.Execute(context.Background(), fn)
		require.NoError(t, err)
		require.Equal(t, "ok", v)
		require.Equal(t, 3, *calls, "calls")
		assert.Equal(t, 3*time.Second, time.Since(start), "bubble time: want 1s + 2s backoff")

		// A cooperative function that waits on its context is stopped by
		// the attempt timeout, on the real (bubble) clock.
		x1, _ := er.NewDeadline[string](er.DeadlineConfig{Timeout: 5 * time.Second})
		start = time.Now()
		_, err = x1.Execute(context.Background(), func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
		assert.True(t, errorsIsDeadline(err), "deadline: %v, want DeadlineExceeded", err)
		assert.Equal(t, 5*time.Second, time.Since(start), "deadline: bubble time")
	})
}
