package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// TestAllocs pins the allocations of each path: none, except the error
// of a rejection that returns one.
func TestAllocs(t *testing.T) {
	ctx := context.Background()
	free, clk := newLimiter(t, ratelimit.Config{Permits: 1 << 30, Period: 2 * time.Second})
	tick := func() { clk.Advance(2) } // one permit free at each call
	testutil.WantAllocs(t, 0, "Allow, permit free", func() { tick(); free.Allow() })
	testutil.WantAllocs(t, 0, "Reserve, permit free", func() { tick(); _, _ = free.Reserve() })
	testutil.WantAllocs(t, 0, "Wait, permit free", func() { tick(); _ = free.Wait(ctx) })
	testutil.WantAllocs(t, 0, "Protect, permit free", func() { tick(); _ = free.Protect(ctx, nop) })

	full, _ := newLimiter(t, ratelimit.Config{Permits: 1, Period: time.Hour})
	full.Allow()
	testutil.WantAllocs(t, 0, "Allow, rejected", func() { full.Allow() })
	testutil.WantAllocs(t, 1, "Reserve, rejected (its *Error)", func() { _, _ = full.Reserve() })

	waits, wclk := newLimiter(t, ratelimit.Config{Permits: 1 << 20, Period: time.Second, MaxWait: time.Second})
	waits.Allow()
	testutil.WantAllocs(t, 0, "Reserve, with a wait", func() { _, _ = waits.Reserve(); wclk.Advance(1) })
}

func nop(context.Context) error { return nil }
