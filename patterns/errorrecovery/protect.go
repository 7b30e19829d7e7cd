package errorrecovery

import "context"

// Protector runs a function under a resilience strategy. A Workflow (of
// NewWorkflow, NewRetry or NewDeadline) protects a saga's step
// (saga.Step.ProtectedBy) or its compensations
// (CompensationConfig.CompensationRetry); every attempt of one action gets
// the same idempotency key.
type Protector interface {
	// Protect runs fn, perhaps more than once, and returns the outcome
	// its strategy settles on.
	Protect(ctx context.Context, fn func(context.Context) error) error
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
	_ Protector = (*Workflow[struct{}])(nil)
)
