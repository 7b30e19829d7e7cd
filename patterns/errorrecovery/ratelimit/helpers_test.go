package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// newLimiter returns a limiter of cfg on a new manual clock.
func newLimiter(t testing.TB, cfg ratelimit.Config, opts ...engine.Option) (*ratelimit.Limiter, *enginetest.Clock) {
	t.Helper()
	clk := enginetest.NewClock(time.Time{})
	l, err := ratelimit.New(cfg, append([]engine.Option{engine.WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	return l, clk
}

// allows calls Allow n times and returns how many it permitted.
func allows(l *ratelimit.Limiter, n int) int {
	got := 0
	for range n {
		if l.Allow() {
			got++
		}
	}
	return got
}
