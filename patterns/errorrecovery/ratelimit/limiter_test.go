package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
	"github.com/statecraft/statecraft/transitions"
)

// A smooth limiter spaces its permits exactly Period/Permits apart: one
// nanosecond early, the next permit is refused; on time, it is given.
func TestSmoothSpacesPermitsToTheNanosecond(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 10, Period: time.Second}) // one every 100ms
	require.True(t, l.Allow(), "the first permit is free at once")
	assert.False(t, l.Allow(), "no second permit at the same instant")
	assert.Equal(t, ratelimit.StateLimited, l.State())
	for i := range 5 {
		clk.Advance(100*time.Millisecond - 1)
		assert.False(t, l.Allow(), "permit %d a nanosecond early", i+2)
		assert.Equal(t, ratelimit.StateLimited, l.State())
		clk.Advance(1)
		assert.Equal(t, ratelimit.StateAvailable, l.State(), "the timer frees the limiter the moment the permit is due")
		assert.True(t, l.Allow(), "permit %d on time", i+2)
	}
	want := ratelimit.Metrics{State: ratelimit.StateAvailable, Permitted: 6, Rejected: 6}
	assert.Empty(t, cmp.Diff(want, l.Metrics()))
}

// Idle time does not accumulate beyond the burst: after a long pause a
// smooth limiter with Burst 3 gives three permits at once, then one per
// interval.
func TestSmoothBurstAfterIdle(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 4, Period: time.Second, Burst: 3}) // 250ms apart
	assert.Equal(t, 3, allows(l, 10), "a new limiter's bucket is full")
	clk.Advance(time.Hour)
	assert.Equal(t, 3, allows(l, 10), "an hour idle fills the bucket, no more")
	clk.Advance(250*time.Millisecond - 1)
	assert.Equal(t, 0, allows(l, 1))
	clk.Advance(1)
	assert.Equal(t, 1, allows(l, 10))
	clk.Advance(500 * time.Millisecond)
	assert.Equal(t, 2, allows(l, 10))
}

// A bursty limiter gives each window's permits the moment the window
// begins; permits a window does not use are lost.
func TestBurstyRefillsEachWindowToTheNanosecond(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 5, Period: time.Second, Mode: ratelimit.ModeBursty})
	assert.Equal(t, 5, allows(l, 8), "the first window's five")
	assert.Equal(t, ratelimit.StateLimited, l.State())
	clk.Advance(time.Second - 1)
	assert.Equal(t, 0, allows(l, 1), "a nanosecond before the second window")
	clk.Advance(1)
	assert.Equal(t, ratelimit.StateAvailable, l.State())
	assert.Equal(t, 2, allows(l, 2), "two of the second window's five")
	clk.Advance(time.Second)
	assert.Equal(t, 5, allows(l, 8), "the third window has five, not eight: the second's unused three are lost")
	clk.Advance(time.Second + time.Second/2)
	assert.Equal(t, 5, allows(l, 8), "mid-window after an idle window: the window's five")
}

// A call waits for its permit up to MaxWait; one whose permit would come
// later is rejected at once with an *Error carrying the wait, and spends
// nothing.
func TestMaxWaitIsHonouredAndRejectionTyped(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 10, Period: time.Second, MaxWait: 250 * time.Millisecond})
	var at []time.Duration
	start := clk.Now()
	for range 3 {
		r, err := l.Reserve()
		require.NoError(t, err)
		at = append(at, r.Time().Sub(start))
		assert.Equal(t, r.Time().Sub(start), r.Delay(), "Delay is the wait from the reservation")
	}
	assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}, at)

	_, err := l.Reserve() // due at 300ms: 50ms more than MaxWait
	var le *ratelimit.Error
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.Equal(t, ratelimit.ReasonLimited, le.Reason)
	assert.Equal(t, 300*time.Millisecond, le.RetryAfter())
	assert.Equal(t, 250*time.Millisecond, le.MaxWait)

	clk.Advance(50 * time.Millisecond) // the rejection spent nothing: the next permit is still at 300ms
	r, err := l.Reserve()
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, r.Delay())
	want := ratelimit.Metrics{State: ratelimit.StateLimited, Permitted: 1, Waited: 3, Rejected: 1}
	assert.Empty(t, cmp.Diff(want, l.Metrics()))
}

// With the default MaxWait (zero), a call without a permit free is
// rejected at once, by Wait and Protect as by Allow.
func TestZeroMaxWaitRejectsAtOnce(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{Permits: 1, Period: time.Minute})
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))
	ran := false
	err := l.Protect(ctx, func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.False(t, ran)
	var le *ratelimit.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, time.Minute, le.RetryAfter())
}

// Wait sleeps on the limiter's clock until its permit is due; a context
// that ends meanwhile ends the wait, and the permit stays spent.
func TestWaitSleepsOnTheClockAndCancelSpendsThePermit(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 1, Period: time.Second, MaxWait: ratelimit.NoMaxWait})
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx))

	done := make(chan error, 1)
	go func() { done <- l.Protect(ctx, func(context.Context) error { return errors.New("ran") }) }()
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1))
	clk.Advance(time.Second - 1)
	select {
	case err := <-done:
		t.Fatalf("woke a nanosecond early: %v", err)
	default:
	}
	clk.Advance(1)
	assert.EqualError(t, <-done, "ran", "Protect returns fn's error unchanged")

	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- l.Wait(cctx) }()
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1))
	cancel()
	err := <-done
	var le *ratelimit.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, ratelimit.ReasonCancelled, le.Reason)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ratelimit.ErrLimited)
	assert.Equal(t, time.Second, le.Wait, "the wait left when the context ended")

	r, err := l.Reserve()
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, r.Delay(), "the cancelled wait's permit was not given back")
	want := ratelimit.Metrics{State: ratelimit.StateLimited, Permitted: 1, Waited: 3, Cancelled: 1}
	assert.Empty(t, cmp.Diff(want, l.Metrics()))

	cancel()
	assert.ErrorIs(t, l.Wait(cctx), context.Canceled, "an ended context takes no permit")
	assert.Equal(t, 3*time.Second, l.NextPermit(), "permits at 0, 1s, 2s (cancelled) and 3s are spent; now is 1s")
}

// With waits, reservations push the next permit later than Limited's
// timers were armed for: the timer finds no permit free and enters
// Limited again, armed anew.
func TestLimitedRearmsWhenReservationsMovedTheNextPermit(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 10, Period: time.Second, MaxWait: time.Second})
	require.True(t, l.Allow())
	require.False(t, l.Allow()) // Limited, timers for 100ms
	for range 3 {
		_, err := l.Reserve() // 100, 200, 300ms
		require.NoError(t, err)
	}
	clk.Advance(100 * time.Millisecond)
	assert.Equal(t, ratelimit.StateLimited, l.State(), "the permit at 100ms went to a reservation")
	assert.Equal(t, 300*time.Millisecond, l.NextPermit())
	clk.Advance(300 * time.Millisecond)
	assert.Equal(t, ratelimit.StateAvailable, l.State())
	assert.True(t, l.Allow())
}

// The machine decides: a definition whose Limited state has no edge that
// takes a permit rejects every call while Limited, permits free or not.
func TestChangingTheDefinitionChangesTheBehaviour(t *testing.T) {
	def, err := ratelimit.Definition().Edit(func(tr *transitions.Spec[ratelimit.State, ratelimit.Event, *ratelimit.Limiter]) bool {
		if tr.From == ratelimit.StateLimited && !tr.Delayed {
			if !tr.Internal {
				return false // drop Limited --acquire [permit free]--> Available
			}
			tr.Actions = nil // and Limited's internal acquire takes nothing
		}
		return true
	}).Build()
	require.NoError(t, err)
	l, clk := newLimiter(t, ratelimit.Config{Permits: 10, Period: time.Second}, engine.WithDefinition(def))
	require.True(t, l.Allow())
	require.False(t, l.Allow())
	l.Close() // no timer: only a call could leave Limited
	clk.Advance(time.Hour)
	assert.False(t, l.Allow(), "Limited without an edge that takes a permit rejects")
	assert.Equal(t, ratelimit.StateLimited, l.State())

	plain, pclk := newLimiter(t, ratelimit.Config{Permits: 10, Period: time.Second})
	require.True(t, plain.Allow())
	require.False(t, plain.Allow())
	plain.Close()
	pclk.Advance(time.Hour)
	assert.True(t, plain.Allow(), "the default definition takes a free permit while Limited")
}

// A definition that does not commit regardless of the caller's context
// is refused, naming the field.
func TestNewRefusesADefinitionThatMayStopHalfway(t *testing.T) {
	b := fsm.New[ratelimit.State, ratelimit.Event, *ratelimit.Limiter]("halfway")
	for _, sp := range ratelimit.Definition().StateSpecs() {
		b.State(sp.ID, sp.Kind)
	}
	for _, tr := range ratelimit.Definition().Transitions() {
		if !tr.Delayed {
			b.On(tr.From, tr.Event, tr.To).When(tr.Guard).Do(tr.Actions...)
		}
	}
	def, err := b.Build()
	require.NoError(t, err)
	_, err = ratelimit.New(ratelimit.Config{}, engine.WithDefinition(def))
	var ce *setup.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Definition", ce.Field)
}

// Wait does not take a permit its context's deadline would not see: it
// is rejected at once, nothing spent, as x/time/rate's Wait is.
func TestWaitRefusesAPermitDueAfterTheDeadline(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 1, Period: time.Second, MaxWait: ratelimit.NoMaxWait})
	require.True(t, l.Allow())
	ctx, cancel := engine.WithTimeout(context.Background(), clk, time.Second) // the permit is due at the deadline: too late
	defer cancel()
	err := l.Wait(ctx)
	var le *ratelimit.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, ratelimit.ReasonLimited, le.Reason)
	assert.Equal(t, time.Second, le.RetryAfter())
	assert.Equal(t, time.Second-1, le.MaxWait, "held to the deadline")
	assert.Equal(t, time.Second, l.NextPermit(), "nothing spent")

	ctx2, cancel2 := engine.WithTimeout(context.Background(), clk, time.Second+1)
	defer cancel2()
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx2) }()
	require.NoError(t, clk.BlockUntilWaiters(context.Background(), 1))
	clk.Advance(time.Second)
	assert.NoError(t, <-done, "a permit due a nanosecond before the deadline is taken")
}
