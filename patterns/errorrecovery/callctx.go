package errorrecovery

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// callCtx is the context a protected function receives: the caller's
// context, a deadline of ours on the executor's clock, and the attempt
// information AttemptFromContext and TimeLeft read. It lives inside the
// execution's pooled data, so handing it to the function allocates nothing.
//
// The deadline's timer is armed lazily, the first time something asks for
// Done: a function that never waits on its context costs no timer (a
// context.WithTimeout costs about 350 ns and 4 allocations here). Err
// compares the clock with the deadline instead.
//
// A callCtx is recycled (for the next attempt, and with the execution's
// pooled state) while nothing has asked it for Done, AfterFunc or a Value
// of another key. Code that derives a cancellable context from it asks for
// Done (package context does, and net/http derives one per request, which
// its goroutines touch after the function has returned). What keeps it
// without asking (a goroutine handed the context itself, a
// context.WithValue kept past the call) is not detected, and would read
// the next execution's context: the package documentation forbids it.
// Asking marks the context seen; a seen context is ended
// when its attempt ends (cancelled, if it has a deadline of ours, as
// context.WithTimeout with a deferred cancel would be) and left to its
// holders, never written again, and the next attempt gets a new one.
// So a function that ignores its context allocates nothing for it, and
// one that passes it on costs one allocation per execution.
//
// On a clock that counts waits on Done channels (engine.DoneCounter, as
// enginetest.Clock), the first Done of a context with a deadline of ours
// tells the clock, so that a function blocked on it counts as waiting on
// the clock until the attempt ends. The executor's own waits and links
// (walk-away, the bulkhead's queue, the link to the parent) go through
// Quiet, which counts nothing.
type callCtx struct {
	parent   context.Context
	clock    engine.Clock
	deadline instant   // this attempt's deadline; none when we set none
	undo     *undoList // COMPENSATE's registrations; nil when it takes no part
	// timers is the executor's set of deadlines on the real clock, with
	// its one timer (deadline_timers.go); nil on any other clock, whose
	// timers are armed with AfterFuncAt.
	timers *deadlineTimers

	// seen is set by Done, AfterFunc and Value (of a key other than
	// ours): from then on, something outside may hold c. An unseen c has
	// no timer, channel or AfterFunc, so reusing it needs no lock.
	seen atomic.Bool
	// armed is set (under mu) when Done first makes the channel.
	armed atomic.Bool
	// fresh is set by an executor that knows our deadline has not passed
	// and nothing has waited since it last read the clock: the next Err
	// needs no clock read of its own, and clears it.
	fresh atomic.Bool
	// slot is 1 + our index in timers' queue, 0 when not in it; guarded
	// by timers.mu, not mu.
	slot int32
	// attempt is the attempt's number. (It and slot fill what the flags
	// leave of their 8 bytes: the context stays 176 bytes.)
	attempt int32

	mu    sync.Mutex           // guards the fields below
	done  chan struct{}        // made by the first Done, closed on expiry
	err   error                // set when done is closed
	timer engine.Timer         // our deadline's timer, once armed, on a clock other than the real one
	stop  func() bool          // stops the parent's AfterFunc, once armed
	after map[*func()]struct{} // AfterFunc callbacks still to run at done
	// queued is set while our deadline is in timers (the real clock).
	queued bool
	// counted is set when done was reported to a clock that counts waits.
	counted bool
}

type attemptKey struct{}

// begin prepares the context for an attempt: c itself when it can be
// reused, or a new context with c's parent and clock when c was seen. It
// returns the context to use.
func (c *callCtx) begin(attempt int, deadline instant) *callCtx {
	if c.seen.Load() {
		c = &callCtx{parent: c.parent, clock: c.clock, undo: c.undo, timers: c.timers}
	}
	c.attempt = int32(attempt)
	c.deadline = deadline
	if c.fresh.Load() {
		c.fresh.Store(false)
	}
	return c
}

// reset makes an unseen c a zero callCtx again, for the next execution.
// Only the fields an execution sets without seeing c can be set: the
// rest (the channel, its error, the timers, the AfterFunc callbacks, the
// flags set with them) are set only once c is seen, and a seen c is
// never reset.
func (c *callCtx) reset() {
	c.parent, c.clock, c.deadline, c.attempt, c.undo, c.timers = nil, nil, instant{}, 0, nil, nil
	if c.fresh.Load() {
		c.fresh.Store(false)
	}
}

// end ends an attempt's use of c. A context that was seen is cancelled
// (if it has a deadline of ours and is not done yet), its timer and its
// AfterFunc on the parent are stopped, and it is never written again; an
// unseen one has nothing to undo.
func (c *callCtx) end() {
	if !c.armed.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopTimersLocked()
	if c.err == nil {
		c.closeLocked(context.Canceled)
	}
}

// stopTimersLocked stops our deadline's timer and the parent's AfterFunc,
// taking our deadline out of the executor's timers; c.mu must be held.
func (c *callCtx) stopTimersLocked() {
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.queued {
		c.queued = false
		c.timers.remove(c)
	}
	if c.stop != nil {
		c.stop()
	}
}

// see marks c as possibly held outside the executor.
func (c *callCtx) see() {
	if !c.seen.Load() {
		c.seen.Store(true)
	}
}

// disarm stops the timer and the parent's AfterFunc but keeps Done and Err
// as they are, for an attempt that was walked away from and may still be
// looking at its context.
func (c *callCtx) disarm() {
	c.mu.Lock()
	c.stopTimersLocked()
	c.mu.Unlock()
}

// Deadline reports the earlier of our deadline and the parent's.
func (c *callCtx) Deadline() (time.Time, bool) {
	pd, ok := c.parent.Deadline()
	if c.deadline.none() {
		return pd, ok
	}
	if dl := c.deadline.time(); !ok || !pd.Before(dl) {
		return dl, true
	}
	return pd, ok
}

// Done returns the parent's channel when we set no deadline; otherwise a
// channel of ours, armed on first use, closed at our deadline on the clock
// or when the parent is done. On a clock that counts waits on Done
// channels, the first call reports ours: code asks for Done to wait on it.
func (c *callCtx) Done() <-chan struct{} {
	c.see()
	if c.deadline.none() {
		return c.parent.Done()
	}
	done := c.arm()
	if dc, ok := c.clock.(engine.DoneCounter); ok {
		c.mu.Lock()
		first := !c.counted
		c.counted = true
		c.mu.Unlock()
		if first {
			dc.CountDone(done)
		}
	}
	return done
}

// arm returns our channel, making it and arming our deadline's timer and
// the link to the parent the first time. c has a deadline of ours. The
// parent is asked through engine.Quiet: linking to it is not waiting on
// it.
func (c *callCtx) arm() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	c.armed.Store(true)
	if err := c.parent.Err(); err != nil {
		c.closeLocked(err)
		return c.done
	}
	if c.timers != nil {
		// The real clock: the time left from the monotonic clock alone
		// (the deadline was read from the same clock), and the
		// executor's one timer for all its attempts' deadlines.
		if c.deadline.since(nil, true) >= 0 {
			c.closeLocked(context.DeadlineExceeded)
			return c.done
		}
		c.queued = true
		c.timers.add(c)
	} else {
		if c.deadline.since(c.clock, false) >= 0 {
			c.closeLocked(context.DeadlineExceeded)
			return c.done
		}
		c.timer = engine.AfterFuncAt(c.clock, c.deadline.time(), func() { c.expire(context.DeadlineExceeded) })
	}
	if parent := engine.Quiet(c.parent); parent.Done() != nil {
		c.stop = context.AfterFunc(parent, func() { c.expire(c.parent.Err()) })
	}
	return c.done
}

// Quiet returns c as it is, but for Done, which counts nothing (see
// engine.Quiet).
func (c *callCtx) Quiet() context.Context { return (*quietCallCtx)(c) }

// quietCallCtx is a callCtx whose Done counts nothing: the view the
// executor and package context (through engine.Quiet) wait on and derive
// from.
type quietCallCtx callCtx

func (q *quietCallCtx) Deadline() (time.Time, bool)           { return (*callCtx)(q).Deadline() }
func (q *quietCallCtx) Err() error                            { return (*callCtx)(q).Err() }
func (q *quietCallCtx) Value(key any) any                     { return (*callCtx)(q).Value(key) }
func (q *quietCallCtx) AfterFunc(f func()) (stop func() bool) { return (*callCtx)(q).AfterFunc(f) }

// Done is callCtx.Done without reporting the channel to the clock.
func (q *quietCallCtx) Done() <-chan struct{} {
	c := (*callCtx)(q)
	c.see()
	if c.deadline.none() {
		return engine.Quiet(c.parent).Done()
	}
	return c.arm()
}

func (c *callCtx) expire(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.closeLocked(err)
	}
	c.mu.Unlock()
}

func (c *callCtx) closeLocked(err error) {
	c.err = err
	close(c.done)
	for f := range c.after {
		go (*f)()
	}
	c.after = nil
}

// AfterFunc arranges for f to run in its own goroutine once c is done, and
// returns a function that stops that if it has not happened. Package
// context looks for this method: a context derived from c (the bulkhead
// derives one while a call waits in its queue) registers here instead of
// starting a goroutine that watches c.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	c.see()
	if c.deadline.none() {
		return context.AfterFunc(engine.Quiet(c.parent), f)
	}
	c.arm() // the deadline, so that it is what runs f; not a wait
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	if c.after == nil {
		c.after = map[*func()]struct{}{}
	}
	key := &f
	c.after[key] = struct{}{}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, pending := c.after[key]
		delete(c.after, key)
		return pending
	}
}

// Err reports the parent's error, or context.DeadlineExceeded once our
// deadline has passed on the clock.
func (c *callCtx) Err() error {
	if c.deadline.none() {
		return c.parent.Err()
	}
	if c.armed.Load() {
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.fresh.Load() && c.fresh.Swap(false) {
		return nil
	}
	// On the real clock, the monotonic clock alone, as Done arms it.
	if c.deadline.since(c.clock, c.timers != nil) >= 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// Value answers the attempt key with c itself and defers the rest to the
// parent.
func (c *callCtx) Value(key any) any {
	if key == (attemptKey{}) {
		return c
	}
	c.see()
	return c.parent.Value(key)
}

// AttemptFromContext returns the 1-based number of the attempt a protected
// function is running, and false when ctx did not come from an executor of
// this package. It allocates nothing.
func AttemptFromContext(ctx context.Context) (int, bool) {
	if c, ok := ctx.Value(attemptKey{}).(*callCtx); ok {
		return int(c.attempt), true
	}
	return 0, false
}

// TimeLeft returns how long the protected function has until its deadline
// (the attempt's, the execution's or the caller's, whichever is first) on
// the executor's clock, and false when there is none. It allocates
// nothing.
func TimeLeft(ctx context.Context) (time.Duration, bool) {
	c, ok := ctx.Value(attemptKey{}).(*callCtx)
	if !ok {
		d, ok := ctx.Deadline()
		if !ok {
			return 0, false
		}
		return time.Until(d), true
	}
	d, ok := c.Deadline()
	if !ok {
		return 0, false
	}
	return d.Sub(c.clock.Now()), true
}
