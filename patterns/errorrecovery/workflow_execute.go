package errorrecovery

import (
	"context"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// Running a workflow: an execution, with where its result came from or the
// steps it took. workflow.go builds the workflow; call_run.go runs the
// per-call machine these hand each execution to.

// Execute runs fn through the workflow's layers and returns its result, or
// a cached or fallback one, or the error of the layer that gave up (see
// NewRetry for retry's errors, and *BudgetError for a retry the budget
// refused; a breaker's *OpenError, a bulkhead's *bulkhead.Error, a rate
// limiter's *ratelimit.Error and an adaptive limiter's
// *adaptive.LimitError are returned as they are, or answered by the
// fallback). Panics in fn are not retried and not fallen back: the breaker
// records a failure, the bulkhead slot is released, and the panic goes on
// with its original value.
//
// fn's context is valid for the call: fn must not let it, or a
// context.WithValue of it, be used after fn returns, unless it derives one
// with context.WithCancel (or WithTimeout, WithDeadline) first and keeps
// that (see the package documentation, "The function's context").
func (w *Workflow[T]) Execute(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	if w.keys != nil {
		return w.keys.executeInto(ctx, fn, nil)
	}
	return w.x.execute(ctx, fn, w.x.runner)
}

// Result is a workflow's result with where it came from.
type Result[T any] struct {
	// Value is the result.
	Value T
	// Source says where Value came from (SourceNone when the call failed).
	Source Source
	// Age is how old a cached Value is (SourceCache, SourceStaleCache,
	// SourceFallbackCache); zero otherwise.
	Age time.Duration
	// Attempts is the number of calls of the function the execution made.
	Attempts int
}

// ExecuteResult is Execute, also reporting where the result came from,
// its age when it came from a cache, and the attempts made.
func (w *Workflow[T]) ExecuteResult(ctx context.Context, fn func(context.Context) (T, error)) (Result[T], error) {
	var o Result[T]
	var err error
	if w.keys != nil {
		o.Value, err = w.keys.executeInto(ctx, fn, &o)
		return o, err
	}
	o.Value, err = w.x.executeInto(ctx, fn, w.x.runner, &o)
	return o, err
}

// Trace is like Execute but also returns the steps the execution took
// through the workflow's machine.
func (w *Workflow[T]) Trace(ctx context.Context, fn func(context.Context) (T, error)) (T, []engine.Record, error) {
	if w.keys != nil {
		return w.keys.trace(ctx, fn, nil)
	}
	return w.x.trace(ctx, fn, nil)
}

// TraceResult is ExecuteResult that also returns the steps the execution
// took, as Trace does.
func (w *Workflow[T]) TraceResult(ctx context.Context, fn func(context.Context) (T, error)) (Result[T], []engine.Record, error) {
	var o Result[T]
	var recs []engine.Record
	var err error
	if w.keys != nil {
		o.Value, recs, err = w.keys.trace(ctx, fn, &o)
		return o, recs, err
	}
	o.Value, recs, err = w.x.trace(ctx, fn, &o)
	return o, recs, err
}
