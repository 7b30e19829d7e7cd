package engine

import (
	"context"
	"sync/atomic"
	"time"
)

// WithDeadline returns a copy of parent that is done when clock c reaches d,
// when the returned cancel function is called, or when parent is done,
// whichever happens first. Its Deadline reports d; its Err reports
// context.DeadlineExceeded (and context.Cause reports it too) once c has
// reached d, context.Canceled after cancel, and parent's error when parent
// ended first. A d that c has already reached makes the context done at once.
//
// When parent's deadline is not later than d, parent governs: the context
// reports parent's deadline and arms no timer. Deadlines are compared as
// times, so parent's deadline should come from the same clock.
//
// With a nil c or RealClock, WithDeadline is context.WithDeadline. With
// another clock, the deadline is an AfterFunc timer on c: it fires when a
// manual clock is advanced past d, not on wall time. Calling cancel stops
// the timer and releases the context's resources, so call it as soon as the
// work is done, as with context.WithDeadline. WithDeadline starts no
// goroutine.
//
// A context derived from it by package context (context.WithCancel, say)
// before c reaches d is done at the same moment, but its Err is
// context.Canceled; context.Cause on it reports context.DeadlineExceeded.
// Derive with WithDeadline or WithTimeout of this package to keep the error
// itself.
//
// On a clock that counts waits on Done channels (DoneCounter, as
// enginetest.Clock), the context tells the clock when its Done is first
// asked for, so that a goroutine blocked on it counts as waiting on the
// clock (when parent governs, it asks parent for its Done instead, whose
// deadline is the one that will end the wait). Deriving the context does
// not ask parent for Done (see Quiet).
func WithDeadline(parent context.Context, c Clock, d time.Time) (context.Context, context.CancelFunc) {
	if isRealClock(c) {
		return context.WithDeadline(parent, d)
	}
	inner, cancel := context.WithCancelCause(Quiet(parent))
	ctx := &clockDeadlineCtx{Context: inner, deadline: d}
	stop := func() { cancel(nil) }
	if pd, ok := parent.Deadline(); ok && !pd.After(d) {
		ctx.deadline = pd
		ctx.governor = parent
		return ctx, stop
	}
	if !d.After(c.Now()) {
		cancel(context.DeadlineExceeded)
		return ctx, stop
	}
	ctx.counter, _ = c.(DoneCounter)
	t := AfterFuncAt(c, d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		t.Stop()
		cancel(nil)
	}
}

// WithTimeout returns WithDeadline(parent, c, c.Now().Add(timeout)); with a
// nil c or RealClock, it is context.WithTimeout.
func WithTimeout(parent context.Context, c Clock, timeout time.Duration) (context.Context, context.CancelFunc) {
	if isRealClock(c) {
		return context.WithTimeout(parent, timeout)
	}
	return WithDeadline(parent, c, c.Now().Add(timeout))
}

// isRealClock reports whether c tells wall time, so that package context's
// own timers can serve.
func isRealClock(c Clock) bool {
	switch c.(type) {
	case nil, RealClock, *RealClock:
		return true
	}
	return false
}

// clockDeadlineCtx is a context whose deadline runs on a Clock. Its
// embedded Context is a context.WithCancelCause of the parent, so parent's
// cancellation reaches it, and its children, at once and without a goroutine;
// the clock's timer cancels that context with the cause
// context.DeadlineExceeded, which Err turns back into the error.
//
// The first call of Done tells counter, when the clock counts such waits,
// that code may wait on the channel; a context whose earlier parent
// governs (governor) asks that parent for its Done instead, since the
// parent's deadline is what will close the channel. Quiet gives the
// channel without telling anyone.
type clockDeadlineCtx struct {
	context.Context
	deadline time.Time
	counter  DoneCounter     // the clock, when it counts waits and our timer runs on it
	governor context.Context // the parent whose deadline ends us, if it is earlier
	asked    atomic.Bool     // set by the first Done
}

// Deadline reports the clock deadline.
func (c *clockDeadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns the channel closed when the context ends. The first call
// counts the context as waited on, on a clock that counts such waits.
func (c *clockDeadlineCtx) Done() <-chan struct{} {
	done := c.Context.Done()
	if !c.asked.Load() && c.asked.CompareAndSwap(false, true) {
		switch {
		case c.counter != nil:
			c.counter.CountDone(done)
		case c.governor != nil:
			c.governor.Done()
		}
	}
	return done
}

// Quiet returns the context as it is, but for Done, which counts nothing.
func (c *clockDeadlineCtx) Quiet() context.Context { return (*quietDeadlineCtx)(c) }

// quietDeadlineCtx is a clockDeadlineCtx whose Done (and Value) are those
// of the embedded context, which count nothing.
type quietDeadlineCtx clockDeadlineCtx

func (q *quietDeadlineCtx) Deadline() (time.Time, bool) { return q.deadline, true }
func (q *quietDeadlineCtx) Err() error                  { return (*clockDeadlineCtx)(q).Err() }

// Err reports context.DeadlineExceeded when the context was cancelled
// because a clock deadline passed (its own or, through the cause, an
// ancestor's), and the embedded context's error otherwise. Both are fixed
// when the context is cancelled, so Err never changes once it is non-nil.
func (c *clockDeadlineCtx) Err() error {
	err := c.Context.Err()
	if err == context.Canceled && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
