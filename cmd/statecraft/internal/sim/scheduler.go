package sim

import (
	"context"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/manualclock"
)

// scheduler runs executions in lockstep on a manual clock, and is the
// engine.Clock the simulated workflow runs on.
//
// Each execution is a coroutine (iter.Pull): it runs only when the
// scheduler resumes it, until it sleeps on the clock or finishes, and
// meanwhile nothing else runs. An execution sleeps by arming a timer on the
// manual clock that puts it back in the ready queue, and yielding. When no
// execution is ready, the scheduler advances the manual clock to its next
// timer (AdvanceToNext), which runs that timer's callbacks in (deadline,
// registration) order: arrivals, wake-ups, the breaker's open timeout, the
// deadlines of attempt contexts. So the order in which executions run, and
// the draws each makes from the random sources, depend on the seed alone,
// never on the Go scheduler: the same seed gives the same run.
//
// A sleeping execution is also woken when its context is done before its
// timer fires; the scheduler checks after each step of an execution, since
// only a step can cancel a context (a bulkhead handing a slot to a queued
// call, say).
//
// What an execution must not do is block on anything but the clock's
// Sleep: a channel another execution would close can never be closed,
// since that execution cannot run meanwhile. Run switches off the two
// features that wait so (cache coalescing, walk-away deadlines) and gives
// a bulkhead queue without a timeout a very long one, so that queued calls
// sleep on the clock.
type scheduler struct {
	clk   *manualclock.Clock
	start time.Time
	cur   *proc   // the execution running, nil between steps
	ready []*proc // executions to resume, in order
	// sleeping are the executions asleep in Sleep, in the order they went
	// to sleep, for the check of their contexts.
	sleeping []*proc
	live     int // executions started and not finished
	// due are the timers armed with d <= 0, in the order armed.
	due []*dueTimer
	// abandoning is set while abandon stops the procs: Go then runs its
	// function at once.
	abandoning bool
}

// proc is one execution.
type proc struct {
	id    int
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool

	// While asleep: the context slept on and the wake-up timer.
	asleep bool
	ctx    context.Context
	timer  engine.Timer

	stopped bool // the simulation gave up on it: Sleep returns at once
	// helper marks a proc started by Go (a hedged attempt), not an
	// execution: abandon stops helpers first, so that what they deliver
	// reaches the executions waiting for them.
	helper bool

	arrival time.Time
	calls   int
	host    int // 0 is h1
}

var errStopped = errors.New("sim: simulation stopped")

// Now reports the manual clock's time.
func (s *scheduler) Now() time.Time { return s.clk.Now() }

// AfterFunc is the manual clock's AfterFunc: f runs in the scheduler's
// goroutine, between steps of executions. A timer due at once (d <= 0),
// which the manual clock would run in a goroutine of its own, is queued
// for the scheduler instead: it runs once no execution is ready, before
// the clock moves, in the order such timers were armed, so the run stays
// the same for the same seed.
func (s *scheduler) AfterFunc(d time.Duration, f func()) engine.Timer {
	if d > 0 {
		return s.clk.AfterFunc(d, f)
	}
	t := &dueTimer{f: f}
	s.due = append(s.due, t)
	return t
}

// dueTimer is a timer that was due when armed, waiting in scheduler.due.
// Only the scheduler's goroutine and the executions it resumes, one at a
// time, touch it.
type dueTimer struct {
	f    func()
	done bool // run or stopped
}

// Stop prevents the call if it has not happened, and reports whether it
// did so.
func (t *dueTimer) Stop() bool {
	if t.done {
		return false
	}
	t.done = true
	return true
}

// runDue runs the timers that were due when armed, including any that
// they arm, and reports whether there were any.
func (s *scheduler) runDue() bool {
	ran := len(s.due) > 0
	for len(s.due) > 0 {
		t := s.due[0]
		s.due = s.due[1:]
		if !t.done {
			t.done = true
			t.f()
		}
	}
	return ran
}

// Sleep suspends the running execution until the clock has advanced by d,
// or ctx's deadline on the clock has passed, or ctx is done, and returns
// nil or ctx's error (context.DeadlineExceeded at the deadline). It may be
// called only by an execution.
func (s *scheduler) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	p := s.cur
	if p == nil {
		panic("sim: Sleep called outside an execution")
	}
	if p.stopped {
		return errStopped
	}
	now := s.clk.Now()
	wake := d
	if dl, ok := ctx.Deadline(); ok {
		left := dl.Sub(now)
		if left <= 0 {
			return context.DeadlineExceeded
		}
		wake = min(wake, left)
	}
	p.asleep, p.ctx = true, ctx
	p.timer = s.clk.AfterFunc(wake, func() { s.wake(p) })
	s.sleeping = append(s.sleeping, p)
	if !p.yield(struct{}{}) {
		return errStopped
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !s.clk.Now().Before(dl) {
		// The deadline passed on the clock and ctx does not know yet:
		// it is derived (by package context) from a context of the
		// workflow whose deadline runs on this clock, and learns of it
		// from a goroutine of package context, which the clock's timer
		// has just woken. Wait for it, so that it is done with the
		// parent before this execution goes on (and its context is
		// recycled), and so that ctx reports its own error.
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// wake makes a sleeping execution ready.
func (s *scheduler) wake(p *proc) {
	if !p.asleep {
		return
	}
	p.asleep, p.ctx = false, nil
	for i, q := range s.sleeping {
		if q == p {
			s.sleeping = append(s.sleeping[:i], s.sleeping[i+1:]...)
			break
		}
	}
	s.ready = append(s.ready, p)
}

// spawn starts an execution that runs body, ready to take its first step.
func (s *scheduler) spawn(p *proc, body func(*proc)) {
	p.next, p.stop = iter.Pull(func(yield func(struct{}) bool) {
		p.yield = yield
		body(p)
	})
	s.live++
	s.ready = append(s.ready, p)
}

// step runs p until it sleeps or finishes.
func (s *scheduler) step(p *proc) {
	s.cur = p
	_, more := p.next()
	s.cur = nil
	if !more {
		s.live--
		p.stop()
	}
}

// The scheduler is an engine.ProcClock: patterns that start goroutines or
// block on a context (a hedge's attempts and its wait) do so through it.
var _ engine.ProcClock = (*scheduler)(nil)

// Go runs f as a proc of its own, which takes turns with the executions
// as they do, instead of in a goroutine: a pattern that starts goroutines
// of its own (a hedge's attempts) calls it through engine.Go, so that what f does (calls of the dependency, sleeps on the
// clock) stays in lockstep and the run stays the same for the same seed.
// It may be called only by an execution or a proc started by Go; f runs
// once the caller sleeps or finishes, in the order Go was called.
func (s *scheduler) Go(f func()) {
	if s.abandoning {
		// The run is being given up: f's calls of the dependency end at
		// once (they see their execution stopped), so f finishes now.
		f()
		return
	}
	s.spawn(&proc{helper: true}, func(*proc) { f() })
}

// Wait suspends the running proc until ctx is done: a wait on the
// scheduler, with no timer, that another proc's step ends by cancelling
// ctx (checkContexts). A pattern that would block on ctx.Done() calls it
// through engine.Wait instead, since a proc blocked on a
// channel would block the whole simulation. It returns at once when ctx
// is done or the proc was stopped.
func (s *scheduler) Wait(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	p := s.cur
	if p == nil {
		panic("sim: Wait called outside an execution")
	}
	if p.stopped {
		return
	}
	p.asleep, p.ctx, p.timer = true, ctx, nil
	s.sleeping = append(s.sleeping, p)
	p.yield(struct{}{})
}

// checkContexts wakes the sleeping executions whose context is done.
func (s *scheduler) checkContexts() {
	for i := 0; i < len(s.sleeping); {
		p := s.sleeping[i]
		if p.ctx != context.Background() && p.ctx.Err() != nil {
			if p.timer != nil {
				p.timer.Stop()
			}
			s.wake(p) // removes p from s.sleeping
			continue
		}
		i++
	}
}

// errStalled reports executions waiting on something other than the
// clock, which a simulation cannot advance.
var errStalled = errors.New("sim: executions are waiting on something other than the clock")

// run steps the executions and advances the clock until done reports true
// with no execution left. It stops early, abandoning the executions in
// progress, when check returns an error (a bound of the run was met); it
// calls check each time the clock has moved and each time timers have
// run.
func (s *scheduler) run(done func() bool, check func() error) error {
	for {
		for len(s.ready) > 0 {
			p := s.ready[0]
			s.ready = s.ready[1:]
			s.step(p)
			s.checkContexts()
		}
		if s.runDue() {
			s.checkContexts()
			if err := check(); err != nil {
				s.abandon()
				return err
			}
			continue
		}
		if s.live == 0 && done() {
			return nil
		}
		if _, ok := s.clk.AdvanceToNext(); !ok {
			s.abandon()
			return errStalled
		}
		if err := check(); err != nil {
			s.abandon()
			return err
		}
	}
}

// abandon stops every unfinished execution, asleep or ready to run. A
// stopped execution runs to its end at once: each Sleep it calls returns
// errStopped.
func (s *scheduler) abandon() {
	s.abandoning = true
	stopped := append(s.sleeping, s.ready...)
	s.sleeping, s.ready = nil, nil
	// Helpers first: each ends at once, and delivers to the execution
	// that waits for it, which then has what it waits for when stopped.
	slices.SortStableFunc(stopped, func(a, b *proc) int {
		switch {
		case a.helper == b.helper:
			return 0
		case a.helper:
			return -1
		}
		return 1
	})
	for _, p := range stopped {
		if p.timer != nil {
			p.timer.Stop()
		}
		p.stopped = true
		s.cur = p
		p.stop()
		s.cur = nil
	}
}
