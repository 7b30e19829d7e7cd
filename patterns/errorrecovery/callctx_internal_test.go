package errorrecovery

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// TestAFreshContextSparesOneClockReadOnly checks the hint an executor
// gives the bulkhead's first look at the deadline context: it answers
// that one Err without the clock, and every later Err, and the next
// attempt's, reads the clock again.
func TestAFreshContextSparesOneClockReadOnly(t *testing.T) {
	clk := enginetest.NewClock(time.Unix(0, 0))
	c := &callCtx{parent: context.Background(), clock: clk}
	c = c.begin(0, instantOf(clk.Now().Add(time.Second)))
	c.fresh.Store(true)
	clk.Advance(2 * time.Second) // past the deadline, which only a clock read can tell

	assert.NoError(t, c.Err(), "the fresh hint answers the first Err")
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "the second Err reads the clock")

	c.fresh.Store(true)
	c = c.begin(1, instantOf(clk.Now().Add(-time.Millisecond)))
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "begin clears a hint the last use left")
}

// TestResetLeavesAnUnseenContextZero checks what recycling relies on: a
// context used through every method that does not see it (Err, Deadline,
// the attempt key, TimeLeft, AttemptFromContext) and then reset is a zero
// callCtx, on the real clock and on a manual one.
func TestResetLeavesAnUnseenContextZero(t *testing.T) {
	for _, tc := range []struct {
		name   string
		clock  engine.Clock
		timers *deadlineTimers
	}{
		{"real clock", engine.RealClock{}, new(deadlineTimers)},
		{"manual clock", enginetest.NewClock(time.Unix(0, 0)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &callCtx{parent: context.Background(), clock: tc.clock, timers: tc.timers, undo: &undoList{}}
			c = c.begin(2, instantOf(tc.clock.Now().Add(time.Hour)))
			c.fresh.Store(true)
			assert.NoError(t, c.Err())
			assert.NoError(t, c.Err())
			_, ok := c.Deadline()
			assert.True(t, ok)
			_, ok = TimeLeft(c)
			assert.True(t, ok)
			n, ok := AttemptFromContext(c)
			assert.Equal(t, 2, n)
			assert.True(t, ok)
			c.fresh.Store(true)
			require.False(t, c.seen.Load(), "none of these sees the context")

			c.reset()
			assert.True(t, reflect.DeepEqual(c, &callCtx{}), "reset left %+v", c)
		})
	}
}
