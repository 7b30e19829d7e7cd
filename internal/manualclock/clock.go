// Package manualclock is the manual engine.Clock that engine/enginetest
// exports as enginetest.Clock. It lives here so that a program may step
// machines on it (the statecraft command's simulator does) without
// linking enginetest's assertions and the go-cmp they print diffs with.
package manualclock

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
)

var _ engine.DoneCounter = (*Clock)(nil)

// defaultStart is where NewClock(time.Time{}) starts: the instant a
// testing/synctest bubble starts at.
var defaultStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a manual engine.Clock. Its time moves only when Advance or
// AdvanceToNext is called, and they run the AfterFunc callbacks and wake the
// goroutines in Sleep that come due, one at a time, in order of deadline and,
// for equal deadlines, of registration.
//
// A Clock is safe for concurrent use and must not be copied. AfterFunc
// callbacks that come due during Advance run in the goroutine that calls
// Advance, after the clock's lock is released, so a callback may call any
// method of the clock (scheduling more timers, stopping others) but Advance
// and AdvanceToNext. A timer armed at a time the clock has already reached,
// while no Advance is running, runs at once in a goroutine of its own, as
// time.AfterFunc does with a non-positive duration: nothing else would ever
// run it. Everything waits on channels only, so a Clock made inside a
// testing/synctest bubble works there.
//
// The package comment lists what counts as waiting on a Clock: a goroutine
// asleep in Sleep, and a context whose deadline runs on the Clock
// (engine.WithTimeout, engine.WithDeadline, an attempt context of
// patterns/errorrecovery) from the first time code asks for its Done until
// it is done. Clock implements engine.DoneCounter for the latter.
type Clock struct {
	mu sync.Mutex // guards the fields below

	// now never moves backwards.
	now time.Time
	// seq numbers entries in order of registration.
	seq uint64
	// queue holds the pending AfterFunc timers and sleepers, earliest
	// (deadline, seq) first.
	queue queue
	// dones are the Done channels that CountDone reported, each once;
	// closed ones are dropped when next counted.
	dones []<-chan struct{}
	// changed is made by BlockUntilWaiters when it has to wait, and closed
	// and set to nil when a goroutine starts sleeping or CountDone reports
	// a channel.
	changed chan struct{}
	// advancing counts the calls of Advance and AdvanceToNext running. While
	// one runs, a timer armed at or before now is queued for it, which runs
	// it in its turn; otherwise the timer runs at once in a new goroutine.
	advancing int
}

// NewClock returns a Clock whose time is start. A zero start means
// 2000-01-01 00:00:00 UTC, the instant a testing/synctest bubble starts at,
// so that times in traces do not depend on when a test runs.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = defaultStart
	}
	return &Clock{now: start}
}

// Now reports the clock's time. Inside an AfterFunc callback, it is that
// timer's deadline.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges for f to be called once the clock has advanced by d.
// f is called by Advance (or AdvanceToNext), in the goroutine calling it.
// A d <= 0 makes f due now: it is called at once in a goroutine of its own
// (never by AfterFunc itself, whose caller may hold a lock that f takes), or,
// when an Advance is running, by that Advance in its turn. Either way it is
// called without a further Advance.
func (c *Clock) AfterFunc(d time.Duration, f func()) engine.Timer {
	if f == nil {
		panic("enginetest: AfterFunc with nil func")
	}
	e := &entry{c: c, f: f}
	c.mu.Lock()
	c.armLocked(e, d)
	return e
}

// AfterFuncAt is AfterFunc with an absolute deadline: f is called when the
// clock reaches t, and at once, as AfterFunc with d <= 0, if the clock has
// reached t already, however the clock moved between the caller reading the
// time and this call. It implements engine.DeadlineClock.
func (c *Clock) AfterFuncAt(t time.Time, f func()) engine.Timer {
	if f == nil {
		panic("enginetest: AfterFuncAt with nil func")
	}
	e := &entry{c: c, f: f}
	c.mu.Lock()
	c.armLocked(e, t.Sub(c.now))
	return e
}

// armLocked registers the callback entry e as due d from now and unlocks
// c.mu. An entry already due while no Advance runs would wait for the next
// Advance, which may never come (the test has already advanced past it);
// so it runs at once, in its own goroutine, as time.AfterFunc runs f for
// d <= 0. c.mu must be held; armLocked releases it.
func (c *Clock) armLocked(e *entry, d time.Duration) {
	if d > 0 || c.advancing > 0 {
		c.pushLocked(e, d)
		c.mu.Unlock()
		return
	}
	e.when = c.now
	e.index = -1 // run: Stop reports false
	c.mu.Unlock()
	go e.f()
}

// SleepUntil is Sleep with an absolute deadline: it returns nil once the
// clock has reached t (at once if it has). It implements
// engine.DeadlineClock.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) error {
	return c.sleep(ctx, func(time.Time) time.Time { return t })
}

// Sleep blocks until Advance reaches now+d or ctx is done, and then returns
// nil or ctx's error. When both have happened by the time the sleeping
// goroutine runs again, the one that happened first wins: if ctx was
// already done when Advance reached the deadline (cancelled, say, by a
// callback that Advance ran just before), Sleep returns ctx's error.
//
// A d <= 0 returns at once, with ctx's error if it is already done; so does
// a ctx already done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	return c.sleep(ctx, func(now time.Time) time.Time { return now.Add(d) })
}

// sleep is Sleep until the deadline at computes from the clock's time,
// read under the same lock that registers the sleeper, so the clock cannot
// move in between.
func (c *Clock) sleep(ctx context.Context, at func(now time.Time) time.Time) error {
	done := engine.Quiet(ctx).Done() // the sleeper is the waiter, not ctx
	if isClosed(done) {
		return ctx.Err()
	}
	e := &entry{c: c, wake: make(chan struct{}), done: done}
	c.mu.Lock()
	d := at(c.now).Sub(c.now)
	if d <= 0 {
		c.mu.Unlock()
		return ctx.Err()
	}
	c.pushLocked(e, d)
	c.notifyLocked()
	c.mu.Unlock()

	select {
	case <-e.wake:
	case <-done:
	}

	c.mu.Lock()
	reached := e.index < 0 && !e.ctxFirst
	if e.index >= 0 {
		heap.Remove(&c.queue, e.index)
	}
	c.mu.Unlock()
	if reached {
		return nil
	}
	return ctx.Err()
}

// Advance moves the clock forward by d. It goes through the deadlines due
// on the way one at a time, earliest first: it sets the time to the
// deadline, then calls the callback or wakes the sleeper. A timer that a
// callback schedules within the window (with d <= 0 too) is called in its
// turn by the same Advance, so a callback that always reschedules itself
// with d <= 0 keeps Advance from returning. When no more are due, the time
// is set to the old time plus d.
//
// Advance panics if d is negative: the clock never moves backwards. Callbacks
// run by two concurrent calls of Advance may interleave; a test normally
// advances from one goroutine.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic("enginetest: Advance with negative duration")
	}
	c.mu.Lock()
	target := c.now.Add(d)
	c.advancing++
	c.mu.Unlock()
	c.advanceTo(target)
}

// AdvanceToNext moves the clock to the earliest deadline of a pending timer or
// waiting goroutine and runs everything due then, as Advance does. It
// reports how far the clock moved (zero when something was already due), or
// false, without moving, when nothing is pending.
func (c *Clock) AdvanceToNext() (time.Duration, bool) {
	c.mu.Lock()
	// A sleeper whose context is done is not waiting any more; leave it out.
	for len(c.queue) > 0 && c.queue[0].f == nil && isClosed(c.queue[0].done) {
		e := heap.Pop(&c.queue).(*entry)
		e.ctxFirst = true
		close(e.wake)
	}
	if len(c.queue) == 0 {
		c.mu.Unlock()
		return 0, false
	}
	next := c.queue[0].when
	d := max(next.Sub(c.now), 0)
	c.advancing++
	c.mu.Unlock()
	c.advanceTo(next)
	return d, true
}

// CountDone counts done, the Done channel of a context whose deadline runs
// on c, as one waiter until it is closed, however many goroutines wait on
// it and however often it is reported. It implements engine.DoneCounter:
// the contexts of engine.WithTimeout and engine.WithDeadline on c call it
// the first time their Done is asked for. A nil or closed channel is not
// counted.
func (c *Clock) CountDone(done <-chan struct{}) {
	if done == nil || isClosed(done) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pruneDonesLocked() // so that the list holds no more than the open channels
	for _, d := range c.dones {
		if d == done {
			return
		}
	}
	c.dones = append(c.dones, done)
	c.notifyLocked()
}

// pruneDonesLocked drops the closed channels from c.dones. c.mu must be
// held.
func (c *Clock) pruneDonesLocked() {
	open := c.dones[:0]
	for _, d := range c.dones {
		if !isClosed(d) {
			open = append(open, d)
		}
	}
	clear(c.dones[len(open):])
	c.dones = open
}

// notifyLocked wakes BlockUntilWaiters, a waiter having been added. c.mu
// must be held.
func (c *Clock) notifyLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// Pending reports how many AfterFunc timers are neither called nor stopped,
// plus the goroutines asleep in Sleep (whose context is not done). A
// context counted by CountDone is not added: its deadline is one of the
// timers.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.queue {
		if e.f != nil || !isClosed(e.done) {
			n++
		}
	}
	return n
}

// Waiters reports how many waiters the clock has, as the package comment
// defines them: the goroutines asleep in Sleep, plus the contexts of the
// clock that code waits on (see CountDone).
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitersLocked()
}

// BlockUntilWaiters blocks until the clock has at least n waiters (see
// Waiters), or ctx is done; it returns nil or ctx's error. It blocks on a
// channel that each new waiter closes, never by polling. Its own wait on
// ctx does not count, even when ctx's deadline runs on this clock.
func (c *Clock) BlockUntilWaiters(ctx context.Context, n int) error {
	giveUp := engine.Quiet(ctx).Done()
	for {
		c.mu.Lock()
		if c.waitersLocked() >= n {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		changed := c.changed
		c.mu.Unlock()

		select {
		case <-changed:
		case <-giveUp:
			return ctx.Err()
		}
	}
}

// advanceTo runs the entries due by target one at a time, each with the
// clock's lock released, and then sets the time to target. The caller has
// counted itself in c.advancing; advanceTo counts it out, under the same
// lock that finds nothing more due, so no timer armed meanwhile is left
// waiting for an Advance.
func (c *Clock) advanceTo(target time.Time) {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.queue[0].when.After(target) {
			if target.After(c.now) {
				c.now = target
			}
			c.advancing--
			c.mu.Unlock()
			return
		}
		e := heap.Pop(&c.queue).(*entry)
		if e.when.After(c.now) {
			c.now = e.when
		}
		if e.f == nil {
			e.ctxFirst = isClosed(e.done)
			close(e.wake)
		}
		c.mu.Unlock()

		if e.f != nil {
			e.f()
		}
	}
}

// pushLocked registers e as due d from now. c.mu must be held.
func (c *Clock) pushLocked(e *entry, d time.Duration) {
	e.when = c.now.Add(max(d, 0))
	c.seq++
	e.seq = c.seq
	heap.Push(&c.queue, e)
}

// waitersLocked counts the sleepers whose context is not done and the
// counted Done channels not yet closed, dropping the closed ones. c.mu
// must be held.
func (c *Clock) waitersLocked() int {
	n := 0
	for _, e := range c.queue {
		if e.f == nil && !isClosed(e.done) {
			n++
		}
	}
	c.pruneDonesLocked()
	return n + len(c.dones)
}

// entry is a pending AfterFunc call (f set) or a goroutine in Sleep (wake
// set). As an engine.Timer, it stops the call.
type entry struct {
	c    *Clock
	when time.Time
	seq  uint64
	// index is the entry's position in c.queue, or -1 once it has been
	// run, stopped or removed. Under c.mu.
	index int

	f func()

	// wake is closed when the clock reaches when (or drops the sleeper,
	// its context being done).
	wake chan struct{}
	// done is the sleeper's ctx.Done(); nil when it is never done.
	done <-chan struct{}
	// ctxFirst reports that done was already closed when wake was closed.
	// Under c.mu.
	ctxFirst bool
}

// Stop prevents the call if it is still pending, and reports whether it did
// so. It does not wait for a call already started.
func (e *entry) Stop() bool {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if e.index < 0 {
		return false
	}
	heap.Remove(&e.c.queue, e.index)
	return true
}

// queue is a container/heap of entries ordered by (when, seq).
type queue []*entry

func (q queue) Len() int { return len(q) }

func (q queue) Less(i, j int) bool {
	if !q[i].when.Equal(q[j].when) {
		return q[i].when.Before(q[j].when)
	}
	return q[i].seq < q[j].seq
}

func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *queue) Pop() any {
	old := *q
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	e.index = -1
	*q = old[:n]
	return e
}

// isClosed reports whether ch is closed; a nil ch never is.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
