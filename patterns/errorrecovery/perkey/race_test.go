package perkey_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// 200 goroutines use 64 keys through a registry of 16 while the clock
// moves and idle sweeps run: no machine is used after it is closed or
// closed while in use (probe checks both), none is closed twice, and
// once everything is released and the registry closed, every machine
// made has been closed.
func TestTwoHundredGoroutinesShareTheRegistry(t *testing.T) {
	const goroutines, rounds, keys = 200, 200, 64
	clock := manualClock()
	r, log := newProbes(t, perkey.Config{MaxKeys: 16, IdleTimeout: 20 * time.Millisecond, SweepInterval: 5 * time.Millisecond}, clock)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				clock.Advance(time.Millisecond)
			}
		}
	})
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				k := (g*7 + i*i) % keys
				if g%4 == 0 {
					k %= 4 // a few hot keys
				}
				l, err := r.Acquire(k)
				if err != nil {
					t.Error(err)
					return
				}
				p := l.Machine()
				p.use(t)
				if p.key != k {
					t.Errorf("Acquire(%d) gave key %d's machine", k, p.key)
				}
				p.done()
				l.Release()
			}
		})
	}
	wg.Wait()
	close(stop)
	ticker.Wait()

	m := r.Metrics()
	require.LessOrEqual(t, m.Keys, 16)
	assert.Equal(t, m.Created, m.Closed+uint64(m.Keys), "every machine evicted has been closed, none leased")
	r.Close()
	m = r.Metrics()
	assert.Equal(t, m.Created, m.Closed)
	assert.Len(t, log.get(), int(m.Created))
}

// Acquiring and releasing a key that has a machine allocates nothing.
func TestHotKeyAcquireAllocatesNothing(t *testing.T) {
	r, _ := newProbes(t, perkey.Config{}, manualClock())
	for k := range 100 {
		touch(t, r, k) // enough misses to publish the snapshot
	}
	key := 42
	testutil.WantAllocs(t, 0, "Acquire+Release of a hot key", func() {
		l, _ := r.Acquire(key)
		l.Release()
	})
	rs, err := perkey.New(perkey.Config{}, func(k string) (*probe, error) { return &probe{log: &closeLog{}}, nil })
	require.NoError(t, err)
	defer rs.Close()
	host := "api.example.com"
	for range 2 {
		l, _ := rs.Acquire(host)
		l.Release()
	}
	testutil.WantAllocs(t, 0, "Acquire+Release of a hot string key", func() {
		l, _ := rs.Acquire(host)
		l.Release()
	})
	testutil.WantAllocs(t, 0, "Get of a hot string key", func() { _, _ = rs.Get(host) })
}
