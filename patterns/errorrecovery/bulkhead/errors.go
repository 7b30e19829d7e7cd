package bulkhead

import (
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
)

// Sentinels an *Error matches with errors.Is, one per reason a call did
// not run.
var (
	// ErrFull: every slot was taken and the queue was full (or there is no
	// queue), so the call was rejected at once.
	ErrFull = errors.New("bulkhead full")
	// ErrQueueTimeout: the call waited QueueTimeout in the queue without
	// getting a slot.
	ErrQueueTimeout = errors.New("bulkhead queue timeout")
	// ErrClosed: the bulkhead was closed.
	ErrClosed = errors.New("bulkhead closed")
)

// Reason says why a bulkhead did not run a call.
type Reason uint8

// The reasons.
const (
	ReasonFull      Reason = iota + 1 // every slot taken, the queue full: rejected at once
	ReasonTimedOut                    // waited QueueTimeout in the queue
	ReasonCancelled                   // the caller's context ended before the call got a slot
	ReasonClosed                      // the bulkhead was closed
)

var reasonNames = []string{"", "queue full", "queue timeout", "cancelled", "closed"}

// String describes the reason in a few words.
func (r Reason) String() string { return enum.String(reasonNames, r, "Reason") }

// Error reports a call that a bulkhead did not run. It matches ErrFull,
// ErrQueueTimeout or ErrClosed by its Reason; a cancelled call's error
// unwraps to the context's error, so errors.Is finds context.Canceled or
// context.DeadlineExceeded.
//
// The errors for full, timed out and closed are made once per bulkhead
// and shared by every call they reject, so rejecting allocates nothing:
// treat them as read-only.
type Error struct {
	// Reason says why the call did not run.
	Reason Reason
	// MaxConcurrent and MaxQueueSize are the bulkhead's limits in force:
	// the number of slots and the capacity of the queue, 0 when it has
	// none (Config.MaxQueueSize NoQueue).
	MaxConcurrent, MaxQueueSize int
	// QueueTimeout is the bulkhead's queue timeout in force, 0 when a
	// queued call waits until its context ends (Config.QueueTimeout
	// NoTimeout). An error of ReasonTimedOut always has one.
	QueueTimeout time.Duration
	// Err is the caller's context error, for ReasonCancelled.
	Err error
}

// Error describes the reason and the limits.
func (e *Error) Error() string {
	switch e.Reason {
	case ReasonTimedOut:
		return fmt.Sprintf("errorrecovery: bulkhead queue timeout: no slot within %v", e.QueueTimeout)
	case ReasonCancelled:
		return fmt.Sprintf("errorrecovery: bulkhead: context ended before the call got a slot: %v", e.Err)
	case ReasonClosed:
		return "errorrecovery: bulkhead closed"
	}
	return fmt.Sprintf("errorrecovery: bulkhead full: %d running, %d queued", e.MaxConcurrent, e.MaxQueueSize)
}

// Is matches the sentinel of the error's Reason.
func (e *Error) Is(target error) bool {
	switch e.Reason {
	case ReasonFull:
		return target == ErrFull
	case ReasonTimedOut:
		return target == ErrQueueTimeout
	case ReasonClosed:
		return target == ErrClosed
	}
	return false
}

// Unwrap returns the context's error of a cancelled call, nil otherwise.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the call timed out in the queue, for callers
// that test errors for a Timeout method.
func (e *Error) Timeout() bool { return e.Reason == ReasonTimedOut }
