package perkey

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// The hot entry is the key used last; evicting it clears it, and a stale
// one (evicted while its use was being numbered) is never leased: its
// key's next lookup goes the slow way and puts the live entry there.
func TestTheHotEntryIsTheLastKeyUsedAndNeverAnEvictedOne(t *testing.T) {
	clock := enginetest.NewClock(time.Unix(0, 0))
	made := 0
	r, err := New(Config{MaxKeys: 2, IdleTimeout: time.Minute, SweepInterval: 10 * time.Second},
		func(k int) (*int, error) { made++; v := k*100 + made; return &v, nil }, engine.WithClock(clock))
	require.NoError(t, err)
	t.Cleanup(r.Close)

	use := func(k int) *int {
		l, err := r.Acquire(k)
		require.NoError(t, err)
		defer l.Release()
		require.Equal(t, k, l.Key())
		return l.Machine()
	}
	hotKey := func() (int, bool) {
		if e := r.hot.Load(); e != nil {
			return e.key, true
		}
		return 0, false
	}

	first := use(1)
	k, ok := hotKey()
	require.True(t, ok)
	assert.Equal(t, 1, k, "the key just created")
	assert.Same(t, first, use(1), "the hot key's machine")
	use(2)
	k, _ = hotKey()
	assert.Equal(t, 2, k, "the key used last")
	assert.Same(t, first, use(1), "a key found in the snapshot again")

	use(3) // the bound is 2: key 2, the least recently used, is evicted
	k, _ = hotKey()
	assert.Equal(t, 3, k)

	clock.Advance(2 * time.Minute) // every key idle: all evicted
	require.Equal(t, 0, r.Len())
	_, ok = hotKey()
	assert.False(t, ok, "evicting the hot entry clears it")

	// An entry evicted while its use was numbered, left hot.
	again := use(1)
	assert.NotSame(t, first, again, "a key used after its eviction gets a new machine")
	r.mu.Lock()
	stale := r.all[1]
	r.evict(stale)
	r.mu.Unlock()
	r.hot.Store(stale)
	fresh := use(1)
	assert.NotSame(t, again, fresh, "the stale hot entry is not leased")
	r.mu.Lock()
	live := r.all[1]
	r.mu.Unlock()
	assert.Same(t, live, r.hot.Load(), "the slow way put the live entry in its place")
}
