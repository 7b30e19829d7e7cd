package errorrecovery

import (
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
)

// Sentinels a *BulkheadError matches with errors.Is, one per reason a call
// did not run.
var (
	// ErrBulkheadFull: every slot was taken and the queue was full (or
	// there is no queue), so the call was rejected at once.
	ErrBulkheadFull = errors.New("bulkhead full")
	// ErrQueueTimeout: the call waited QueueTimeout in the queue without
	// getting a slot.
	ErrQueueTimeout = errors.New("bulkhead queue timeout")
	// ErrBulkheadClosed: the executor was closed.
	ErrBulkheadClosed = errors.New("bulkhead closed")
)

// BulkheadReason says why a bulkhead did not run a call.
type BulkheadReason uint8

// The reasons.
const (
	BulkheadFull      BulkheadReason = iota + 1 // every slot taken, the queue full: rejected at once
	BulkheadTimedOut                            // waited QueueTimeout in the queue
	BulkheadCancelled                           // the caller's context ended before the call got a slot
	BulkheadClosed                              // the executor was closed
)

var bulkheadReasonNames = []string{"", "queue full", "queue timeout", "cancelled", "closed"}

// String describes the reason in a few words.
func (r BulkheadReason) String() string { return enum.String(bulkheadReasonNames, r, "BulkheadReason") }

// BulkheadError reports a call that a bulkhead did not run. It matches
// ErrBulkheadFull, ErrQueueTimeout or ErrBulkheadClosed by its Reason; a
// cancelled call's error unwraps to the context's error, so errors.Is finds
// context.Canceled or context.DeadlineExceeded.
//
// The errors for full, timed out and closed are made once per executor and
// shared by every call they reject, so rejecting allocates nothing: treat
// them as read-only.
type BulkheadError struct {
	Reason BulkheadReason
	// MaxConcurrent and MaxQueueSize are the bulkhead's limits.
	MaxConcurrent, MaxQueueSize int
	// QueueTimeout is the bulkhead's queue timeout (for BulkheadTimedOut).
	QueueTimeout time.Duration
	// Err is the caller's context error, for BulkheadCancelled.
	Err error
}

// Error describes the reason and the limits.
func (e *BulkheadError) Error() string {
	switch e.Reason {
	case BulkheadTimedOut:
		return fmt.Sprintf("errorrecovery: bulkhead queue timeout: no slot within %v", e.QueueTimeout)
	case BulkheadCancelled:
		return fmt.Sprintf("errorrecovery: bulkhead: context ended before the call got a slot: %v", e.Err)
	case BulkheadClosed:
		return "errorrecovery: bulkhead closed"
	}
	return fmt.Sprintf("errorrecovery: bulkhead full: %d running, %d queued", e.MaxConcurrent, e.MaxQueueSize)
}

// Is matches the sentinel of the error's Reason.
func (e *BulkheadError) Is(target error) bool {
	switch e.Reason {
	case BulkheadFull:
		return target == ErrBulkheadFull
	case BulkheadTimedOut:
		return target == ErrQueueTimeout
	case BulkheadClosed:
		return target == ErrBulkheadClosed
	}
	return false
}

// Unwrap returns the context's error of a cancelled call, nil otherwise.
func (e *BulkheadError) Unwrap() error { return e.Err }

// Timeout reports whether the call timed out in the queue, for callers
// that test errors for a Timeout method.
func (e *BulkheadError) Timeout() bool { return e.Reason == BulkheadTimedOut }
