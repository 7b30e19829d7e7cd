package errorrecovery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/statecraft/statecraft/engine/enginetest"
)

// TestAFreshContextSparesOneClockReadOnly checks the hint an executor
// gives the bulkhead's first look at the deadline context: it answers
// that one Err without the clock, and every later Err, and the next
// attempt's, reads the clock again.
func TestAFreshContextSparesOneClockReadOnly(t *testing.T) {
	clk := enginetest.NewClock(time.Unix(0, 0))
	c := &callCtx{parent: context.Background(), clock: clk}
	c = c.begin(0, clk.Now().Add(time.Second))
	c.fresh.Store(true)
	clk.Advance(2 * time.Second) // past the deadline, which only a clock read can tell

	assert.NoError(t, c.Err(), "the fresh hint answers the first Err")
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "the second Err reads the clock")

	c.fresh.Store(true)
	c = c.begin(1, clk.Now().Add(-time.Millisecond))
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "begin clears a hint the last use left")
}
