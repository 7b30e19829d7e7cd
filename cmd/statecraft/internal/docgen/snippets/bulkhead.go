package snippets

import (
	"context"
	"errors"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Bulkhead is the snippet of docs/bulkhead.md.
func Bulkhead(ctx context.Context) error {
	// snippet:bulkhead begin
	cfg := errorrecovery.DefaultBulkheadConfig() // 10 at once, 100 queued, 30s queue timeout
	cfg.MaxConcurrent = 4
	cfg.MaxQueueSize = 8
	cfg.QueueTimeout = 500 * time.Millisecond
	bh, err := errorrecovery.NewBulkheadExecutor(cfg)
	if err != nil {
		return err // a *ConfigError naming the field
	}
	defer bh.Close(context.Background())

	err = bh.Execute(ctx, render) // runs in this goroutine once a slot is free
	switch {
	case errors.Is(err, errorrecovery.ErrBulkheadFull):
		// four running, eight queued: rejected at once, render not called
	case errors.Is(err, errorrecovery.ErrQueueTimeout):
		// queued for 500ms without getting a slot
	case errors.Is(err, context.Canceled):
		// the caller gave up while queued (a *BulkheadError, reason BulkheadCancelled)
	}
	// snippet:bulkhead end
	return err
}
