package errorrecovery

import "context"

// Protector runs a function under a resilience strategy. A Workflow, a
// RetryExecutor or a DeadlineExecutor protects a saga's step
// (saga.Step.ProtectedBy) or its compensations
// (CompensationConfig.CompensationRetry); every attempt of one action gets
// the same idempotency key.
type Protector interface {
	// Protect runs fn, perhaps more than once, and returns the outcome
	// its strategy settles on.
	Protect(ctx context.Context, fn func(context.Context) error) error
}

// Protect runs fn through Execute, retrying it as the config says, and
// returns Execute's error. Results are not involved: RetryOnResult sees
// the zero T.
func (r *RetryExecutor[T]) Protect(ctx context.Context, fn func(context.Context) error) error {
	_, err := r.Execute(ctx, func(ctx context.Context) (T, error) {
		var zero T
		return zero, fn(ctx)
	})
	return err
}

// Protect runs fn once through Execute, under the deadline, and returns
// Execute's error.
func (e *DeadlineExecutor[T]) Protect(ctx context.Context, fn func(context.Context) error) error {
	_, err := e.Execute(ctx, func(ctx context.Context) (T, error) {
		var zero T
		return zero, fn(ctx)
	})
	return err
}

// Protect runs fn through the workflow's layers and returns Execute's
// error. A fallback that answers makes the step count as done, so protect
// a saga step with a workflow whose fallback really stands in for the step.
func (w *Workflow[T]) Protect(ctx context.Context, fn func(context.Context) error) error {
	_, err := w.Execute(ctx, func(ctx context.Context) (T, error) {
		var zero T
		return zero, fn(ctx)
	})
	return err
}

var (
	_ Protector = (*RetryExecutor[struct{}])(nil)
	_ Protector = (*DeadlineExecutor[struct{}])(nil)
	_ Protector = (*Workflow[struct{}])(nil)
)
