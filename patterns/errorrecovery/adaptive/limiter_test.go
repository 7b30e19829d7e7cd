package adaptive_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

func newLimiter(t testing.TB, cfg adaptive.Config, opts ...engine.Option) (*adaptive.Limiter, *enginetest.Clock) {
	t.Helper()
	clock := enginetest.NewClock(time.Time{})
	l, err := adaptive.New(cfg, append([]engine.Option{engine.WithClock(clock)}, opts...)...)
	require.NoError(t, err)
	return l, clock
}

// A call over the limit is rejected at once with an error saying the
// limit and the calls in flight.
func TestRejectionSaysTheLimitAndInFlight(t *testing.T) {
	l, _ := newLimiter(t, adaptive.Config{InitialLimit: 2})
	p1, err := l.Acquire()
	require.NoError(t, err)
	p2, err := l.Acquire()
	require.NoError(t, err)
	_, err = l.Acquire()
	assert.ErrorIs(t, err, adaptive.ErrLimitExceeded)
	var le *adaptive.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, adaptive.LimitError{Limit: 2, InFlight: 2}, *le)
	assert.Contains(t, err.Error(), "2 calls in flight, limit 2")

	err = l.Protect(context.Background(), func(context.Context) error {
		t.Error("ran over the limit")
		return nil
	})
	assert.ErrorIs(t, err, adaptive.ErrLimitExceeded)
	p1.Done(nil)
	p2.Drop()
	adaptive.Permit{}.Done(nil) // the zero Permit: nothing
	adaptive.Permit{}.Drop()
	assert.Equal(t, adaptive.Metrics{Limit: 2, Admitted: 2, Rejected: 2, Completed: 1, Dropped: 1}, l.Metrics())
}

// Protect returns fn's error; a cancelled call and a panicking one give
// their slot back without a latency sample.
func TestProtectRecordsAndReleases(t *testing.T) {
	l, clock := newLimiter(t, adaptive.Config{InitialLimit: 1})
	ctx := context.Background()
	boom := errors.New("boom")
	assert.ErrorIs(t, l.Protect(ctx, func(context.Context) error {
		clock.Advance(time.Millisecond)
		return boom
	}), boom)
	assert.ErrorIs(t, l.Protect(ctx, func(context.Context) error { return context.Canceled }), context.Canceled)
	assert.PanicsWithValue(t, "bad", func() {
		_ = l.Protect(ctx, func(context.Context) error { panic("bad") })
	})
	m := l.Metrics()
	assert.Equal(t, 0, m.InFlight)
	assert.Equal(t, uint64(1), m.Completed, "the failure counts: its latency is the dependency's")
	assert.Equal(t, uint64(2), m.Dropped)
}

// Every change of state is a transition of the exported Definition, seen
// by an observer: the first window takes the baseline (Probing to
// Steady), windows under the limit hold it, and a queue at the
// dependency backs it off.
func TestStateChangesAreTransitionsOfDefinition(t *testing.T) {
	var rec []string
	obs := engine.ObserverFunc(func(r engine.Record) {
		require.GreaterOrEqual(t, r.Transition, 0, "every window takes a transition")
		e := adaptive.Definition().Transitions()[r.Transition]
		require.Equal(t, adaptive.EventWindow, e.Event)
		rec = append(rec, r.From+">"+r.To)
	})
	l, clock := newLimiter(t, adaptive.Config{InitialLimit: 8, Window: 10 * time.Millisecond, MinSamples: 5, ProbeEvery: adaptive.NoProbe}, engine.WithObserver(obs))
	assert.Equal(t, adaptive.StateProbing, l.State())
	// window makes one window of five calls of d each, one after another
	// or all at once; the fifth closes it.
	window := func(d time.Duration, atOnce bool) {
		if !atOnce {
			for range 5 {
				p, err := l.Acquire()
				require.NoError(t, err)
				clock.Advance(d)
				p.Done(nil)
			}
			return
		}
		var ps []adaptive.Permit
		for range 5 {
			p, err := l.Acquire()
			require.NoError(t, err)
			ps = append(ps, p)
		}
		clock.Advance(d)
		for _, p := range ps {
			p.Done(nil)
		}
	}
	window(10*time.Millisecond, false) // the baseline: 10ms
	window(10*time.Millisecond, false) // one call at a time of a limit of 8: hold
	window(10*time.Millisecond, true)  // no queue, calls at the limit: grow
	before := l.Limit()
	assert.Greater(t, before, 8)
	window(40*time.Millisecond, true) // four times slower: a queue
	assert.Less(t, l.Limit(), before)
	assert.Equal(t, []string{"Probing>Steady", "Steady>Steady", "Steady>Growing", "Growing>BackingOff"}, rec)
	assert.Equal(t, adaptive.StateBackingOff, l.State())
	assert.Equal(t, 10*time.Millisecond, l.Metrics().Baseline)
}

// The probe halves the limit for one window and then restores it.
func TestProbeHalvesTheLimitForOneWindow(t *testing.T) {
	l, clock := newLimiter(t, adaptive.Config{InitialLimit: 40, Window: 10 * time.Millisecond, MinSamples: 1, ProbeEvery: 2})
	one := func() {
		p, err := l.Acquire()
		require.NoError(t, err)
		clock.Advance(10 * time.Millisecond)
		p.Done(nil)
	}
	var seen []int
	for range 5 {
		one()
		seen = append(seen, l.Limit())
	}
	assert.Empty(t, cmp.Diff([]int{40, 40, 20, 40, 40}, seen))
}

func TestConfigResolveAndValidate(t *testing.T) {
	got, err := (&adaptive.Config{}).Resolve()
	require.NoError(t, err)
	assert.Equal(t, adaptive.DefaultConfig(), got)
	got, err = (&adaptive.Config{MaxLimit: 5, ProbeEvery: -3}).Resolve()
	require.NoError(t, err)
	assert.Equal(t, 5, got.InitialLimit, "the default initial limit, within the ceiling")
	assert.Equal(t, adaptive.NoProbe, got.ProbeEvery)
	again, err := got.Resolve()
	require.NoError(t, err)
	assert.Equal(t, got, again)

	for _, c := range []struct {
		cfg   adaptive.Config
		field string
	}{
		{adaptive.Config{MinLimit: -1}, "MinLimit"},
		{adaptive.Config{MaxLimit: 1 << 21}, "MaxLimit"},
		{adaptive.Config{MinLimit: 10, MaxLimit: 5}, "MaxLimit"},
		{adaptive.Config{InitialLimit: 2000}, "InitialLimit"},
		{adaptive.Config{MinLimit: 30, InitialLimit: 10}, "InitialLimit"},
		{adaptive.Config{Smoothing: 1.5}, "Smoothing"},
		{adaptive.Config{Smoothing: -0.1}, "Smoothing"},
		{adaptive.Config{Window: time.Microsecond}, "Window"},
		{adaptive.Config{Window: 2 * time.Hour}, "Window"},
		{adaptive.Config{MinSamples: -1}, "MinSamples"},
		{adaptive.Config{ProbeEvery: 1 << 21}, "ProbeEvery"},
	} {
		var ce *errorrecovery.ConfigError
		require.ErrorAs(t, c.cfg.Validate(), &ce, "%+v", c.cfg)
		assert.Equal(t, c.field, ce.Field, "%+v", c.cfg)
		_, err := adaptive.New(c.cfg)
		assert.ErrorAs(t, err, &ce)
	}
}

// Many goroutines through one limiter while the clock moves: no call is
// lost, and the limit stays within its bounds.
func TestLimiterUnderManyGoroutines(t *testing.T) {
	l, clock := newLimiter(t, adaptive.Config{MinLimit: 2, MaxLimit: 50, Window: time.Millisecond, MinSamples: 5, ProbeEvery: 3})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				clock.Advance(100 * time.Microsecond)
			}
		}
	})
	for range 64 {
		wg.Go(func() {
			for i := range 500 {
				_ = l.Protect(context.Background(), func(context.Context) error {
					if n := l.Limit(); n < 2 || n > 50 {
						t.Errorf("limit %d", n)
					}
					if i%3 == 0 {
						return errors.New("failed")
					}
					return nil
				})
			}
		})
	}
	wg.Wait()
	close(stop)
	ticker.Wait()
	m := l.Metrics()
	assert.Equal(t, 0, m.InFlight)
	assert.Equal(t, uint64(64*500), m.Admitted+m.Rejected)
	assert.Equal(t, m.Admitted, m.Completed+m.Dropped)
}

// Acquire and Done under the limit allocate nothing, and neither does
// the step that closes a window, nor a rejection like the last one.
func TestAcquireDoneAllocatesNothing(t *testing.T) {
	full, _ := newLimiter(t, adaptive.Config{InitialLimit: 1})
	held, err := full.Acquire()
	require.NoError(t, err)
	defer held.Drop()
	testutil.WantAllocs(t, 0, "a rejection like the last", func() { _, _ = full.Acquire() })

	l, clock := newLimiter(t, adaptive.Config{Window: time.Millisecond, MinSamples: 1})
	testutil.WantAllocs(t, 0, "Acquire+Done under the limit", func() {
		p, _ := l.Acquire()
		p.Done(nil)
	})
	clock.Advance(time.Second)
	testutil.WantAllocs(t, 0, "Acquire+Done closing a window", func() {
		p, _ := l.Acquire()
		p.Done(nil)
	})
}
