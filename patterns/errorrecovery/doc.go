// Package errorrecovery runs a function through layers of resilience:
// retry with backoff and a retry budget, deadlines, a circuit breaker, a
// rate limiter, an adaptive concurrency limit, a bulkhead, a cache, a
// fallback, compensation and hedging, composed into one [Workflow].
//
// A workflow is a machine. [NewWorkflow] generates, from an
// [ErrorRecoveryConfig], a per-call machine holding the states of the
// layers that take part, outermost first:
//
//	Lookup (cache) → Admit (bulkhead) → CheckCircuit (breaker) → RateLimit → AdaptiveLimit → Attempt
//	  → Backoff → Retry (asking the budget) → Fallback → Compensate
//
// (Retry going back to the breaker, a limiter or the attempt when another
// attempt may start; with HEDGE, Attempt leaving for Hedge when slow and
// coming back once Hedge has started another attempt), with the finals Done (the function or a fresh cache
// entry answered; or, after Compensate, every effect of a failed call was
// undone, and the caller gets a *CompensationError), Recovered (a fallback
// answered), Exhausted, Failed, TimedOut and CompensationFailed. A function registers the undo of
// each effect with [AddCompensation]; when the execution fails in the end,
// Compensate runs them, the latest first.
// Each execution is one engine Run of that machine; the shared machines it
// uses (packages breaker, bulkhead, cache, ratelimit, budget and adaptive
// beneath this one) are engine
// Instances that its actions take and release. So a workflow can be drawn
// ([Workflow.Dot]), traced step by step ([Workflow.Trace]) and driven on
// enginetest's manual clock. [NewRetry] and [NewDeadline] are workflows of
// one layer.
//
// # Configuration
//
// Configs are plain structs whose zero values mean the defaults, field by
// field: RetryConfig[T]{MaxAttempts: 5} is five attempts with the default
// exponential backoff (1s doubling, capped at 60s), and an empty
// ErrorRecoveryConfig is the default one, RETRY. "None" is spelled [None]
// (any negative value): RetryConfig{InitialDelay: None} retries at once.
// A strategy takes part when it is named (Primary, Secondary) or its
// config is given. Invalid values are refused with a *[ConfigError] naming
// the config and the field; package config reads the same configs from
// YAML files, where a key means what the field means.
//
// # Options
//
// Every constructor here and beneath takes the engine's Options:
// engine.WithClock for the clock backoffs and deadlines run on,
// engine.WithRandom for the jitter's source, engine.WithObserver for a
// record of every step. A test passes an enginetest.Clock and a fixed
// random source, and an execution then takes the same path at the same
// times on every run.
//
// # Errors
//
// [Workflow.Execute] returns the function's result, or a fallback's or a
// cached one, or the error of the layer that gave up: an *[ExhaustedError]
// (errors.Is [ErrExhausted]) when retries ran out, a *[TimeoutError]
// (errors.Is context.DeadlineExceeded) when the overall deadline passed, a
// *breaker.OpenError, a *bulkhead.Error, a *ratelimit.Error or an
// *adaptive.LimitError for a rejection, a *[BudgetError] (errors.Is
// [ErrExhausted] and budget.ErrExhausted) when the retry budget refused a
// retry, a
// *[FallbackError] when the fallbacks failed too, or the function's own
// error when it was permanent ([Permanent], RetryConfig.PermanentOn).
// Only an *ExhaustedError comes with a result, the last one.
//
// # The function's context
//
// The function receives a context of the executor's: the caller's, with
// the attempt's deadline and what [AttemptFromContext] and [TimeLeft]
// read. It is reused by later executions unless something asked it for
// Done, a Value or an AfterFunc during the call, which is how a function
// that ignores it allocates nothing. So a function must not let its
// context be used after it returns (by a goroutine it starts, or through
// a context.WithValue of it that it keeps) unless it first derives one
// with context.WithCancel, WithTimeout or WithDeadline, and keeps that:
// used later as it is, it would answer for another caller's execution,
// values included. See docs/deadline.md.
//
// # Per key
//
// A service calls many hosts or tenants, and one bad host should open its
// own breaker, not everyone's. With ErrorRecoveryConfig.PerKey
// ([PerKeyConfig]), each key of a call (from its context: [WithKey], or a
// key function) gets its own breaker, bulkhead, rate limiter and adaptive
// limiter, made on the key's first call and kept in a bounded
// perkey.Registry that evicts the least recently used key and idle ones;
// Shared* machines, the budget and the cache stay one. An eviction never
// cuts a call short: the call finishes on the machines it started with.
// [Workflow.HealthByKey] reports each key's health, and
// WorkflowMetrics.PerKey the registry's size and evictions.
//
// # Sagas
//
// Package saga runs steps with compensations. A saga's step, and its
// compensations, may be protected by any [Protector], which every Workflow
// is, and its compensations run as a [CompensationConfig] says.
//
// # Example
//
//	fb := errorrecovery.FallbackValue(Quote{Stale: true})
//	w, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[Quote]{
//		Retry:    &errorrecovery.RetryConfig[Quote]{MaxAttempts: 4},
//		Breaker:  &breaker.Config{FailureThreshold: 5},
//		Fallback: &fb,
//	})
//	if err != nil {
//		return err
//	}
//	q, err := w.Execute(ctx, fetchQuote)
package errorrecovery
