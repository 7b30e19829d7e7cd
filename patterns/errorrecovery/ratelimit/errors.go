package ratelimit

import (
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
)

// ErrLimited is the sentinel an *Error of ReasonLimited matches with
// errors.Is: no permit was free within the maximum wait.
var ErrLimited = errors.New("rate limited")

// Reason says why a limiter did not let a call through.
type Reason uint8

// The reasons.
const (
	ReasonLimited   Reason = iota + 1 // no permit within MaxWait: rejected at once, nothing spent
	ReasonCancelled                   // the caller's context ended before or while it waited for its permit
)

var reasonNames = []string{"", "limited", "cancelled"}

// String describes the reason in a word.
func (r Reason) String() string { return enum.String(reasonNames, r, "ratelimit.Reason") }

// Error reports a call that a limiter did not let through. One of
// ReasonLimited matches ErrLimited and tells, through RetryAfter, how
// long until a permit is free; one of ReasonCancelled unwraps to the
// context's error (context.Canceled or context.DeadlineExceeded).
type Error struct {
	// Reason says why the call did not go through.
	Reason Reason
	// Wait is, for ReasonLimited, how long the call would have had to
	// wait for its permit, measured on the limiter's clock when it was
	// rejected: longer than MaxWait. For ReasonCancelled it is the wait
	// that was left when the context ended (zero if it ended before the
	// call asked).
	Wait time.Duration
	// MaxWait is the bound the call was held to: the limiter's MaxWait (0
	// for no waiting, NoMaxWait for no bound), or, for Wait and Protect,
	// the time left before the context's deadline when that is shorter.
	MaxWait time.Duration
	// Err is the caller's context error, for ReasonCancelled.
	Err error
}

// Error describes the reason and the wait.
func (e *Error) Error() string {
	if e.Reason == ReasonCancelled {
		return fmt.Sprintf("errorrecovery: rate limiter: context ended before the call got its permit: %v", e.Err)
	}
	return fmt.Sprintf("errorrecovery: rate limited: next permit in %v, more than the maximum wait %v", e.Wait, max(e.MaxWait, 0))
}

// RetryAfter reports, for ReasonLimited, how long after the rejection a
// permit was due to be free (Wait): a call made then gets one at once
// unless other calls have taken it. It is zero for ReasonCancelled.
func (e *Error) RetryAfter() time.Duration {
	if e.Reason != ReasonLimited {
		return 0
	}
	return e.Wait
}

// Is matches ErrLimited for ReasonLimited.
func (e *Error) Is(target error) bool { return e.Reason == ReasonLimited && target == ErrLimited }

// Unwrap returns the context's error of a cancelled call, nil otherwise.
func (e *Error) Unwrap() error { return e.Err }
