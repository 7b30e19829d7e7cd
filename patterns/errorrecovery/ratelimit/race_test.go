package ratelimit_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

const callers = 200

// race runs fn from callers goroutines at once and waits for them.
func race(fn func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			fn()
		})
	}
	close(start)
	wg.Wait()
}

// However many goroutines ask at one instant, a limiter gives exactly the
// permits that instant has: the burst, or a bursty window's permits, and
// one more per interval as the clock moves.
func TestManyGoroutinesGetExactlyThePermitsDue(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   ratelimit.Config
		first int // permits at the start
		step  time.Duration
		next  int // permits after each step
	}{
		{"smooth", ratelimit.Config{Permits: 100, Period: time.Second}, 1, 50 * time.Millisecond, 1}, // a bucket of one
		{"smooth burst", ratelimit.Config{Permits: 100, Period: time.Second, Burst: 30}, 30, 50 * time.Millisecond, 5},
		{"bursty", ratelimit.Config{Permits: 70, Period: time.Second, Mode: ratelimit.ModeBursty}, 70, time.Second, 70},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, clk := newLimiter(t, c.cfg)
			want := c.first
			for round := range 4 {
				var mu sync.Mutex
				got := 0
				race(func() {
					if l.Allow() {
						mu.Lock()
						got++
						mu.Unlock()
					}
				})
				assert.Equal(t, want, got, "round %d", round)
				assert.Equal(t, ratelimit.StateLimited, l.State(), "round %d", round)
				clk.Advance(c.step)
				want = c.next
			}
			m := l.Metrics()
			assert.Equal(t, uint64(c.first+3*c.next), m.Permitted)
			assert.Equal(t, uint64(4*callers-c.first-3*c.next), m.Rejected)
		})
	}
}

// Reservations made at one instant from many goroutines get distinct
// permits, exactly an interval apart, up to MaxWait and no further.
func TestManyGoroutinesReserveDistinctEvenlySpacedPermits(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 1000, Period: time.Second, MaxWait: 99 * time.Millisecond})
	start := clk.Now()
	var mu sync.Mutex
	var at []time.Duration
	rejected := 0
	race(func() {
		r, err := l.Reserve()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			assert.ErrorIs(t, err, ratelimit.ErrLimited)
			rejected++
			return
		}
		at = append(at, r.Time().Sub(start))
	})
	require.Len(t, at, 100, "permits at 0, 1ms, ... 99ms")
	sort.Slice(at, func(i, j int) bool { return at[i] < at[j] })
	for i, d := range at {
		assert.Equal(t, time.Duration(i)*time.Millisecond, d)
	}
	assert.Equal(t, callers-100, rejected)
}

// Many goroutines waiting on the clock each wake at their permit's time.
func TestManyGoroutinesWaitOnTheClock(t *testing.T) {
	l, clk := newLimiter(t, ratelimit.Config{Permits: 1000, Period: time.Second, MaxWait: ratelimit.NoMaxWait})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var woke []time.Time
	for range callers {
		wg.Go(func() {
			if assert.NoError(t, l.Wait(ctx)) {
				mu.Lock()
				woke = append(woke, clk.Now())
				mu.Unlock()
			}
		})
	}
	require.NoError(t, clk.BlockUntilWaiters(ctx, callers-1)) // one got its permit at once
	clk.Advance(time.Duration(callers-1) * time.Millisecond)
	wg.Wait()
	assert.Len(t, woke, callers)
	assert.Equal(t, ratelimit.StateLimited, l.State())
	clk.Advance(time.Millisecond)
	assert.Equal(t, ratelimit.StateAvailable, l.State())
}
