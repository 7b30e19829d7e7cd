package errorrecovery

import (
	"context"

	"github.com/statecraft/statecraft/fsm"
)

// RetryExecutor runs a function with retries, as a Run of its per-call
// machine (Definition):
//
//	Start --begin--> Attempt (choice: call the function, classify)
//	Attempt --success--> Succeeded
//	Attempt --retryable [attempts left && backoff ends before deadline] / on retry--> Backoff
//	Attempt --retryable / exhausted--> Exhausted
//	Attempt --permanent / failed--> Failed
//	Backoff --after backoff--> Attempt
//
// with TimedOut and its transitions when a deadline is set (WithDeadline).
// There is no loop beside the machine. A RetryExecutor is safe for
// concurrent use.
type RetryExecutor[T any] struct {
	x *executor[T]
}

// NewRetryExecutor returns a RetryExecutor for cfg, or the *ConfigError of
// the first invalid field.
func NewRetryExecutor[T any](cfg RetryConfig[T], opts ...ExecutorOption) (*RetryExecutor[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o executorOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.deadline.Validate(); err != nil {
		return nil, err
	}
	x := &executor[T]{name: "retry", retry: cfg, retrying: true, deadline: o.deadline, clock: o.clock, random: o.random}
	x.init(o.observer)
	return &RetryExecutor[T]{x}, nil
}

// Definition returns the machine the executor runs.
func (r *RetryExecutor[T]) Definition() *fsm.Definition[State, Event, Execution[T]] {
	return r.x.def
}

// Execute calls fn until it succeeds, fails for good, or runs out of
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
//     context.DeadlineExceeded) when the overall deadline passed, during
//     an attempt or before a backoff that would have ended after it.
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
// executor's, that context is cancelled as the attempt ends, as one from
// context.WithTimeout with a deferred cancel would be; contexts derived
// from it may be kept past the attempt (net/http's goroutines do). A
// caller whose context has already ended gets its error at once, and fn
// is not called.
func (r *RetryExecutor[T]) Execute(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	return r.x.execute(ctx, fn, r.x.runner)
}

// Trace is like Execute but also returns the execution's steps through the
// machine, in order. It costs allocations Execute does not.
func (r *RetryExecutor[T]) Trace(ctx context.Context, fn func(context.Context) (T, error)) (T, []Step, error) {
	return r.x.trace(ctx, fn)
}
