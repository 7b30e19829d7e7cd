package errorrecovery

import (
	"github.com/statecraft/statecraft/engine"
)

// NewRetry returns a workflow that only retries, as cfg says: its per-call
// machine (Definition) is
//
//	Start --begin--> Attempt (choice: call the function, classify)
//	Attempt --success--> Done
//	Attempt --retryable [attempts left && backoff ends before deadline] / on retry--> Backoff
//	Attempt --retryable / exhausted--> Exhausted
//	Attempt --permanent / failed--> Failed
//	Backoff --after backoff--> Retry (choice: may the next attempt start now?)
//	Backoff --permanent / failed--> Failed
//	Retry --retry--> Attempt
//	Retry --permanent / failed--> Failed
//
// and nothing runs beside the machine. It keeps no metrics and no health
// (Metrics and Health report zeros), so that a call costs what a retry
// loop costs; NewWorkflow with StrategyRetry keeps both. It returns the
// *ConfigError of the first invalid field of cfg.
//
// Execute then calls fn until it succeeds, fails for good, or runs out of
// attempts or time, and returns:
//
//   - the result and nil when an attempt succeeded;
//   - the last result with an *ExhaustedError (errors.Is ErrExhausted)
//     when every attempt allowed failed, unwrapping to the last error
//     (ErrBadResult when the last result was rejected by RetryOnResult);
//   - the zero value with the function's error when it is permanent
//     (Permanent, PermanentOn, or not in RetryOn when that is given), or
//     with the caller's context error when ctx ended;
//   - the zero value with a *TimeoutError (errors.Is
//     context.DeadlineExceeded) when an overall deadline passed (a
//     workflow with StrategyDeadline), during an attempt or before a
//     backoff that would have ended after it.
//
// A result comes with an error only in the *ExhaustedError case.
//
// Classification follows this order: the caller's context ended → stop;
// the overall deadline passed → stop; the result predicate; the error is
// permanent → stop; the attempt's own timeout → retry; RetryOn when given;
// otherwise retry. A panic in fn is not retried: the execution is ended and
// the panic goes on in the caller's goroutine with the original value.
//
// fn receives a context carrying the attempt number and the time left
// (AttemptFromContext, TimeLeft). When the attempt has a deadline of the
// workflow's, that context is cancelled as the attempt ends, as one from
// context.WithTimeout with a deferred cancel would be; contexts derived
// from it may be kept past the attempt (net/http's goroutines do). A
// caller whose context has already ended gets its error at once, and fn
// is not called.
func NewRetry[T any](cfg RetryConfig[T], opts ...engine.Option) (*Workflow[T], error) {
	return newWorkflow(ErrorRecoveryConfig[T]{Name: "retry", Primary: StrategyRetry, Retry: &cfg}, opts, false)
}
