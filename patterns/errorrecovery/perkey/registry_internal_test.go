package perkey

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// The hot entry is the last key used twice in a row; a key used once
// leaves it be; evicting it clears it, and a stale one (evicted while it
// was being made hot) is never leased, and is replaced by its key's live
// entry at the key's next lookup.
func TestTheHotEntryIsTheLastKeyUsedTwiceAndNeverAnEvictedOne(t *testing.T) {
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
	hotKey := func() int {
		if e := r.hot.Load(); e != nil {
			return e.key
		}
		return 0
	}

	first := use(1)
	assert.Zero(t, hotKey(), "a key used once is not hot")
	assert.Same(t, first, use(1))
	assert.Equal(t, 1, hotKey(), "used twice in a row")
	assert.Same(t, first, use(1), "the hot key's machine")
	use(2)
	assert.Equal(t, 1, hotKey(), "another key used once leaves it be")
	assert.Same(t, first, use(1), "the hot key again, after another")
	use(2)
	use(2)
	assert.Equal(t, 2, hotKey())
	assert.Same(t, first, use(1), "a key that is not hot, from the snapshot")

	clock.Advance(2 * time.Minute) // every key idle: all evicted
	require.Equal(t, 0, r.Len())
	assert.Zero(t, hotKey(), "evicting the hot entry clears it")

	// An entry evicted while it was being made hot, left in place.
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
	assert.Same(t, fresh, use(1), "its key's live machine, from then on")
}
