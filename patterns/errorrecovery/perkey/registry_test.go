package perkey_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

var errDown = errors.New("host down")

// One host's failures open its own breaker and no other.
func TestEachKeyHasItsOwnBreaker(t *testing.T) {
	clock := manualClock()
	r, err := perkey.New(perkey.Config{}, func(host string) (*breaker.Breaker, error) {
		return breaker.New(breaker.Config{FailureThreshold: 3, WindowDuration: breaker.CountOnly}, engine.WithClock(clock))
	}, engine.WithClock(clock))
	require.NoError(t, err)
	defer r.Close()

	call := func(host string, fail bool) error {
		l, err := r.Acquire(host)
		require.NoError(t, err)
		defer l.Release()
		return l.Machine().Protect(context.Background(), func(context.Context) error {
			if fail {
				return errDown
			}
			return nil
		})
	}
	for range 3 {
		assert.ErrorIs(t, call("b.example", true), errDown)
		assert.NoError(t, call("a.example", false))
		assert.NoError(t, call("c.example", false))
	}
	assert.ErrorIs(t, call("b.example", false), breaker.ErrOpen, "b's breaker opened")
	assert.NoError(t, call("a.example", false))
	assert.NoError(t, call("c.example", false))

	states := map[string]breaker.State{}
	r.Range(func(host string, b *breaker.Breaker) bool {
		states[host] = b.State()
		return true
	})
	want := map[string]breaker.State{"a.example": breaker.StateClosed, "b.example": breaker.StateOpen, "c.example": breaker.StateClosed}
	assert.Empty(t, cmp.Diff(want, states))
}

// Ten thousand distinct keys through a registry of 100: it never holds
// more than 100, and evicts exactly in least-recently-used order, as a
// plain list model says, with some keys used again in between.
func TestBoundHoldsAndEvictsLeastRecentlyUsedInOrder(t *testing.T) {
	const bound, keys = 100, 10_000
	r, log := newProbes(t, perkey.Config{MaxKeys: bound, IdleTimeout: perkey.NoIdleTimeout}, manualClock())

	var model []int // least recently used first
	var wantEvicted []int
	use := func(k int) {
		touch(t, r, k)
		for i, m := range model {
			if m == k {
				model = append(model[:i], model[i+1:]...)
				break
			}
		}
		model = append(model, k)
		if len(model) > bound {
			wantEvicted = append(wantEvicted, model[0])
			model = model[1:]
		}
	}
	for k := range keys {
		use(k)
		// Use again some keys still held: the old half of the window, so
		// that the order of eviction differs from the order of creation.
		if k%7 == 0 && k >= bound {
			use(k - bound/2 - k%13)
		}
		if k%10 == 0 {
			require.LessOrEqual(t, r.Len(), bound)
		}
	}
	assert.Equal(t, bound, r.Len())
	if diff := cmp.Diff(wantEvicted, log.get()); diff != "" {
		t.Fatalf("eviction order (-want +got):\n%s", diff)
	}
	m := r.Metrics()
	assert.Equal(t, uint64(len(wantEvicted)), m.EvictedBound)
	assert.Equal(t, uint64(len(wantEvicted)), m.Closed)
	assert.Equal(t, m.Created, uint64(bound)+m.EvictedBound)
	for _, k := range model {
		_, ok := r.Peek(k)
		assert.True(t, ok, "key %d is among the %d most recently used", k, bound)
	}
}

// A key unused for IdleTimeout is evicted by the sweep on the clock, no
// earlier, and within IdleTimeout plus a sweep interval (which divides
// IdleTimeout here); a key used meanwhile, or leased, stays.
func TestIdleKeysAreEvictedOnTheClock(t *testing.T) {
	clock := manualClock()
	r, log := newProbes(t, perkey.Config{IdleTimeout: time.Minute, SweepInterval: 10 * time.Second}, clock)

	touch(t, r, 1)
	touch(t, r, 2)
	held, err := r.Acquire(3)
	require.NoError(t, err)
	for range 5 { // 50s
		clock.Advance(10 * time.Second)
		touch(t, r, 2)
	}
	clock.Advance(9 * time.Second) // 59s: not yet idle a minute
	assert.Empty(t, log.get())
	clock.Advance(11 * time.Second) // 70s: key 1 idle since before the mark at 10s
	assert.Equal(t, []int{1}, log.get())
	assert.Equal(t, 2, r.Len())

	held.Release()
	clock.Advance(3 * time.Minute)
	assert.ElementsMatch(t, []int{1, 2, 3}, log.get())
	assert.Equal(t, 0, r.Len())
	assert.Equal(t, uint64(3), r.Metrics().EvictedIdle)
	assert.Zero(t, clock.Pending(), "no sweep armed once the registry is empty")

	// Used again, a key gets a new machine, and the sweep starts again.
	p := touch(t, r, 1)
	assert.False(t, p.closed.Load())
	assert.Equal(t, 1, clock.Pending())
}

// A machine evicted while calls hold its permits lets them finish: it is
// closed only when its last lease is released, and the key's next call
// gets a new machine. With a bulkhead, the slot held when the bulkhead is
// evicted is released normally.
func TestEvictedWhileHeldFinishesItsCalls(t *testing.T) {
	r, err := perkey.New(perkey.Config{MaxKeys: 1}, func(string) (*bulkhead.Bulkhead, error) {
		return bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue})
	})
	require.NoError(t, err)
	defer r.Close()
	ctx := context.Background()

	la, err := r.Acquire("a")
	require.NoError(t, err)
	old := la.Machine()
	require.NoError(t, old.Acquire(ctx)) // a call holds a's only slot

	lb, err := r.Acquire("b") // evicts a, the least recently used
	require.NoError(t, err)
	lb.Release()
	_, ok := r.Peek("a")
	assert.False(t, ok, "a evicted")
	assert.Equal(t, perkey.Metrics{Keys: 1, Created: 2, EvictedBound: 1, Closed: 0}, r.Metrics(), "a is not closed while leased")

	// The call on the evicted bulkhead goes on: its slot is still counted
	// and still taken (a second call on that machine is refused as full,
	// not closed).
	assert.ErrorIs(t, old.Acquire(ctx), bulkhead.ErrFull)
	assert.Equal(t, 1, old.Metrics().Active)

	// The next call for a gets a new machine, with its own free slot.
	la2, err := r.Acquire("a")
	require.NoError(t, err)
	assert.NotSame(t, old, la2.Machine())
	require.NoError(t, la2.Machine().Acquire(ctx))
	la2.Machine().Release()
	la2.Release()

	// The old call ends: the slot comes back, then the lease, and only
	// then is the old bulkhead closed.
	old.Release()
	assert.Equal(t, bulkhead.Metrics{Completed: 1, Rejected: 1}, old.Metrics())
	la.Release()
	assert.ErrorIs(t, old.Acquire(ctx), bulkhead.ErrClosed, "closed after its last lease")
	assert.Equal(t, uint64(2), r.Metrics().Closed, "a's first machine, and b evicted by a's return")
}

// What Close does to a breaker's and a bulkhead's outstanding permits,
// which the registry relies on when a machine is closed after eviction:
// neither breaks a call already admitted.
func TestCloseLeavesAdmittedCallsWhole(t *testing.T) {
	ctx := context.Background()
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	require.NoError(t, bh.Acquire(ctx))
	require.NoError(t, bh.Close(ctx))
	assert.NotPanics(t, bh.Release, "a slot held across Close is released")
	assert.Equal(t, 0, bh.Metrics().Active)

	b, err := breaker.New(breaker.Config{FailureThreshold: 1, WindowDuration: breaker.CountOnly})
	require.NoError(t, err)
	p, err := b.Allow()
	require.NoError(t, err)
	b.Close()
	p.Done(errDown)
	assert.Equal(t, breaker.StateOpen, b.State(), "an outcome reported after Close still counts")
}

// Get gives the same machine as Acquire and counts as a use in the LRU
// order, but holds nothing: an eviction closes the machine at once.
func TestGetCountsAsAUseAndHoldsNothing(t *testing.T) {
	r, log := newProbes(t, perkey.Config{MaxKeys: 2, IdleTimeout: perkey.NoIdleTimeout}, manualClock())
	p1, err := r.Get(1)
	require.NoError(t, err)
	assert.Same(t, p1, touch(t, r, 1))
	_, err = r.Get(2)
	require.NoError(t, err)
	_, err = r.Get(1) // 2 is now the least recently used
	require.NoError(t, err)
	_, err = r.Get(3)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, log.get())
	for range 2 { // evicts 1, then 3
		_, err = r.Get(4)
		require.NoError(t, err)
		_, err = r.Get(5)
		require.NoError(t, err)
	}
	assert.True(t, p1.closed.Load(), "closed at eviction: Get holds no lease")

	r.Close()
	_, err = r.Get(1)
	assert.ErrorIs(t, err, perkey.ErrClosed)
}

// Machines of any type: an adaptive limiter per host, each with its own
// limit; adaptive.Limiter has no Close, so eviction only drops it.
func TestAnAdaptiveLimiterPerHost(t *testing.T) {
	r, err := perkey.New(perkey.Config{MaxKeys: 1}, func(string) (*adaptive.Limiter, error) {
		return adaptive.New(adaptive.Config{InitialLimit: 1})
	})
	require.NoError(t, err)
	defer r.Close()
	slow, err := r.Get("slow.example")
	require.NoError(t, err)
	p, err := slow.Acquire()
	require.NoError(t, err)
	_, err = slow.Acquire()
	assert.ErrorIs(t, err, adaptive.ErrLimitExceeded, "slow.example's one slot is taken")
	fast, err := r.Get("fast.example") // evicts slow.example, which has no Close
	require.NoError(t, err)
	assert.NoError(t, fast.Protect(context.Background(), func(context.Context) error { return nil }), "fast.example has its own limit")
	p.Done(nil)
	assert.Equal(t, perkey.Metrics{Keys: 1, Created: 2, EvictedBound: 1, Closed: 1}, r.Metrics())
}

// A failed create keeps nothing; the error names the key and unwraps.
func TestCreateFailureIsTypedAndNotKept(t *testing.T) {
	calls := 0
	r, err := perkey.New(perkey.Config{}, func(k string) (*breaker.Breaker, error) {
		calls++
		return breaker.New(breaker.Config{FailureThreshold: -7})
	})
	require.NoError(t, err)
	defer r.Close()
	for range 2 {
		l, err := r.Acquire("x")
		var ce *perkey.CreateError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "x", ce.Key)
		var cfgErr *errorrecovery.ConfigError
		assert.ErrorAs(t, err, &cfgErr)
		assert.Nil(t, l.Machine())
		l.Release() // the zero Lease: nothing
	}
	assert.Equal(t, 2, calls)
	assert.Equal(t, perkey.Metrics{CreateFailed: 2}, r.Metrics())
}

func TestClosedRegistryRefusesAndClosesMachinesAfterTheirLeases(t *testing.T) {
	r, log := newProbes(t, perkey.Config{}, manualClock())
	touch(t, r, 1)
	held, err := r.Acquire(2)
	require.NoError(t, err)
	r.Close()
	assert.Equal(t, []int{1}, log.get())
	_, err = r.Acquire(1)
	assert.ErrorIs(t, err, perkey.ErrClosed)
	held.Release()
	assert.Equal(t, []int{1, 2}, log.get())
	r.Close()
}

func TestConfigResolveAndValidate(t *testing.T) {
	got, err := (&perkey.Config{}).Resolve()
	require.NoError(t, err)
	assert.Equal(t, perkey.DefaultConfig(), got)
	got, err = (&perkey.Config{IdleTimeout: -time.Second, SweepInterval: time.Second}).Resolve()
	require.NoError(t, err)
	assert.Equal(t, perkey.Config{MaxKeys: 1024, IdleTimeout: perkey.NoIdleTimeout}, got)
	again, err := got.Resolve()
	require.NoError(t, err)
	assert.Equal(t, got, again, "a resolved config resolves to itself")

	for _, c := range []struct {
		cfg   perkey.Config
		field string
	}{
		{perkey.Config{MaxKeys: -1}, "MaxKeys"},
		{perkey.Config{MaxKeys: 1 << 25}, "MaxKeys"},
		{perkey.Config{IdleTimeout: 25 * time.Hour}, "IdleTimeout"},
		{perkey.Config{SweepInterval: -1}, "SweepInterval"},
		{perkey.Config{SweepInterval: time.Microsecond}, "SweepInterval"},
		{perkey.Config{IdleTimeout: time.Second, SweepInterval: time.Minute}, "SweepInterval"},
	} {
		var ce *errorrecovery.ConfigError
		require.ErrorAs(t, c.cfg.Validate(), &ce, "%+v", c.cfg)
		assert.Equal(t, c.field, ce.Field)
		_, err := perkey.New(c.cfg, func(int) (int, error) { return 0, nil })
		assert.ErrorAs(t, err, &ce)
	}
}

// TestPerKeyDiagram pins the drawing of a per-host breaker as dot and
// Mermaid goldens (go test -update rewrites them) and renders the dot.
func TestPerKeyDiagram(t *testing.T) {
	g, opts := perkey.Diagram(breaker.Definition().Graph(), "host", perkey.Config{})
	var dot, mmd stringsBuilder
	require.NoError(t, writeDot(&dot, g, opts))
	require.NoError(t, writeMermaid(&mmd, g, opts))
	assert.Contains(t, dot.String(), "circuit breaker, one per host (at most 1024 keys, evicted after 5m0s idle)")
	testutil.CheckDot(t, dot.String())
	testutil.CheckGolden(t, "testdata/golden/perkey-breaker.dot", []byte(dot.String()), *update)
	testutil.CheckGolden(t, "testdata/golden/perkey-breaker.mmd", []byte(mmd.String()), *update)
}
