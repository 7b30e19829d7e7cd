package bulkhead_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			require.NoError(t, err)
			release := holdSlot(t, b)
			start := time.Now()
			err = b.Protect(context.Background(), mustNotRun(t))
			wantReason(t, err, bulkhead.ErrQueueTimeout, bulkhead.ReasonTimedOut)
			assert.Equal(t, 5*time.Second, time.Since(start), "pool=%v: bubble time before the timeout", pool)
			require.NoError(t, release())
			require.NoError(t, b.Close(context.Background()))
			wantMetrics(t, b, bulkhead.Metrics{Completed: 1, TimedOut: 1})
		})
	}
}
