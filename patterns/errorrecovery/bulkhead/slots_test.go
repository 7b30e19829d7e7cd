package bulkhead

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/transitions"
)

func newTestBulkhead(t *testing.T, cfg Config, opts ...engine.Option) *Bulkhead {
	t.Helper()
	b, err := New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

func TestFastPathOnlyWithDefinitionAndNoObserver(t *testing.T) {
	cfg := Config{MaxConcurrent: 4, MaxQueueSize: 4}
	keepAll := func(*transitions.Spec[State, Event, Data]) bool { return true }
	copied, err := Definition().Edit(keepAll).Build()
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		opts []engine.Option
		fast bool
	}{
		{"Definition", nil, true},
		{"Definition given with WithDefinition", []engine.Option{engine.WithDefinition(Definition())}, true},
		{"an unchanged copy", []engine.Option{engine.WithDefinition(copied)}, false},
		{"an observer", []engine.Option{engine.WithObserver(engine.ObserverFunc(func(engine.Record) {}))}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBulkhead(t, cfg, c.opts...)
			assert.Equal(t, c.fast, b.fast, "fast path on")
			assert.Equal(t, c.fast, b.slots.w.Load()&fastBit != 0, "fast path open when new")
			// Whichever path, the same behaviour: three on the fast path,
			// the fourth through the machine.
			for range 3 {
				require.NoError(t, b.Acquire(context.Background()))
				assert.Equal(t, StateAvailable, b.State())
			}
			require.NoError(t, b.Acquire(context.Background()))
			assert.Equal(t, StateSaturated, b.State())
			assert.Zero(t, b.slots.w.Load()&fastBit, "fast path open in Saturated")
			for range 4 {
				b.Release()
				assert.Equal(t, StateAvailable, b.State())
			}
			assert.Equal(t, Metrics{Completed: 4}, b.Metrics())
			assert.Equal(t, c.fast, b.slots.w.Load()&fastBit != 0, "fast path open once Available again")
		})
	}
}

// TestFastPathNeverDisagreesWithTheState hammers a bulkhead from 1000
// goroutines while a checker, under the Instance's lock (so no step is
// under way), checks the invariants the fast path relies on: it is open
// only in Available; Available always has a slot free, since the fast
// path never takes the last; the other states have none; and the count
// never exceeds the slots. Queued calls wait on their context (a manual
// clock) or as pooled waiters (the real clock), with and without a timer.
func TestFastPathNeverDisagreesWithTheState(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout time.Duration
		opts    []engine.Option
	}{
		{"manual clock", NoTimeout, []engine.Option{engine.WithClock(enginetest.NewClock(time.Time{}))}},
		{"real clock", NoTimeout, nil},
		{"real clock with a queue timeout", time.Hour, nil},
	} {
		t.Run(c.name, func(t *testing.T) { hammer(t, c.timeout, c.opts...) })
	}
}

func hammer(t *testing.T, timeout time.Duration, opts ...engine.Option) {
	const goroutines, rounds, limit = 1000, 20, 4
	b := newTestBulkhead(t, Config{MaxConcurrent: limit, MaxQueueSize: goroutines, QueueTimeout: timeout}, opts...)
	require.True(t, b.fast)

	var inFlight, most, checks atomic.Int64
	var bad atomic.Value
	stop := make(chan struct{})
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for {
			select {
			case <-stop:
				return
			default:
			}
			b.inst.Do(func(s State, d *Data) {
				w := b.slots.w.Load()
				n := int(uint32(w))
				switch {
				case w&fastBit != 0 && s != StateAvailable:
					bad.Store("fast path open in " + s.String())
				case n > limit:
					bad.Store("more calls than slots")
				case s == StateAvailable && n >= limit:
					bad.Store("Available with every slot taken")
				case s != StateAvailable && n != limit:
					bad.Store(s.String() + " with a slot free")
				}
			})
			checks.Add(1)
		}
	}()

	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				if err := b.Acquire(context.Background()); err != nil {
					bad.Store("acquire: " + err.Error())
					return
				}
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				runtime.Gosched() // hold the slot a while, so that calls queue
				inFlight.Add(-1)
				b.Release()
			}
		})
	}
	wg.Wait()
	close(stop)
	<-checked

	assert.Nil(t, bad.Load(), "an invariant the fast path relies on was broken")
	assert.Equal(t, int64(limit), most.Load(), "calls holding a slot at once, at most")
	assert.Equal(t, Metrics{Completed: goroutines * rounds}, b.Metrics())
	assert.Equal(t, StateAvailable, b.State())
	assert.NotZero(t, b.slots.w.Load()&fastBit, "fast path closed once idle")
	t.Logf("%d checks; at most %d calls at once", checks.Load(), most.Load())
}

// TestDefinitionRunsOnDataMadeElsewhere runs Definition in an Instance of
// its own on a zero Data, as a user drawing or simulating the machine
// might: the count lives in the data then, and the machine still counts.
func TestDefinitionRunsOnDataMadeElsewhere(t *testing.T) {
	inst, err := engine.NewInstance(Definition(), Data{})
	require.NoError(t, err)
	c := &call{parent: context.Background()}
	_, err = engine.FireWith(context.Background(), inst, EventAcquire, c)
	require.NoError(t, err)
	assert.Equal(t, outAdmitted, c.outcome)
	assert.Equal(t, StateSaturated, inst.State(), "zero slots: the one taken is the last")
	_, err = inst.Fire(context.Background(), EventRelease)
	require.NoError(t, err)
	assert.Equal(t, StateAvailable, inst.State())
	inst.Do(func(_ State, d *Data) { assert.Zero(t, d.Active()) })
}

// The release's compare-and-swap of the slot word and its count of
// completed calls must share a cache line, or every release under
// contention pulls two lines from the other core. A Bulkhead is far over
// 16 bytes, so the heap aligns it to 16, and a 16-byte block at an offset
// that is a multiple of 16 never straddles a line.
func TestSlotWordAndCompletedCountShareALine(t *testing.T) {
	var b Bulkhead
	slots, completed := unsafe.Offsetof(b.slots), unsafe.Offsetof(b.completed)
	assert.Zero(t, slots%16, "the slot word starts a 16-byte block")
	assert.Equal(t, slots+8, completed, "the completed count follows the slot word in its 16-byte block")
}
