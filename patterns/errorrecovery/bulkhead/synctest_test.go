package bulkhead_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// TestBulkheadWithRealTimeInASynctestBubble runs a bulkhead on the real
// clock inside a bubble, worker pool included: the queue timeout passes in
// the bubble's fake time, exactly, and Close leaves no goroutine behind
// (synctest.Test fails if one outlives the bubble).
func TestBulkheadWithRealTimeInASynctestBubble(t *testing.T) {
	for _, pool := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			cfg := bulkheadCfg(1, 1, 5*time.Second)
			cfg.UseWorkerPool = pool
			b, err := bulkhead.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			release := holdSlot(t, b)
			start := time.Now()
			err = b.Protect(context.Background(), mustNotRun(t))
			wantReason(t, err, bulkhead.ErrQueueTimeout, bulkhead.ReasonTimedOut)
			if got := time.Since(start); got != 5*time.Second {
				t.Errorf("pool=%v: timed out after %v of bubble time, want 5s", pool, got)
			}
			if err := release(); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			wantMetrics(t, b, bulkhead.Metrics{Completed: 1, TimedOut: 1})
		})
	}
}
