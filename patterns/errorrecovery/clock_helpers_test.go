package errorrecovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine/enginetest"
)

// onClock runs f in a goroutine and advances clk to its next timer each
// time something waits on the clock, until f returns. It returns f's
// results and the advances made, so a test reads the delays slept with no
// real sleeping.
func onClock[T any](clk *enginetest.Clock, f func() (T, error)) (T, []time.Duration, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	var advances []time.Duration
	for {
		ctx, cancel := context.WithCancel(context.Background())
		waiting := make(chan error, 1)
		go func() { waiting <- clk.BlockUntilWaiters(ctx, 1) }()
		select {
		case r := <-done:
			cancel()
			<-waiting
			return r.v, advances, r.err
		case err := <-waiting:
			cancel()
			if err == nil {
				if d, ok := clk.AdvanceToNext(); ok {
					advances = append(advances, d)
				}
			}
		}
	}
}

// seq is a deterministic random source cycling through values.
func seq(vals ...float64) func() float64 {
	i := 0
	return func() float64 {
		v := vals[i%len(vals)]
		i++
		return v
	}
}

// waiters blocks until n callers sleep on clk: retries in their backoff,
// queued calls with a queue timeout. The real-time limit only turns a hang
// into a failure.
func waiters(t *testing.T, clk *enginetest.Clock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clk.BlockUntilWaiters(ctx, n), "waiting for %d waiters on the clock", n)
}
