package errorrecovery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinels matched with errors.Is.
var (
	// ErrExhausted: every attempt failed; matched by *ExhaustedError.
	ErrExhausted = errors.New("retries exhausted")
	// ErrBadResult is the Last error of an *ExhaustedError when the last
	// attempt returned a result that RetryOnResult rejected.
	ErrBadResult = errors.New("result rejected by RetryOnResult")
)

// ExhaustedError reports that every attempt allowed failed. It matches
// ErrExhausted and unwraps to the last attempt's error.
type ExhaustedError struct {
	// Attempts is the number of attempts made.
	Attempts int
	// Last is the last attempt's error (ErrBadResult for a bad result).
	Last error
}

// Error names the attempts and the last error.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("errorrecovery: %s failed, last: %v", attempts(e.Attempts), e.Last)
}

// Unwrap returns the last error.
func (e *ExhaustedError) Unwrap() error { return e.Last }

// Is matches ErrExhausted.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// TimeoutError reports that an execution's overall deadline (GlobalTimeout
// or DeadlineConfig.Timeout) passed: during an attempt, whatever the
// attempt returned once it passed (a value that comes too late is
// dropped), or before a backoff that would have ended after it. It
// matches context.DeadlineExceeded and unwraps to the last attempt's
// error.
type TimeoutError struct {
	// Timeout is the overall timeout that passed.
	Timeout time.Duration
	// Attempts is the number of attempts made.
	Attempts int
	// Last is the last attempt's error, or nil; context.DeadlineExceeded
	// when the attempt returned a result after the deadline (what its
	// context said by then).
	Last error
}

// Error names the timeout, the attempts and the last error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("errorrecovery: deadline of %v passed after %s, last: %v", e.Timeout, attempts(e.Attempts), e.Last)
}

// Unwrap returns the last error.
func (e *TimeoutError) Unwrap() error { return e.Last }

// Is matches context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Permanent marks err as not worth retrying: a retry stops at once and
// returns err unchanged apart from the mark (errors.Is and errors.As see
// through it). A function uses it for failures a retry cannot fix, such
// as invalid input.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	_, ok := errors.AsType[*permanentError](err)
	return ok
}

// attempts says "1 attempt" or "n attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}
