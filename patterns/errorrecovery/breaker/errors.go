package breaker

import (
	"errors"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// Sentinels of the circuit breaker, matched with errors.Is.
var (
	// ErrOpen means the breaker rejected the call without running it,
	// because it is open, or half-open with all its trial calls in flight.
	// Matched by every *OpenError.
	ErrOpen = errors.New("circuit breaker is open")
	// ErrTooManyTrials means the breaker is half-open and HalfOpenMaxCalls
	// trial calls are already in flight. Matched by an *OpenError whose
	// HalfOpen reports true.
	ErrTooManyTrials = errors.New("circuit breaker is half-open and its trial calls are all in flight")
)

// OpenError is the error a circuit breaker rejects a call with. It matches
// ErrOpen, and ErrTooManyTrials when the breaker was half-open.
//
// One OpenError is made per open episode and handed to every call that
// episode rejects, so rejecting allocates nothing; it is shared, and its
// methods only read it.
type OpenError struct {
	until    time.Time // when the episode's open timeout ends
	clock    engine.Clock
	gen      uint32 // the generation of the Open state it was made for
	halfOpen bool
}

// RetryAfter reports how long until the breaker goes half-open and lets
// trial calls through, as the breaker's clock tells it now: zero once
// that time has come, and for a half-open rejection (a trial slot may free
// up at any moment).
func (e *OpenError) RetryAfter() time.Duration {
	if e.halfOpen || e.clock == nil {
		return 0
	}
	return max(e.until.Sub(e.clock.Now()), 0)
}

// HalfOpen reports whether the breaker was half-open, with all its trial
// calls in flight, rather than open.
func (e *OpenError) HalfOpen() bool { return e.halfOpen }

// Error says why the call was rejected.
func (e *OpenError) Error() string {
	if e.halfOpen {
		return "errorrecovery: " + ErrTooManyTrials.Error()
	}
	return "errorrecovery: " + ErrOpen.Error() + ", retry after " + e.RetryAfter().String()
}

// Is matches ErrOpen, and ErrTooManyTrials for a half-open
// rejection.
func (e *OpenError) Is(target error) bool {
	return target == ErrOpen || (e.halfOpen && target == ErrTooManyTrials)
}
