package errorrecovery

import (
	"math"
	"math/rand/v2"
	"time"
)

// Schedule returns the delays c waits before its retries, in order: one
// per retry, MaxAttempts-1 in all (none when MaxAttempts is 1). It runs
// nothing and reads no clock; it computes each delay with the code an
// execution uses, so the list is what an execution waits when every
// attempt fails with an error that carries no delay of its own
// (RetryAfter) and nothing ends it early (a deadline, the caller's
// context, an open breaker).
//
// rnd is the source of uniform numbers in [0, 1) that JITTER,
// FULL_JITTER, EQUAL_JITTER and DECORRELATED draw from, one number per
// delay, in the order an execution draws them: given the source an
// executor has through engine.WithRandom, in the same state, the
// execution waits exactly these delays. A seeded generator
// (rand.New(rand.NewPCG(seed, 0)).Float64) or a fixed sequence gives the
// same schedule every time; nil means math/rand/v2's Float64, as for an
// executor, so each call gives a fresh sample. FIXED, LINEAR and
// EXPONENTIAL draw nothing, and neither does JITTER with no jitter.
//
// An invalid c returns the *ConfigError that Validate reports.
func (c *RetryConfig[T]) Schedule(rnd func() float64) ([]time.Duration, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := c.resolved()
	return r.schedule(rnd), nil
}

// Schedule returns the delays an execution of w waits before its retries,
// as RetryConfig.Schedule does for the retry w runs: its RetryConfig (the
// defaults when RETRY is named without one), with the attempts capped by
// MaxTotalAttempts. rnd is as for RetryConfig.Schedule; the workflow's own
// source (engine.WithRandom) is not drawn from, so listing a schedule
// changes no execution. A workflow in which RETRY does not take part makes
// one attempt and has no delay to list.
func (w *Workflow[T]) Schedule(rnd func() float64) []time.Duration {
	return w.x.retry.schedule(rnd)
}

// schedule lists the delays of c, resolved and valid.
func (c *RetryConfig[T]) schedule(rnd func() float64) []time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	delays := make([]time.Duration, max(c.MaxAttempts-1, 0))
	var prev time.Duration
	for i := range delays {
		delays[i] = c.delay(i+1, prev, rnd)
		prev = delays[i]
	}
	return delays
}

// delay returns the backoff before the attempt after attempt n (1-based,
// the one that just failed), given the previous delay for DECORRELATED
// (zero before the first retry, which the formula reads as d) and a
// source of uniform numbers in [0, 1). The result is capped by MaxDelay
// after jitter; formulas that overflow saturate at the cap (or at the
// largest Duration when there is none). c is resolved: MaxDelay zero
// means no cap. Executions and Schedule both call it.
func (c *RetryConfig[T]) delay(n int, prev time.Duration, rnd func() float64) time.Duration {
	if c.InitialDelay <= 0 {
		return 0 // no delay, whatever the formula: 0 * m^n is NaN once m^n overflows
	}
	d := float64(c.InitialDelay)
	var v float64
	switch c.Backoff {
	case BackoffFixed:
		v = d
	case BackoffLinear:
		v = d * float64(n)
	case BackoffExponential, BackoffJitter:
		v = d * math.Pow(c.Multiplier, float64(n-1))
		if c.Backoff == BackoffJitter && c.JitterRange > 0 {
			v *= 1 + c.JitterRange*(2*rnd()-1)
		}
	case BackoffFullJitter, BackoffEqualJitter:
		// The jitter spreads the capped value, so a delay past the cap
		// is still random (AWS's formulas); capping after it would make
		// every late delay the cap itself.
		e := c.capValue(d * math.Pow(c.Multiplier, float64(n-1)))
		if c.Backoff == BackoffFullJitter {
			v = rnd() * e
		} else {
			v = e/2 + rnd()*(e/2)
		}
	case BackoffDecorrelated:
		if prev <= 0 {
			prev = c.InitialDelay
		}
		lo, hi := d, 3*float64(prev)
		if hi < lo {
			hi = lo
		}
		v = lo + rnd()*(hi-lo)
	}
	return c.capDelay(v)
}

// capValue returns v, a delay in nanoseconds, capped by MaxDelay (or by
// the largest Duration when there is none); +Inf and NaN give the cap.
func (c *RetryConfig[T]) capValue(v float64) float64 {
	limit := float64(math.MaxInt64)
	if c.MaxDelay > 0 {
		limit = float64(c.MaxDelay)
	}
	if !(v < limit) {
		return limit
	}
	return v
}

// capDelay converts a delay in nanoseconds to a Duration, saturating, and
// applies MaxDelay.
func (c *RetryConfig[T]) capDelay(v float64) time.Duration {
	limit := float64(math.MaxInt64)
	if c.MaxDelay > 0 {
		limit = float64(c.MaxDelay)
	}
	if !(v < limit) { // also catches +Inf and NaN
		if c.MaxDelay > 0 {
			return c.MaxDelay
		}
		return time.Duration(math.MaxInt64)
	}
	if v <= 0 {
		return 0
	}
	return time.Duration(v)
}

// RetryAfter wraps err with a delay the failed call asked for (an HTTP
// Retry-After header, say). A retry waits that long instead of its backoff,
// capped by MaxDelay. errors.Is and errors.As see err through it.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string             { return e.err.Error() }
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.after }

// RetryAfterer is implemented by errors that carry the delay a retry
// should wait (RetryAfter's errors, a circuit breaker's *OpenError).
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// carriedDelay returns the delay err (or an error it wraps) carries, if
// any. It walks the chain itself: errors.As with an interface target makes
// the target escape, an allocation per failed attempt.
func carriedDelay(err error) (time.Duration, bool) {
	switch e := err.(type) {
	case nil:
		return 0, false
	case RetryAfterer:
		return max(e.RetryAfter(), 0), true
	case interface{ Unwrap() error }:
		return carriedDelay(e.Unwrap())
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if d, ok := carriedDelay(inner); ok {
				return d, true
			}
		}
	}
	return 0, false
}
