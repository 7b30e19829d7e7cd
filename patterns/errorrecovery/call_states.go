package errorrecovery

import (
	"context"
	"errors"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/states"
)

// The states of the per-call machine that do work, in the order a call
// meets them (call.go declares the machine and runs it): each choice
// state's function does its layer's work and returns the event the
// machine leaves by, as lex.go's state functions return the next state.

// lookup is the Lookup state: the cache's entry machine answers the
// lookup with a fresh value, or (with coalescing) with the call in flight
// to join or the call to lead; anything else is a miss. Only a fresh
// value answers here: a stale one answers only a failure, in Fallback.
func (x *executor[T]) lookup(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	d.key = x.cache.Key(d.ctx.parent)
	switch l := x.cache.Lookup(d.key); {
	case l.Hit:
		d.result, d.source, d.age = l.Value, SourceCache, l.Age
		return eventHit, nil
	case l.Lead:
		d.lead = l.Flight
	case l.Flight != nil:
		return x.join(d, l.Flight), nil
	}
	return eventMiss, nil
}

// join waits for the call in flight that the lookup joined, and takes its
// leader's answer.
func (x *executor[T]) join(d *execution[T], f *cache.Flight[T]) callEvent {
	r, err := f.Wait(d.ctx.parent)
	if err != nil || r.Err != nil {
		return eventMiss // the leader failed (or we stop waiting): try ourselves
	}
	// What the leader got, as what it is (release lands its Source as the
	// flight's Origin): only a fresh answer of the function is a cache hit.
	d.result, d.source, d.age = r.Value, Source(r.Origin), r.Age
	if d.source == SourceFunction {
		d.source = SourceCache
		return eventHit
	}
	return eventServed
}

// admit is the Admit state: take a bulkhead slot. Time queued counts
// against the overall deadline.
func (x *executor[T]) admit(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	if d.admitted {
		return eventAdmitted, nil // a walk-away retry whose last attempt returned: the slot is still held
	}
	cc := d.cc.begin(0, d.deadline)
	d.cc = cc
	if x.cache == nil && !d.deadline.none() {
		// Admit is the execution's first state: nothing has waited since
		// the overall deadline was set, after d.start, so the check of the
		// context the bulkhead makes before it takes a slot need not read
		// the clock (see callCtx.fresh).
		cc.fresh.Store(true)
	}
	err := x.bulkhead.Acquire(cc)
	// Waiting on a context takes its Done (or AfterFunc): a context that
	// nobody asked was not waited on, so the bulkhead admitted at once.
	d.waited = d.waited || cc.seen.Load()
	cc.end()
	if err == nil {
		d.admitted = true
		return eventAdmitted, nil
	}
	d.err = err
	if cerr := d.ctx.parent.Err(); cerr != nil {
		d.err = cerr // the caller gave up: no rejection
		return eventRejected, nil
	}
	if x.passed(d) {
		return eventDeadline, nil // a timeout, counted where it is settled
	}
	if x.stats.counting() {
		x.stats.rejections.Add(1)
	}
	return eventRejected, nil
}

// checkCircuit is the CheckCircuit state: ask the breaker for a permit.
func (x *executor[T]) checkCircuit(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	p, err := x.breaker.Allow()
	if err != nil {
		d.err = err
		if x.stats.counting() {
			x.stats.rejections.Add(1)
		}
		return eventOpen, nil
	}
	d.permit, d.held = p, true
	return eventAllowed, nil
}

// call is the Attempt state: one attempt, its outcome reported to the
// breaker, then classified.
func (x *executor[T]) call(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	d.attempt++
	if x.stats.counting() {
		x.stats.attempts.Add(1) // before the call, so a panicking one counts
	}
	if x.budget != nil && d.attempt == 1 {
		x.budget.Deposit() // an execution reaching the dependency earns retries once
	}
	// The attempt's deadline, as a time and as the time since d.start
	// (in; 0 when none), which classify compares with.
	deadline, in := d.deadline, x.deadline.Timeout
	if t := x.deadline.AttemptTimeout; t > 0 {
		at := t
		if d.attempt > 1 || !x.startsAttempt(d) {
			at += x.elapsed(d)
		}
		if deadline.none() || at < in {
			deadline, in = d.start.after(at), at
		}
	}
	if x.deadline.WalkAway && !deadline.none() {
		d.result, d.err = x.walkAway(d, deadline)
	} else {
		cc := d.cc.begin(d.attempt, deadline)
		d.cc = cc
		d.result, d.err = d.fn(cc)
		cc.end()
	}
	return x.settleAttempt(d, in), nil
}

// startsAttempt reports whether no state before d's first attempt has
// waited: there is no cache (which may wait for a coalesced call), and
// neither the bulkhead nor the rate limiter made d wait. The execution's
// start is then the first attempt's start too, and its deadline is set
// from that reading of the clock.
func (x *executor[T]) startsAttempt(d *execution[T]) bool {
	return x.cache == nil && !d.waited
}

// settleAttempt reports the outcome of the attempt that just answered
// (d.result, d.err) to the adaptive limiter and the breaker whose permits
// it holds, and classifies it; attemptIn is as classify takes it.
func (x *executor[T]) settleAttempt(d *execution[T], attemptIn time.Duration) callEvent {
	if d.limited {
		d.limited = false
		d.limit.Done(d.err) // the attempt's latency and outcome
	}
	ev := x.classify(d, attemptIn)
	if d.held {
		d.held = false
		if ev == eventSuccess {
			d.permit.Done(nil)
		} else {
			d.permit.Done(d.err)
			if left, open := x.breaker.OpenFor(); open && ev == eventRetryable && left > d.delay {
				// This failure opened the breaker, which will still be
				// open when the backoff ends: waiting would only lead to
				// its rejection. Meet it now.
				d.delay = 0
			}
		}
	}
	return ev
}

// classify turns an attempt's outcome into the event the machine leaves
// Attempt by, in the order NewRetry documents. Deadlines are absolute:
// whatever an attempt returns at or after the overall deadline is the
// deadline's, and a result (not an error) returned at or after the
// attempt's own deadline is that attempt's timeout; either way its value
// is dropped, and the error it stands for is the one its context gave by
// then, context.DeadlineExceeded. attemptIn is the attempt's deadline
// (the earlier of its own and the overall one) as the time since
// d.start; 0 when it has none.
func (x *executor[T]) classify(d *execution[T], attemptIn time.Duration) callEvent {
	err := d.err
	if cerr := d.ctx.parent.Err(); cerr != nil {
		d.err = cerr
		return eventPermanent
	}
	// The clock is read once, only when a deadline is set (the
	// attempt's is the earlier), as the time since d.start, which both
	// deadlines are set from (d.deadline at Timeout): comparing durations
	// spares building the time now (time.Time.Add) and comparing times.
	var elapsed time.Duration
	if attemptIn > 0 {
		elapsed = x.elapsed(d)
	}
	if !d.deadline.none() && elapsed >= x.deadline.Timeout {
		x.late(d)
		return eventDeadline
	}
	if err == nil && attemptIn > 0 && elapsed >= attemptIn {
		x.late(d)
		if x.stats.counting() {
			x.stats.attemptTimeouts.Add(1)
		}
		return x.retryable(d) // the attempt's own timeout: transient
	}
	if err == nil {
		if x.retry.RetryOnResult != nil && x.retry.RetryOnResult(d.result) {
			d.err = ErrBadResult
			return x.retryable(d)
		}
		d.source = SourceFunction
		return eventSuccess
	}
	if IsPermanent(err) || matchAny(x.retry.PermanentOn, err) {
		return eventPermanent
	}
	if attemptIn > 0 && errors.Is(err, context.DeadlineExceeded) && elapsed >= attemptIn {
		if x.stats.counting() {
			x.stats.attemptTimeouts.Add(1)
		}
		return x.retryable(d) // the attempt's own timeout: transient
	}
	if len(x.retry.RetryOn) > 0 && !matchAny(x.retry.RetryOn, err) {
		return eventPermanent
	}
	return x.retryable(d)
}

// late drops the result of an attempt that returned past a deadline: a
// success or a bad result stands for the deadline's error, as the
// attempt's context reported it by then; an error stays as it is.
func (x *executor[T]) late(d *execution[T]) {
	var zero T
	d.result = zero
	if d.err == nil {
		d.err = context.DeadlineExceeded
	}
}

// retryable computes the next backoff (when one may follow) and returns
// EventRetryable.
func (x *executor[T]) retryable(d *execution[T]) callEvent {
	if x.retrying && d.attempt < x.retry.MaxAttempts {
		if after, ok := carriedDelay(d.err); ok {
			d.delay = x.retry.capDelay(float64(after))
		} else {
			d.delay = x.retry.delay(d.attempt, d.prev, x.random)
		}
	}
	return eventRetryable
}

// onRetry is the action of Attempt → Backoff.
func (x *executor[T]) onRetry(ctx context.Context, m callMachine[T]) error {
	d := m.Data()
	d.prev = d.delay
	if x.stats.counting() {
		x.stats.retries.Add(1)
	}
	if x.retry.OnRetry != nil {
		x.retry.OnRetry(d.attempt, d.err, d.delay)
	}
	return nil
}

// mayRetry is the Retry state, entered when a backoff ends: the next
// attempt may start unless the caller has given up, the overall deadline
// has passed meanwhile, or the retry budget (BUDGET) refuses it.
// (Whether attempts are left, and whether the backoff ends before the
// deadline, was settled before waiting.)
func (x *executor[T]) mayRetry(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	if cerr := d.ctx.parent.Err(); cerr != nil {
		d.err = cerr
		return eventPermanent, nil
	}
	if x.passed(d) {
		return eventDeadline, nil
	}
	if x.budget != nil && !x.withdraw(d) {
		return eventRefused, nil
	}
	return eventRetry, nil
}

// settle returns the action that fixes the error an execution fails with,
// on the transitions into a failure state (or into Fallback, which may
// still answer): the attempts are over, so RetryConfig.OnFailure hears of
// it here, whatever answers afterwards, and an overall deadline that ended
// them is counted.
func (x *executor[T]) settle(kind callState) states.ActionFunc[callState, callEvent, execution[T]] {
	return func(ctx context.Context, m callMachine[T]) error {
		d := m.Data()
		switch kind {
		case stateExhausted:
			d.final = &ExhaustedError{Attempts: d.attempt, Last: d.err}
		case stateTimedOut:
			d.final = &TimeoutError{Timeout: x.deadline.Timeout, Attempts: d.attempt, Last: d.err}
			if x.stats.counting() {
				x.stats.timeouts.Add(1)
			}
		default:
			d.final = d.err
		}
		if x.retry.OnFailure != nil {
			x.retry.OnFailure(d.final)
		}
		return nil
	}
}

// fallBack is the Fallback state: the sources in precedence order.
func (x *executor[T]) fallBack(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	if d.final == nil {
		d.final = d.err
	}
	if cerr := d.ctx.parent.Err(); cerr != nil {
		// The caller gave up: nobody waits for an answer, and the caller
		// gets its context's error, not a fallback's value.
		d.final = cerr
		return eventUnserved, nil
	}
	if x.servesStale() {
		// A failed call reads the entry: whatever value the entry machine
		// serves answers it, as stale.
		if v, age, _, ok := x.cache.Get(d.key); ok {
			d.result, d.source, d.age = v, SourceStaleCache, age
			return eventServed, nil
		}
	}
	f := x.fallback
	if f == nil || !f.triggers(d.final) {
		return eventUnserved, nil
	}
	if x.fbCache != nil {
		if v, age, fresh, ok := x.fbCache.Get(x.fbCache.Key(d.ctx.parent)); ok && fresh {
			d.result, d.source, d.age = v, SourceFallbackCache, age
			return eventServed, nil
		}
	}
	var errs []error
	if f.Service != nil {
		v, err := f.Service(d.ctx.parent)
		if err == nil {
			d.result, d.source = v, SourceFallbackService
			return eventServed, nil
		}
		errs = append(errs, err)
	}
	if f.Func != nil {
		v, err := f.Func(d.final)
		if err == nil {
			d.result, d.source = v, SourceFallbackFunc
			return eventServed, nil
		}
		errs = append(errs, err)
	}
	if f.HasValue {
		d.result, d.source = f.Value, SourceFallbackValue
		return eventServed, nil
	}
	if len(errs) > 0 {
		d.final = &FallbackError{Err: d.final, Fallbacks: errs}
	}
	return eventUnserved, nil
}

// finish is the entry action of Done and Recovered.
func (x *executor[T]) finish(ctx context.Context, m callMachine[T]) error {
	d := m.Data()
	if d.source == SourceFunction {
		if x.cache != nil {
			x.cache.Put(d.key, d.result)
		}
		if x.fbCache != nil {
			x.fbCache.Put(x.fbCache.Key(d.ctx.parent), d.result)
		}
	}
	x.release(d, nil)
	return nil
}

// fail is the entry action of the failure states.
func (x *executor[T]) fail(ctx context.Context, m callMachine[T]) error {
	d := m.Data()
	if d.final == nil {
		d.final = d.err
	}
	d.source = SourceNone
	x.release(d, d.final)
	return nil
}

// release gives back the bulkhead slot and lets coalesced followers go.
// With HEDGE, it ends the last round, and a slot held while hedges that
// lost still run is given back by the last of them to return (as a
// walk-away attempt's is).
func (x *executor[T]) release(d *execution[T], err error) {
	x = d.x // the key's executor with PerKey (see execution.x)
	kept := false
	if h := d.hedge; h != nil {
		kept = h.end(d.admitted, x.bulkhead)
		d.hedge = nil
		if h.idle() {
			d.idleHedge = h
		}
	}
	if d.admitted {
		d.admitted = false
		if !kept {
			x.bulkhead.Release()
		}
	}
	if d.lead != nil {
		// The followers take the leader's Source from the flight's Origin
		// (join): the cache keeps it without knowing what it means.
		d.lead.Land(cache.Result[T]{Value: d.result, Err: err, Age: d.age, Origin: int(d.source)})
		d.lead = nil
	}
}
