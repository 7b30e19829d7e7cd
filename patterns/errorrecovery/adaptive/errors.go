package adaptive

import (
	"errors"
	"fmt"
)

// ErrLimitExceeded matches, with errors.Is, every *LimitError.
var ErrLimitExceeded = errors.New("adaptive limit exceeded")

// LimitError reports a call the limiter rejected because its limit of
// calls in flight was reached. Rejections that say the same limit and
// calls in flight may share one LimitError: treat it as read-only.
type LimitError struct {
	// Limit is the limit in force when the call was rejected.
	Limit int
	// InFlight is the number of calls that were in flight then.
	InFlight int
}

// Error says the limit and the calls in flight.
func (e *LimitError) Error() string {
	return fmt.Sprintf("errorrecovery: adaptive limit exceeded: %d calls in flight, limit %d", e.InFlight, e.Limit)
}

// Is reports whether target is ErrLimitExceeded.
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }
