package engine_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// isDone reports whether ctx's Done channel is closed.
func isDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

func checkErr(t *testing.T, ctx context.Context, wantErr, wantCause error) {
	t.Helper()
	assert.Equal(t, wantErr, ctx.Err(), "Err()")
	if wantErr != nil && !isDone(ctx) {
		t.Error("Err() is set but Done is not closed")
	}
	if wantErr == nil && isDone(ctx) {
		t.Error("Done is closed but Err() is nil")
	}
	assert.Equal(t, wantCause, context.Cause(ctx), "Cause()")
}

func TestWithTimeoutExpiresWhenTheClockPassesTheDeadline(t *testing.T) {
	c := enginetest.NewClock(epoch)
	ctx, cancel := engine.WithTimeout(t.Context(), c, time.Second)
	defer cancel()

	if d, ok := ctx.Deadline(); !ok || !d.Equal(epoch.Add(time.Second)) {
		t.Errorf("Deadline() = %v, %t, want %v, true", d, ok, epoch.Add(time.Second))
	}
	c.Advance(time.Second - time.Nanosecond)
	checkErr(t, ctx, nil, nil)

	c.Advance(time.Nanosecond)
	checkErr(t, ctx, context.DeadlineExceeded, context.DeadlineExceeded)
	assert.Equal(t, 0, c.Pending(), "Pending() after the deadline")
	cancel()
	checkErr(t, ctx, context.DeadlineExceeded, context.DeadlineExceeded)
}

func TestWithTimeoutCancelStopsTheClockTimer(t *testing.T) {
	c := enginetest.NewClock(epoch)
	ctx, cancel := engine.WithTimeout(t.Context(), c, time.Second)
	assert.Equal(t, 1, c.Pending(), "Pending() (the deadline)")
	cancel()
	checkErr(t, ctx, context.Canceled, context.Canceled)
	assert.Equal(t, 0, c.Pending(), "Pending() after cancel")
	c.Advance(time.Hour)
	checkErr(t, ctx, context.Canceled, context.Canceled)
}

func TestWithTimeoutEndsWithItsParent(t *testing.T) {
	c := enginetest.NewClock(epoch)
	parent, cancelParent := context.WithCancelCause(t.Context())
	ctx, cancel := engine.WithTimeout(parent, c, time.Second)
	defer cancel()
	stop := errors.New("stop")

	cancelParent(stop)
	checkErr(t, ctx, context.Canceled, stop) // at once, with no goroutine between
	c.Advance(time.Second)
	checkErr(t, ctx, context.Canceled, stop)
}

func TestWithDeadlineOfAnEarlierParentGoverns(t *testing.T) {
	c := enginetest.NewClock(epoch)
	parent, cancelParent := engine.WithTimeout(t.Context(), c, time.Second)
	defer cancelParent()
	ctx, cancel := engine.WithTimeout(parent, c, 2*time.Second)
	defer cancel()

	if d, _ := ctx.Deadline(); !d.Equal(epoch.Add(time.Second)) {
		t.Errorf("Deadline() = %v, want the parent's %v", d, epoch.Add(time.Second))
	}
	assert.Equal(t, 1, c.Pending(), "Pending() (the parent's deadline only)")
	c.Advance(time.Second)
	checkErr(t, ctx, context.DeadlineExceeded, context.DeadlineExceeded)
}

func TestWithDeadlineEarlierThanItsParentsExpiresAlone(t *testing.T) {
	c := enginetest.NewClock(epoch)
	parent, cancelParent := engine.WithTimeout(t.Context(), c, 2*time.Second)
	defer cancelParent()
	ctx, cancel := engine.WithDeadline(parent, c, epoch.Add(time.Second))
	defer cancel()

	c.Advance(time.Second)
	checkErr(t, ctx, context.DeadlineExceeded, context.DeadlineExceeded)
	checkErr(t, parent, nil, nil)
	c.Advance(time.Second)
	checkErr(t, parent, context.DeadlineExceeded, context.DeadlineExceeded)
}

func TestWithDeadlineAlreadyReachedIsDoneAtOnce(t *testing.T) {
	c := enginetest.NewClock(epoch)
	for _, d := range []time.Time{epoch, epoch.Add(-time.Second)} {
		ctx, cancel := engine.WithDeadline(t.Context(), c, d)
		checkErr(t, ctx, context.DeadlineExceeded, context.DeadlineExceeded)
		cancel()
		checkErr(t, ctx, context.DeadlineExceeded, context.DeadlineExceeded)
	}
	assert.Equal(t, 0, c.Pending(), "Pending()")
}

// A context derived by package context ends with the clock deadline at once,
// but reports Canceled, with the deadline as its cause (as documented).
func TestContextDerivedByPackageContextSeesTheDeadlineAsCause(t *testing.T) {
	c := enginetest.NewClock(epoch)
	ctx, cancel := engine.WithTimeout(t.Context(), c, time.Second)
	defer cancel()
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	ours, cancelOurs := engine.WithTimeout(ctx, c, time.Hour)
	defer cancelOurs()

	c.Advance(time.Second)
	checkErr(t, child, context.Canceled, context.DeadlineExceeded)
	checkErr(t, ours, context.DeadlineExceeded, context.DeadlineExceeded)

	late, cancelLate := context.WithCancel(ctx)
	defer cancelLate()
	checkErr(t, late, context.DeadlineExceeded, context.DeadlineExceeded)
}

func TestWithTimeoutOnTheRealClockIsContextWithTimeout(t *testing.T) {
	for _, c := range []engine.Clock{nil, engine.RealClock{}, &engine.RealClock{}} {
		before := time.Now()
		ctx, cancel := engine.WithTimeout(t.Context(), c, time.Hour)
		d, ok := ctx.Deadline()
		if !ok || d.Before(before.Add(time.Hour)) || d.After(time.Now().Add(time.Hour)) {
			t.Errorf("%T: Deadline() = %v, %t, want about an hour from now", c, d, ok)
		}
		cancel()
		checkErr(t, ctx, context.Canceled, context.Canceled)

		expired, cancel := engine.WithTimeout(t.Context(), c, -time.Second)
		checkErr(t, expired, context.DeadlineExceeded, context.DeadlineExceeded)
		cancel()
	}
}

// Run with -race: cancel races the clock's deadline; the error, once set,
// does not change.
func TestWithTimeoutErrDoesNotChangeOnceSet(t *testing.T) {
	for range 20 {
		c := enginetest.NewClock(epoch)
		ctx, cancel := engine.WithTimeout(t.Context(), c, time.Second)
		go cancel()
		c.Advance(time.Second)
		<-ctx.Done()
		first := ctx.Err()
		if first != context.Canceled && first != context.DeadlineExceeded {
			t.Fatalf("Err() = %v", first)
		}
		cancel()
		require.Equal(t, first, ctx.Err(), "Err() changed")
	}
}

func TestWithTimeoutOnTheManualClockInsideASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := enginetest.NewClock(time.Time{})
		ctx, cancel := engine.WithTimeout(t.Context(), c, time.Minute)
		defer cancel()
		ended := make(chan error, 1)
		go func() {
			<-ctx.Done()
			ended <- ctx.Err()
		}()

		synctest.Wait()
		c.Advance(time.Minute - time.Nanosecond)
		synctest.Wait()
		require.Empty(t, ended, "the context ended before the manual clock reached its deadline")
		c.Advance(time.Nanosecond)
		assert.Equal(t, context.DeadlineExceeded, <-ended, "Err()")
	})
}
