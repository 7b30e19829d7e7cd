package snippets

import (
	"context"
	"errors"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// Bulkhead is the snippet of docs/bulkhead.md.
func Bulkhead(ctx context.Context) error {
	// snippet:bulkhead begin
	// Zero fields mean the defaults: 10 at once, 100 queued, a 30s queue timeout.
	bh, err := bulkhead.New(bulkhead.Config{
		MaxConcurrent: 4,
		MaxQueueSize:  8, // bulkhead.NoQueue: reject at once when every slot is taken
		QueueTimeout:  500 * time.Millisecond,
	})
	if err != nil {
		return err // an *errorrecovery.ConfigError naming the field
	}
	defer bh.Close(context.Background())

	err = bh.Protect(ctx, render) // runs in this goroutine once a slot is free
	switch {
	case errors.Is(err, bulkhead.ErrFull):
		// four running, eight queued: rejected at once, render not called
	case errors.Is(err, bulkhead.ErrQueueTimeout):
		// queued for 500ms without getting a slot
	case errors.Is(err, context.Canceled):
		// the caller gave up while queued (a *bulkhead.Error, ReasonCancelled)
	}
	// snippet:bulkhead end
	return err
}
