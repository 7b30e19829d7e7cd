package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

func TestReserveBeforeGivesOnlyAPermitDueBeforeTheDeadline(t *testing.T) {
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := enginetest.NewClock(start)
	// One permit every 100ms, a call may wait a second.
	l, err := ratelimit.New(ratelimit.Config{Permits: 10, MaxWait: time.Second}, engine.WithClock(clk))
	require.NoError(t, err)
	t.Cleanup(l.Close)

	r, err := l.ReserveBefore(time.Time{})
	require.NoError(t, err, "no deadline: the free permit")
	assert.Zero(t, r.Delay())

	_, err = l.ReserveBefore(start.Add(100 * time.Millisecond))
	var le *ratelimit.Error
	require.ErrorAs(t, err, &le, "the next permit is due at the deadline, when the caller's time is up")
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.Equal(t, 100*time.Millisecond, le.Wait)
	assert.Equal(t, 100*time.Millisecond-1, le.MaxWait, "the bound is the time left, less the deadline's instant")

	r, err = l.ReserveBefore(start.Add(100*time.Millisecond + 1))
	require.NoError(t, err, "due a nanosecond before the deadline, and nothing was spent by the refusal")
	assert.Equal(t, start.Add(100*time.Millisecond), r.Time())
	assert.Equal(t, 100*time.Millisecond, r.Delay())

	r, err = l.ReserveBefore(start.Add(time.Hour))
	require.NoError(t, err, "a far deadline leaves MaxWait the bound")
	assert.Equal(t, 200*time.Millisecond, r.Delay())
}
