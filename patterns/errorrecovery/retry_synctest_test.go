package errorrecovery_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// TestRetryWithRealTimeInASynctestBubble runs a retry on the real clock:
// inside the bubble, time.Now and timers use the bubble's fake time, so the
// 1 s and 2 s backoffs pass at once and exactly.
func TestRetryWithRealTimeInASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := er.DefaultRetryConfig[string]()
		x, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{Retry: &cfg, Deadline: &er.DeadlineConfig{Timeout: time.Minute, AttemptTimeout: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fn, calls := failing(2, errFlaky, "ok")
		v, err := x.Execute(context.Background(), fn)
		if err != nil || v != "ok" || *calls != 3 {
			t.Fatalf("got %q, %v after %d calls", v, err, *calls)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("took %v of bubble time, want 3s (1s + 2s backoff)", got)
		}

		// A cooperative function that waits on its context is stopped by
		// the attempt timeout, on the real (bubble) clock.
		x1, _ := er.NewDeadline[string](er.DeadlineConfig{Timeout: 5 * time.Second})
		start = time.Now()
		_, err = x1.Execute(context.Background(), func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
		if !errorsIsDeadline(err) || time.Since(start) != 5*time.Second {
			t.Errorf("deadline: %v after %v, want DeadlineExceeded after 5s", err, time.Since(start))
		}
	})
}
