// Package breaker provides a circuit breaker: a shared machine that stops
// calls to a failing dependency for a while, then lets a few trial calls
// decide whether it has recovered.
//
// A [Breaker] is an engine.Instance of the machine [Definition] returns,
// with three states:
//
//	Closed    calls go through; their outcomes fill a window
//	Open      calls are rejected at once, until the open timeout passes
//	HalfOpen  a bounded number of trial calls go through; enough
//	          successes close the breaker, a failure opens it again
//
// Every change of state is a transition of that definition, so a breaker
// can be drawn (Definition().Dot()), watched (engine.WithObserver) and
// changed (engine.WithDefinition with a variant of [DefinitionBuilder]).
//
// # Configuration
//
// [New] takes a [Config], whose zero value consists entirely of defaults,
// the ones [DefaultConfig] spells out: each field's documentation says
// what its zero means. Turning something off is spelled with a negative
// value, never with zero: [CountOnly] (or any negative WindowDuration) for
// a window without a duration, a negative FailureThreshold for no count
// rule, a negative OpenTimeout for no wait before half-open. The breaker
// opens when, in its window of recent outcomes, a rule that is on reaches
// its threshold: the number of failures (FailureThreshold), their share
// (FailureRateThreshold) or the share of slow calls
// (SlowCallRateThreshold). The window holds the last WindowSize outcomes
// (10), and only those younger than WindowDuration (60s). The rules are
// judged on every change of the window, whatever outcome caused it: a
// success that brings the window to MinimumCalls with a rate at its
// threshold opens the breaker as a failure would. An invalid field is
// refused with an errorrecovery.ConfigError naming it.
//
// # Calls
//
// [Breaker.Protect] runs a function if the breaker admits it and records
// its outcome; [Breaker.Allow] and [Permit.Done] do the same in two
// halves, for code that cannot be wrapped in a function. Config.Classify
// decides how an error counts: by default context.Canceled is ignored and
// every other error is a failure. A function that panics is recorded as a
// failure ([Permit.Abandon]) and the panic goes on.
//
// In Closed, with a count-only window (WindowDuration: CountOnly) and no
// slow-call rule, a success takes a few atomic operations: no lock, no
// clock, no allocation (with the failure-rate rule on, the one success
// that brings the window to MinimumCalls also takes the machine's lock,
// to be judged). A rejection takes one atomic load and allocates nothing
// either. With a time window on the real clock, a success takes the
// window's mutex and reads the clock only when its time bucket may have
// ended: a timer at each bucket's end says so (the bucket tick, see
// docs/circuit-breaker.md), and a manual clock keeps reading per outcome.
//
// # Composition
//
// A Breaker works alone, around any call. In a workflow of package
// errorrecovery it is the CIRCUIT_BREAKER strategy:
// ErrorRecoveryConfig.Breaker configures one the workflow makes, and
// ErrorRecoveryConfig.SharedBreaker passes one in, to be shared by
// several workflows, even of different result types. There it sits
// inside retry and outside the attempt timeout: each attempt asks the
// breaker first, and a rejection consumes no attempt's call.
//
// # Errors
//
// A rejected call gets an [*OpenError], which matches [ErrOpen] with
// errors.Is (and [ErrTooManyTrials] when the breaker was half-open with
// all its trial calls in flight) and tells, through RetryAfter, how long
// until the breaker lets trial calls through. One OpenError is made per
// open episode and shared by the calls it rejects. Protect returns the
// function's own error unchanged.
//
// # Clock
//
// The open timeout is a delayed transition of the definition: a timer on
// the breaker's clock (engine.WithClock; the real one by default). So
// State never changes the state as it reads it, and on an
// enginetest.Clock the breaker goes half-open the moment Advance passes
// the open timeout, with no sleeping. The time window, slow calls and
// RetryAfter read the same clock. Close stops a pending timer.
//
// # Example
//
//	b, err := breaker.New(breaker.Config{
//		OpenTimeout:    30 * time.Second,  // the other fields: their defaults
//		WindowDuration: breaker.CountOnly, // the last 10 outcomes, whatever their age
//	})
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//	err = b.Protect(ctx, ping)
//	if open, ok := errors.AsType[*breaker.OpenError](err); ok {
//		log.Printf("not called; half-open in %v", open.RetryAfter())
//	}
//
// docs/circuit-breaker.md explains each rule, the window and the
// performance figures.
package breaker
