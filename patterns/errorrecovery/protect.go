package errorrecovery

import (
	"context"

	"github.com/statecraft/statecraft/engine"
)

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

// TraceProtector is a Protector that can also report the steps one
// protected call took through its machine. A saga's Trace (saga.Trace)
// includes them, so that the steps of a saga protected by workflows read
// as one path.
type TraceProtector interface {
	Protector
	// ProtectTrace is Protect that also returns the steps the call took.
	ProtectTrace(ctx context.Context, fn func(context.Context) error) ([]engine.Record, error)
}

// ProtectTrace is Protect that also returns the steps the execution took
// through the workflow's machine, as Trace does.
func (w *Workflow[T]) ProtectTrace(ctx context.Context, fn func(context.Context) error) ([]engine.Record, error) {
	_, recs, err := w.Trace(ctx, func(ctx context.Context) (T, error) {
		var zero T
		return zero, fn(ctx)
	})
	return recs, err
}

var (
	_ Protector      = (*Workflow[struct{}])(nil)
	_ TraceProtector = (*Workflow[struct{}])(nil)
)
