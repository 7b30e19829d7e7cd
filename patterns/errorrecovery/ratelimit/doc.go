// Package ratelimit provides a rate limiter: a shared machine that hands
// out permits at a configured rate, so that callers together stay under
// what a dependency, or a quota, allows.
//
//	l, err := ratelimit.New(ratelimit.Config{Permits: 100, Period: time.Second, MaxWait: 50 * time.Millisecond})
//	if err != nil {
//		return err // an *errorrecovery.ConfigError naming the field
//	}
//	defer l.Close()
//
//	err = l.Protect(ctx, call) // call(ctx) once a permit is due, waiting up to 50ms
//	if le, ok := errors.AsType[*ratelimit.Error](err); ok && le.Reason == ratelimit.ReasonLimited {
//		w.Header().Set("Retry-After", fmt.Sprint(int(le.RetryAfter().Seconds())+1))
//	}
//
// # Modes
//
// In ModeSmooth (the default) permits are spaced evenly, one every
// Period/Permits, and at most Config.Burst of them (1 by default) can be
// taken at once after an idle spell: golang.org/x/time/rate's token
// bucket with rate Permits/Period and that burst, with which it agrees
// call for call (a property test in the bench module drives both on the
// same virtual time). In ModeBursty a window's Permits are all free the
// moment the window begins, windows of Period following one another from
// the limiter's start, and what a window does not use is lost: the
// bursty limiter of failsafe-go and resilience4j.
//
// Permits are time-based: a permit is spent when it is given, whatever
// becomes of the call, and nobody gives it back.
//
// # Calls
//
// Limiter.Allow takes a permit if one is free now, reporting whether it
// did; it never waits. Limiter.Reserve takes the next permit if it is due
// within Config.MaxWait and says when it is due, without waiting; it is
// the admission call of a per-call machine, which sleeps until then on
// its own clock and deadline. Limiter.Wait reserves and sleeps until the
// permit is due; Limiter.Protect waits and then runs a function. With the
// default MaxWait, zero, nothing waits: a call with no permit free is
// rejected at once. NoMaxWait lets a call wait as long as its permit
// needs, or until its context ends.
//
// # The machine
//
// A Limiter is an engine.Instance of Definition, whose states say whether
// the rate is reached: StateAvailable, and StateLimited once a call has
// found no permit free, until the next permit comes free on the clock.
// What has been handed out is one atomic word (Limiter describes it); a
// permit that is free while the limiter is Available is taken with one
// compare-and-swap, and a call refused while it is Limited costs no lock
// either, since on both the definition's edge is internal and changes no
// state. Every other call fires EventAcquire, and the timer that ends
// Limited is a delayed transition, so every change of state is a
// transition of the definition: the limiter can be drawn
// (Definition().Dot(), "statecraft render ratelimit"), watched
// (engine.WithObserver) and changed (engine.WithDefinition).
//
// # Errors
//
// A call that gets no permit within MaxWait gets an *Error of
// ReasonLimited, which matches ErrLimited and carries the wait its permit
// would have needed (RetryAfter); nothing is spent. A Wait or Protect
// whose context ends first gets an *Error of ReasonCancelled, which
// unwraps to the context's error. An invalid Config is an
// *errorrecovery.ConfigError naming the field.
//
// # Clock
//
// Permits are timed, and waits sleep, on the limiter's clock: the real one
// unless engine.WithClock gives another. On an enginetest.Clock the
// limiter is exact to the nanosecond, leaves Limited the moment Advance
// reaches the next permit, and a waiting call is a waiter of the clock.
// The limiter starts no goroutine of its own and works inside a
// testing/synctest bubble.
//
// # Performance
//
// Allow, and Reserve, Wait and Protect with a permit free, read the
// clock once, do one compare-and-swap and allocate nothing; a rejection
// by Reserve, Wait or Protect allocates its *Error. docs/ratelimit.md has
// the figures against golang.org/x/time/rate.
package ratelimit
