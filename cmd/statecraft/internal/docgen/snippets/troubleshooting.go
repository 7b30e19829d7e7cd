package snippets

import (
	"context"
	"errors"
	"log"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// Triage is the snippet of docs/troubleshooting.md.
func Triage(ctx context.Context, w *errorrecovery.Workflow[Quote]) (Quote, error) {
	// snippet:triage begin
	q, err := w.Execute(ctx, getQuote)
	switch {
	case err == nil:
	case errors.Is(err, breaker.ErrOpen): // *OpenError: not called
		open, _ := errors.AsType[*breaker.OpenError](err)
		log.Printf("breaker open, half-open in %v", open.RetryAfter())
	case errors.Is(err, bulkhead.ErrFull), errors.Is(err, bulkhead.ErrQueueTimeout):
		log.Print("overloaded: ", err) // *bulkhead.Error: not called
	case errors.Is(err, errorrecovery.ErrExhausted): // *ExhaustedError
		log.Print("every attempt failed; the last: ", errors.Unwrap(err))
	case errors.Is(err, context.DeadlineExceeded): // *TimeoutError, or the caller's own deadline
		log.Print("out of time: ", err)
	case errors.Is(err, context.Canceled): // the caller gave up
	default: // a permanent error from the function, as it returned it
	}
	// snippet:triage end
	return q, err
}
