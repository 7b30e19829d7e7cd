package enginetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// conformanceStep is the duration the checks of TestClock wait for. It is
// short because a real clock really waits it (about ten times in all).
const conformanceStep = 2 * time.Millisecond

// conformanceGiveUp bounds, in real time, how long a check waits for a
// callback or a sleeper that should already have finished; it is reached
// only when the clock is broken.
const conformanceGiveUp = 2 * time.Second

// blocker is the part of *Clock that TestClock uses, when a clock has it,
// to advance only once a goroutine is waiting in Sleep.
type blocker interface {
	BlockUntilWaiters(ctx context.Context, n int) error
}

// TestClock checks that a clock keeps the contract of engine.Clock. Each
// check runs in its own subtest, with a fresh clock from newClock:
//
//   - Now never goes backwards, and moves by at least d when d passes;
//   - AfterFunc calls f once, not before d has passed on the clock; Stop
//     then reports false;
//   - AfterFunc with d <= 0, and engine.AfterFuncAt with a time the clock
//     has reached, call f at once, without the clock being advanced;
//   - Stop before the call prevents it and reports true, and a second Stop
//     reports false;
//   - Sleep returns nil once d has passed, not before;
//   - Sleep returns ctx's error when ctx is done while it waits, or already
//     done when it is called;
//   - Sleep with d <= 0 returns at once, with ctx's error if it is done.
//
// newClock returns the clock and a function that makes d pass on it: for a
// manual clock its Advance method, for a clock whose time passes by itself
// (engine.RealClock) a real wait of d. The checks use durations of a few
// milliseconds, so a real clock spends a few tens of milliseconds in all.
// When the clock has a method BlockUntilWaiters(ctx, n) error, as *Clock
// has, a check that needs a goroutine blocked in Sleep calls it before
// advancing.
//
// The checks wait for callbacks and sleepers on channels; a clock that never
// delivers one fails after two seconds of real time rather than hanging.
func TestClock(t *testing.T, newClock func(t *testing.T) (c engine.Clock, advance func(d time.Duration))) {
	t.Helper()
	const d = conformanceStep
	run := func(name string, check func(t *testing.T, c engine.Clock, advance func(time.Duration))) {
		t.Run(name, func(t *testing.T) {
			c, advance := newClock(t)
			check(t, c, advance)
		})
	}

	run("NowMovesForward", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		t0 := c.Now()
		if t1 := c.Now(); t1.Before(t0) {
			t.Errorf("Now went backwards: %v, then %v", t0, t1)
		}
		advance(d)
		if got := c.Now().Sub(t0); got < d {
			t.Errorf("Now moved by %v after advancing %v", got, d)
		}
	})

	run("AfterFuncCallsFAfterD", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		start := c.Now()
		calls := make(chan time.Time, 2)
		tm := c.AfterFunc(d, func() { calls <- c.Now() })
		advance(d)
		at, ok := receive(calls)
		if !ok {
			t.Fatalf("AfterFunc(%v, f): f not called after advancing %v", d, d)
		}
		if got := at.Sub(start); got < d {
			t.Errorf("AfterFunc(%v, f): f called after %v", d, got)
		}
		if tm.Stop() {
			t.Error("Stop after the call reported true")
		}
		advance(d)
		if len(calls) != 0 {
			t.Error("AfterFunc called f twice")
		}
	})

	run("AfterFuncNonPositiveRunsAtOnce", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		calls := make(chan string, 4)
		timers := []engine.Timer{
			c.AfterFunc(0, func() { calls <- "AfterFunc(0)" }),
			c.AfterFunc(-d, func() { calls <- "AfterFunc(-d)" }),
			engine.AfterFuncAt(c, c.Now(), func() { calls <- "AfterFuncAt(now)" }),
			engine.AfterFuncAt(c, c.Now().Add(-d), func() { calls <- "AfterFuncAt(past)" }),
		}
		// No advance: a timer due when armed must not wait for one, or a
		// test that has already advanced past it hangs.
		for range timers {
			if _, ok := receive(calls); !ok {
				t.Fatal("a timer armed at or before the clock's time was not called without advancing")
			}
		}
		for i, tm := range timers {
			if tm.Stop() {
				t.Errorf("timer %d: Stop after the call reported true", i)
			}
		}
	})

	run("StopPreventsTheCall", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		// On a real clock the call may come due before Stop runs, when the
		// test is descheduled for longer than d; that is no fault of the
		// clock, so try again with a longer d.
		for d := d; ; d *= 8 {
			start := c.Now()
			calls := make(chan struct{}, 1)
			tm := c.AfterFunc(d, func() { calls <- struct{}{} })
			if !tm.Stop() {
				if elapsed := c.Now().Sub(start); elapsed < d {
					t.Fatalf("Stop of a call pending for %v more reported false", d-elapsed)
				}
				if d < time.Second {
					continue
				}
				t.Fatalf("Stop came later than %v after AfterFunc", d)
			}
			if tm.Stop() {
				t.Error("second Stop reported true")
			}
			advance(2 * d)
			if len(calls) != 0 {
				t.Error("f called after Stop")
			}
			return
		}
	})

	run("SleepReturnsNilAfterD", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		type result struct {
			err     error
			elapsed time.Duration
		}
		results := make(chan result, 1)
		start := c.Now()
		go func() {
			err := c.Sleep(context.Background(), d)
			results <- result{err, c.Now().Sub(start)}
		}()
		awaitWaiters(t, c, 1)
		advance(d)
		r, ok := receive(results)
		if !ok {
			t.Fatalf("Sleep(ctx, %v) did not return after advancing %v", d, d)
		}
		if r.err != nil {
			t.Errorf("Sleep(ctx, %v) = %v, want nil", d, r.err)
		}
		if r.elapsed < d {
			t.Errorf("Sleep(ctx, %v) returned after %v", d, r.elapsed)
		}
	})

	run("SleepReturnsCtxErrWhenCancelled", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		results := make(chan error, 1)
		go func() { results <- c.Sleep(ctx, time.Hour) }()
		awaitWaiters(t, c, 1)
		cancel()
		err, ok := receive(results)
		if !ok {
			t.Fatal("Sleep did not return when its context was cancelled")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep with a cancelled context = %v, want %v", err, context.Canceled)
		}
	})

	run("SleepWithDoneCtxReturnsAtOnce", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		results := make(chan error, 1)
		go func() { results <- c.Sleep(ctx, d) }()
		err, ok := receive(results)
		if !ok {
			t.Fatal("Sleep with a done context did not return at once")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep with a done context = %v, want %v", err, context.Canceled)
		}
	})

	run("SleepNonPositiveReturnsAtOnce", func(t *testing.T, c engine.Clock, advance func(time.Duration)) {
		done, cancel := context.WithCancel(context.Background())
		cancel()
		for _, tc := range []struct {
			ctx  context.Context
			d    time.Duration
			want error
		}{
			{context.Background(), 0, nil},
			{context.Background(), -d, nil},
			{done, 0, context.Canceled},
			{done, -d, context.Canceled},
		} {
			results := make(chan error, 1)
			go func() { results <- c.Sleep(tc.ctx, tc.d) }()
			err, ok := receive(results)
			if !ok {
				t.Fatalf("Sleep(ctx, %v) did not return at once", tc.d)
			}
			if err != tc.want {
				t.Errorf("Sleep(ctx, %v) with ctx.Err() = %v: got %v", tc.d, tc.ctx.Err(), err)
			}
		}
	})
}

// awaitWaiters waits for n goroutines in c's Sleep when c can tell.
func awaitWaiters(t *testing.T, c engine.Clock, n int) {
	t.Helper()
	b, ok := c.(blocker)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), conformanceGiveUp)
	defer cancel()
	if err := b.BlockUntilWaiters(ctx, n); err != nil {
		t.Fatalf("BlockUntilWaiters(ctx, %d): %v", n, err)
	}
}

// receive returns the next value from ch, or false once conformanceGiveUp
// has passed in real time.
func receive[T any](ch <-chan T) (T, bool) {
	give := time.NewTimer(conformanceGiveUp)
	defer give.Stop()
	select {
	case v := <-ch:
		return v, true
	case <-give.C:
		var zero T
		return zero, false
	}
}
