package errorrecovery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/statecraft/statecraft/engine/enginetest"
)

// An instant is its base plus its offset, as a time and as the time since
// it, on a manual clock and on the real one; the zero instant is none.
func TestInstantIsItsBasePlusItsOffset(t *testing.T) {
	assert.True(t, instant{}.none(), "the zero instant")
	assert.True(t, instantOf(time.Time{}).none(), "the zero time")
	assert.True(t, instant{}.time().IsZero(), "none as a time")

	clk := enginetest.NewClock(time.Unix(100, 0))
	start := instantOf(clk.Now()).after(2 * time.Second)
	assert.False(t, start.none())
	deadline := start.after(3 * time.Second)
	assert.Equal(t, time.Unix(105, 0), deadline.time(), "offsets add up")
	assert.Equal(t, -5*time.Second, deadline.since(clk, false), "before it")
	clk.Advance(5 * time.Second)
	assert.Equal(t, time.Duration(0), deadline.since(clk, false), "at it")
	clk.Advance(time.Millisecond)
	assert.Equal(t, time.Millisecond, deadline.since(clk, false), "after it")

	now := time.Now()
	past := instantOf(now).after(-time.Hour)
	assert.True(t, past.time().Equal(now.Add(-time.Hour)))
	assert.GreaterOrEqual(t, past.since(nil, true), time.Hour, "the real clock, from the monotonic reading")
	assert.Less(t, instantOf(now).after(time.Hour).since(nil, true), time.Duration(0))
}
