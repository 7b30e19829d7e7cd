package budget

import (
	"errors"
	"fmt"
	"time"
)

// ErrExhausted is the sentinel an *ExhaustedError matches with errors.Is:
// the budget refused a retry.
var ErrExhausted = errors.New("retry budget exhausted")

// ExhaustedError reports a retry the budget refused: the retries of the
// window had reached Ratio of its executions plus the minimum. It matches
// ErrExhausted. A Budget makes one when it is built and returns it for
// every refusal, so refusing allocates nothing: treat it as read-only.
// The call whose retry was refused is not retried; its fallback, if any,
// still applies.
type ExhaustedError struct {
	// Ratio, MinPerSecond and Window are the budget's resolved config.
	Ratio        float64
	MinPerSecond int
	Window       time.Duration
}

// Error describes the budget.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("errorrecovery: retry budget exhausted: retries may be %v of the executions of the last %v plus %d a second",
		max(e.Ratio, 0), e.Window, max(e.MinPerSecond, 0))
}

// Is matches ErrExhausted.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }
