package enginetest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

var start = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestClockConformance(t *testing.T) {
	enginetest.TestClock(t, func(t *testing.T) (engine.Clock, func(time.Duration)) {
		c := enginetest.NewClock(start)
		return c, c.Advance
	})
}

func TestNewClockWithZeroStartsWhereSynctestBubblesStart(t *testing.T) {
	got := enginetest.NewClock(time.Time{}).Now()
	want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if !got.Equal(want) {
		t.Errorf("NewClock(time.Time{}).Now() = %v, want %v", got, want)
	}
}

// firing logs the callbacks a test schedules, with the clock's time at each.
type firing struct {
	c   *enginetest.Clock
	mu  sync.Mutex
	log []string
}

// at returns a callback that logs name and the offset of Now from start.
func (f *firing) at(name string) func() {
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.log = append(f.log, fmt.Sprintf("%s@%v", name, f.c.Now().Sub(start)))
	}
}

func (f *firing) check(t *testing.T, want ...string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, want, f.log, "callbacks")
}

func TestAdvanceRunsCallbacksInDeadlineThenRegistrationOrder(t *testing.T) {
	c := enginetest.NewClock(start)
	f := &firing{c: c}
	c.AfterFunc(3*time.Second, f.at("c"))
	c.AfterFunc(time.Second, f.at("a1"))
	c.AfterFunc(2*time.Second, f.at("b"))
	c.AfterFunc(time.Second, f.at("a2"))
	c.AfterFunc(time.Second, f.at("a3"))

	c.Advance(2 * time.Second)
	f.check(t, "a1@1s", "a2@1s", "a3@1s", "b@2s")
	assert.Equal(t, 2*time.Second, c.Now().Sub(start), "after Advance(2s), Now is start")
	assert.Equal(t, 1, c.Pending(), "Pending() (c)")
	c.Advance(time.Second)
	f.check(t, "a1@1s", "a2@1s", "a3@1s", "b@2s", "c@3s")
}

func TestAdvanceRunsTimersScheduledByCallbacksInTheirTurn(t *testing.T) {
	c := enginetest.NewClock(start)
	f := &firing{c: c}
	c.AfterFunc(time.Second, func() {
		f.at("a")()
		c.AfterFunc(time.Second, f.at("a+1s"))    // at 2s, before c
		c.AfterFunc(0, f.at("a+0"))               // at 1s, after a1
		c.AfterFunc(10*time.Second, f.at("late")) // beyond the window
	})
	c.AfterFunc(time.Second, f.at("a1"))
	c.AfterFunc(3*time.Second, f.at("c"))

	c.Advance(5 * time.Second)
	f.check(t, "a@1s", "a1@1s", "a+0@1s", "a+1s@2s", "c@3s")
	assert.Equal(t, 5*time.Second, c.Now().Sub(start), "after Advance(5s), Now is start")
	assert.Equal(t, 1, c.Pending(), "Pending() (late)")
}

// TestTimerArmedAtTheCurrentTimeRunsWithoutAdvance pins issue 24: a timer
// armed at a time the clock has reached used to wait for the next Advance,
// and a test that had already advanced hung for ever.
func TestTimerArmedAtTheCurrentTimeRunsWithoutAdvance(t *testing.T) {
	c := enginetest.NewClock(start)
	ran := make(chan string, 4)
	arm := map[string]func(f func()) engine.Timer{
		"AfterFunc(0)":      func(f func()) engine.Timer { return c.AfterFunc(0, f) },
		"AfterFunc(-1s)":    func(f func()) engine.Timer { return c.AfterFunc(-time.Second, f) },
		"AfterFuncAt(now)":  func(f func()) engine.Timer { return c.AfterFuncAt(c.Now(), f) },
		"AfterFuncAt(past)": func(f func()) engine.Timer { return c.AfterFuncAt(start.Add(-time.Hour), f) },
	}
	for name, arm := range arm {
		tm := arm(func() { ran <- name })
		select {
		case got := <-ran:
			assert.Equal(t, name, got, "ran")
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: f not called without an Advance", name)
		}
		if tm.Stop() {
			t.Errorf("%s: Stop after the call reported true", name)
		}
	}
	assert.Equal(t, 0, c.Pending(), "Pending()")
}

// TestTimerArmedAfterAdvancePassedItsDeadlineRuns is the interleaving of
// issue 24: a deadline read from the clock, an Advance that reaches it
// before the timer is armed, then the timer.
func TestTimerArmedAfterAdvancePassedItsDeadlineRuns(t *testing.T) {
	c := enginetest.NewClock(start)
	deadline := c.Now().Add(time.Second)
	c.Advance(time.Second)
	ran := make(chan time.Time, 1)
	c.AfterFuncAt(deadline, func() { ran <- c.Now() })
	select {
	case at := <-ran:
		if !at.Equal(deadline) {
			t.Errorf("f saw Now() = %v, want %v", at, deadline)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a timer armed at a deadline the clock had reached was never called")
	}
}

func TestTimerDueNowArmedByACallbackRunsInAdvancesTurn(t *testing.T) {
	c := enginetest.NewClock(start)
	f := &firing{c: c}
	c.AfterFunc(time.Second, func() {
		f.at("a")()
		c.AfterFunc(0, f.at("a+0"))
	})
	c.AfterFunc(time.Second, f.at("b"))
	c.Advance(time.Second)
	// Run by Advance in (deadline, registration) order, not in a goroutine
	// of their own: the log is complete when Advance returns.
	f.check(t, "a@1s", "b@1s", "a+0@1s")
}

func TestStopPreventsTheCall(t *testing.T) {
	c := enginetest.NewClock(start)
	f := &firing{c: c}
	a := c.AfterFunc(time.Second, f.at("a"))
	b := c.AfterFunc(time.Second, f.at("b"))
	if !a.Stop() {
		t.Error("Stop of a pending timer reported false")
	}
	if a.Stop() {
		t.Error("second Stop reported true")
	}
	assert.Equal(t, 1, c.Pending(), "Pending() after one Stop")
	c.Advance(time.Second)
	f.check(t, "b@1s")
	if b.Stop() {
		t.Error("Stop after the call reported true")
	}
}

func TestCallbackCanStopALaterTimer(t *testing.T) {
	c := enginetest.NewClock(start)
	f := &firing{c: c}
	var later engine.Timer
	c.AfterFunc(time.Second, func() {
		f.at("a")()
		if !later.Stop() {
			t.Error("Stop from a callback reported false")
		}
	})
	later = c.AfterFunc(2*time.Second, f.at("later"))
	c.Advance(3 * time.Second)
	f.check(t, "a@1s")
}

// sleep runs c.Sleep(ctx, d) in a goroutine and returns a channel that
// receives its result.
func sleep(c *enginetest.Clock, ctx context.Context, d time.Duration) <-chan error {
	result := make(chan error, 1)
	go func() { result <- c.Sleep(ctx, d) }()
	return result
}

func blockUntilWaiters(t *testing.T, c *enginetest.Clock, n int) {
	t.Helper()
	require.NoErrorf(t, c.BlockUntilWaiters(t.Context(), n), "BlockUntilWaiters(%d)", n)
}

func TestSleepReturnsWhenAdvanceReachesItsDeadline(t *testing.T) {
	c := enginetest.NewClock(start)
	result := sleep(c, t.Context(), time.Second)
	blockUntilWaiters(t, c, 1)

	c.Advance(time.Second - time.Nanosecond)
	require.Equal(t, 1, c.Waiters(), "Waiters() before the deadline")
	c.Advance(time.Nanosecond)
	assert.Equal(t, 0, c.Waiters(), "Waiters() once Advance reached the deadline")
	assert.NoError(t, <-result, "Sleep")
}

func TestSleepReturnsCtxErrWhenCancelled(t *testing.T) {
	c := enginetest.NewClock(start)
	ctx, cancel := context.WithCancelCause(t.Context())
	result := sleep(c, ctx, time.Second)
	blockUntilWaiters(t, c, 1)

	cancel(errors.New("gave up"))
	assert.Equal(t, 0, c.Waiters(), "Waiters() once the context is done")
	assert.Equal(t, context.Canceled, <-result, "Sleep")
	assert.Equal(t, 0, c.Pending(), "Pending() after the sleeper left")
}

func TestSleepReturnsAtOnceWithNonPositiveDurationOrDoneContext(t *testing.T) {
	c := enginetest.NewClock(start)
	done, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{t.Context(), 0, nil},
		{t.Context(), -time.Second, nil},
		{done, 0, context.Canceled},
		{done, time.Second, context.Canceled},
	} {
		if got := c.Sleep(tc.ctx, tc.d); got != tc.want {
			t.Errorf("Sleep(ctx, %v) with ctx.Err() = %v: got %v, want %v", tc.d, tc.ctx.Err(), got, tc.want)
		}
	}
	assert.Equal(t, 0, c.Pending(), "Pending()")
}

// A deadline context and a Sleep due at the same instant: whichever was
// registered first on the clock happens first, and Sleep says which.
func TestSleepReportsWhetherItsDeadlineOrTheContextCameFirst(t *testing.T) {
	t.Run("ContextFirst", func(t *testing.T) {
		c := enginetest.NewClock(start)
		ctx, cancel := engine.WithTimeout(t.Context(), c, time.Second)
		defer cancel()
		result := sleep(c, ctx, time.Second)
		blockUntilWaiters(t, c, 1)
		c.Advance(time.Second)
		assert.Equal(t, context.DeadlineExceeded, <-result, "Sleep")
	})
	t.Run("SleepFirst", func(t *testing.T) {
		c := enginetest.NewClock(start)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		result := sleep(c, ctx, time.Second)
		blockUntilWaiters(t, c, 1)
		c.AfterFunc(time.Second, cancel)
		c.Advance(time.Second)
		assert.NoError(t, <-result, "Sleep")
	})
}

func TestBlockUntilWaitersThenAdvanceToNextWakesSleepersInOrder(t *testing.T) {
	c := enginetest.NewClock(start)
	woke := make(chan time.Duration, 3)
	var wg sync.WaitGroup
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		wg.Go(func() {
			assert.NoErrorf(t, c.Sleep(t.Context(), d), "Sleep(ctx, %v)", d)
			woke <- d
		})
	}
	defer wg.Wait()

	blockUntilWaiters(t, c, 3)
	assert.Equal(t, 3, c.Waiters(), "Waiters()")
	c.AfterFunc(time.Hour, func() {})
	assert.Equal(t, 4, c.Pending(), "Pending() (3 sleepers, 1 timer)")
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		moved, ok := c.AdvanceToNext()
		if !ok || moved != time.Second {
			t.Errorf("AdvanceToNext() = %v, %t, want 1s, true", moved, ok)
		}
		assert.Equal(t, want, <-woke, "woke the sleeper of")
		assert.Equal(t, want, c.Now().Sub(start), "Now is start")
	}
	assert.Equal(t, 0, c.Waiters(), "Waiters()")
}

func TestBlockUntilWaitersReturnsCtxErr(t *testing.T) {
	c := enginetest.NewClock(start)
	ctx, cancel := context.WithCancel(t.Context())
	result := sleep(c, t.Context(), time.Second)
	blockUntilWaiters(t, c, 1)

	errs := make(chan error, 1)
	go func() { errs <- c.BlockUntilWaiters(ctx, 2) }()
	cancel()
	assert.Equal(t, context.Canceled, <-errs, "BlockUntilWaiters(ctx, 2)")
	c.Advance(time.Second)
	<-result
}

func TestBlockUntilWaitersDoesNotCountSleepersWhoseContextIsDone(t *testing.T) {
	c := enginetest.NewClock(start)
	ctx, cancel := context.WithCancel(t.Context())
	gone := sleep(c, ctx, time.Second)
	blockUntilWaiters(t, c, 1)
	cancel()

	errs := make(chan error, 1)
	go func() { errs <- c.BlockUntilWaiters(t.Context(), 1) }()
	stays := sleep(c, t.Context(), 2*time.Second)
	require.NoError(t, <-errs, "BlockUntilWaiters(ctx, 1)")
	if moved, ok := c.AdvanceToNext(); !ok || moved != 2*time.Second {
		t.Errorf("AdvanceToNext() = %v, %t, want 2s, true (the cancelled sleeper skipped)", moved, ok)
	}
	assert.Equal(t, context.Canceled, <-gone, "cancelled Sleep")
	assert.NoError(t, <-stays, "Sleep")
}

func TestAdvanceToNextWithNothingPendingDoesNotMove(t *testing.T) {
	c := enginetest.NewClock(start)
	if moved, ok := c.AdvanceToNext(); ok || moved != 0 {
		t.Errorf("AdvanceToNext() = %v, %t, want 0, false", moved, ok)
	}
	if !c.Now().Equal(start) {
		t.Errorf("Now moved to %v", c.Now())
	}
}

func TestAdvanceToNextRunsEverythingDueAtThatInstant(t *testing.T) {
	c := enginetest.NewClock(start)
	f := &firing{c: c}
	c.AfterFunc(time.Second, f.at("a"))
	c.AfterFunc(time.Second, f.at("b"))
	c.AfterFunc(2*time.Second, f.at("c"))
	if moved, ok := c.AdvanceToNext(); !ok || moved != time.Second {
		t.Errorf("AdvanceToNext() = %v, %t, want 1s, true", moved, ok)
	}
	f.check(t, "a@1s", "b@1s")

}

func TestAdvanceWithNegativeDurationPanics(t *testing.T) {
	defer func() {
		assert.NotNil(t, recover(), "Advance(-1) did not panic")
	}()
	enginetest.NewClock(start).Advance(-1)
}

// Run with -race: timers, stops and sleepers from many goroutines while the
// test goroutine advances.
func TestClockIsSafeForConcurrentUse(t *testing.T) {
	c := enginetest.NewClock(start)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	called := 0
	for i := range n {
		wg.Go(func() {
			d := time.Duration(i+1) * time.Millisecond
			c.AfterFunc(d, func() { mu.Lock(); called++; mu.Unlock() })
			c.AfterFunc(d, func() {}).Stop()
			assert.NoError(t, c.Sleep(t.Context(), d), "Sleep")
			_ = c.Now()
			_ = c.Pending()
		})
	}
	blockUntilWaiters(t, c, n)
	c.Advance(n * time.Millisecond)
	wg.Wait()
	assert.Equal(t, n, called, "callbacks called")
	assert.Equal(t, 0, c.Pending(), "Pending()")
}

func ExampleClock() {
	c := enginetest.NewClock(time.Time{})
	c.AfterFunc(2*time.Second, func() { fmt.Println("b at", c.Now().Format(time.TimeOnly)) })
	c.AfterFunc(time.Second, func() {
		fmt.Println("a at", c.Now().Format(time.TimeOnly))
		c.AfterFunc(500*time.Millisecond, func() { fmt.Println("a's follow-up at", c.Now().Format(time.StampMilli)) })
	})
	c.Advance(5 * time.Second)
	fmt.Println("now", c.Now().Format(time.TimeOnly), "pending", c.Pending())
	// Output:
	// a at 00:00:01
	// a's follow-up at Jan  1 00:00:01.500
	// b at 00:00:02
	// now 00:00:05 pending 0
}
