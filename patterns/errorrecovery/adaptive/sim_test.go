package adaptive_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

// dependency is a latency model on the manual clock: it serves up to
// capacity calls at once in base each, and beyond that shares itself
// between them, so a call admitted with n in flight takes base×n/capacity.
// Demand callers call it again and again through the limiter; a rejected
// caller tries again at the next tick.
type dependency struct {
	t        testing.TB
	clock    *enginetest.Clock
	l        *adaptive.Limiter
	base     time.Duration
	capacity int
	demand   int
	calls    []pending
}

type pending struct {
	end time.Time
	p   adaptive.Permit
}

const tick = time.Millisecond

func newDependency(t testing.TB, cfg adaptive.Config, base time.Duration, capacity, demand int) *dependency {
	t.Helper()
	clock := enginetest.NewClock(time.Time{})
	d := &dependency{t: t, clock: clock, base: base, capacity: capacity, demand: demand}
	l, err := adaptive.New(cfg, engine.WithClock(clock))
	require.NoError(t, err)
	d.l = l
	return d
}

// run simulates dur, and returns the limit at each tick outside the
// probes (in which the limit is halved on purpose).
func (d *dependency) run(dur time.Duration) []int {
	var limits []int
	for range int(dur / tick) {
		d.clock.Advance(tick)
		now := d.clock.Now()
		kept := d.calls[:0]
		for _, c := range d.calls {
			if c.end.After(now) {
				kept = append(kept, c)
				continue
			}
			c.p.Done(nil)
		}
		d.calls = kept
		for len(d.calls) < d.demand {
			p, err := d.l.Acquire()
			if err != nil {
				break
			}
			n := d.l.InFlight()
			lat := d.base
			if n > d.capacity {
				lat = d.base * time.Duration(n) / time.Duration(d.capacity)
			}
			d.calls = append(d.calls, pending{end: now.Add(lat), p: p})
		}
		if d.l.State() != adaptive.StateProbing {
			limits = append(limits, d.l.Limit())
		}
	}
	return limits
}

func minMax(xs []int) (lo, hi int) {
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
