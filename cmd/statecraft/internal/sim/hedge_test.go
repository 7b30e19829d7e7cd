package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A hedged workflow starts each attempt through the scheduler's Go, so a
// hedged run takes turns on the clock like any other: the same seed gives
// the same run, and a hedge starts exactly at its delay.
func TestHedgedRunsTakeTurnsOnTheClock(t *testing.T) {
	const yaml = "primary: RETRY\nsecondary: [HEDGE]\nretry: {max_attempts: 1}\nhedge: {delay: 100ms, max_hedges: 1}\n"
	opts := Options{Executions: 2000, Duration: 30 * time.Minute, Seed: 9,
		Dependency: Dependency{Latency: Latency{A: 30 * time.Millisecond}, Tail: Tail{Share: 0.1, Latency: time.Second}}}
	a := mustRun(t, parseConfig(t, yaml), opts)
	b := mustRun(t, parseConfig(t, yaml), opts)
	require.Equal(t, comparable(a), comparable(b), "two hedged runs with seed 9 differ")

	// An execution whose attempt met the tail and whose hedge did not
	// ends at the delay plus the ordinary latency; one whose two calls
	// both met it, at the tail's latency.
	want := map[time.Duration]bool{30 * time.Millisecond: true, 130 * time.Millisecond: true, time.Second: true}
	for _, l := range a.Latencies {
		require.True(t, want[l], "latency %v: want 30ms, 130ms or 1s", l)
	}
	assert.Equal(t, int64(a.Calls-a.Executions), a.Metrics.Hedges, "calls beyond one per execution are hedges")
	assert.InDelta(t, 200, a.Metrics.Hedges, 40, "hedges (10% of 2000)")
}
