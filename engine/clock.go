package engine

import (
	"context"
	"time"
)

// Clock tells time and runs timers for the drivers. The real clock is the
// default; enginetest.Clock is a manual one for deterministic tests.
//
// Implementations must be safe for concurrent use, start no goroutines of
// their own except to run AfterFunc callbacks, and wait only on channels, so
// that the engine also works inside testing/synctest bubbles.
type Clock interface {
	// Now reports the current time.
	Now() time.Time
	// AfterFunc arranges for f to be called, once, when d has passed.
	// A d <= 0 makes f due at once. The returned Timer's Stop prevents the
	// call if it has not started.
	AfterFunc(d time.Duration, f func()) Timer
	// Sleep blocks until d has passed or ctx is done, and then returns
	// ctx's error (nil when d passed first). A d <= 0 returns at once,
	// with ctx's error if it is already done.
	Sleep(ctx context.Context, d time.Duration) error
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started, and reports whether it
	// did so. It does not wait for a call already started.
	Stop() bool
}

// RealClock is the Clock of the time package.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Sleep waits on a time.Timer or ctx.Done, whichever comes first.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-Quiet(ctx).Done():
		return ctx.Err()
	}
}

// DeadlineClock is implemented by clocks that can arm timers at absolute
// times. A caller that computes a deadline from Now and then arms a
// relative timer arms it late if the clock moves in between: by microseconds
// on the real clock, by whole Advance steps on a manual one. AfterFuncAt and
// SleepUntil use these methods when the clock has them.
type DeadlineClock interface {
	Clock
	// AfterFuncAt arranges for f to be called once when the clock reaches
	// t (at once if it has).
	AfterFuncAt(t time.Time, f func()) Timer
	// SleepUntil blocks until the clock reaches t or ctx is done.
	SleepUntil(ctx context.Context, t time.Time) error
}

// AfterFuncAt arranges for f to be called when c reaches t, exactly when c
// is a DeadlineClock, else with c.AfterFunc for the time left.
func AfterFuncAt(c Clock, t time.Time, f func()) Timer {
	if dc, ok := c.(DeadlineClock); ok {
		return dc.AfterFuncAt(t, f)
	}
	return c.AfterFunc(t.Sub(c.Now()), f)
}

// SleepUntil blocks until c reaches t or ctx is done, exactly when c is a
// DeadlineClock, else with c.Sleep for the time left.
func SleepUntil(c Clock, ctx context.Context, t time.Time) error {
	if dc, ok := c.(DeadlineClock); ok {
		return dc.SleepUntil(ctx, t)
	}
	return c.Sleep(ctx, t.Sub(c.Now()))
}

// ProcClock is implemented by clocks that schedule the goroutines of the
// code running on them themselves, as a discrete-event simulator does: it
// keeps every task in lockstep on its own time, so a task started with
// "go" would run beside the simulation and a wait on a channel would stall
// it. Code that starts goroutines or blocks on a context uses Go and Wait,
// which use these methods when the clock has them.
type ProcClock interface {
	Clock
	// Go runs f as a task of the clock's own, as "go f()" would.
	Go(f func())
	// Wait blocks until ctx is done, as "<-ctx.Done()" would.
	Wait(ctx context.Context)
}

// Go runs f in a goroutine, or as a task of c when c is a ProcClock.
func Go(c Clock, f func()) {
	if pc, ok := c.(ProcClock); ok {
		pc.Go(f)
		return
	}
	go f()
}

// Wait blocks until ctx is done, through c when c is a ProcClock.
func Wait(c Clock, ctx context.Context) {
	if pc, ok := c.(ProcClock); ok {
		pc.Wait(ctx)
		return
	}
	<-ctx.Done()
}
