package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

func TestLookupAnswersOnlyAFreshValue(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{TTL: time.Minute, DisableCoalescing: true}, clk)
	l := c.Lookup("k")
	assert.False(t, l.Hit, "an absent key: want a plain miss")
	assert.Nil(t, l.Flight, "an absent key: want a plain miss, no flight")
	c.Put("k", "v")
	clk.Advance(20 * time.Second)
	l = c.Lookup("k")
	assert.True(t, l.Hit, "a fresh entry: want it")
	assert.Equal(t, "v", l.Value, "a fresh entry")
	assert.Equal(t, 20*time.Second, l.Age, "a fresh entry: want it 20s old")
	assert.Nil(t, l.Flight, "a fresh entry: no flight")
	clk.Advance(time.Minute)
	l = c.Lookup("k")
	assert.False(t, l.Hit, "a stale entry: want a plain miss")
	assert.Nil(t, l.Flight, "a stale entry: want a plain miss, no flight")
}

// The first lookup that misses leads a flight; the others join it, until
// the leader lands it. Landing ends the flight for the entry, so the next
// lookup that misses leads a new one.
func TestOneLeaderPerFlight(t *testing.T) {
	c := minuteCache(t, enginetest.NewClock(time.Time{}))
	lead := c.Lookup("k")
	require.True(t, lead.Lead, "first lookup: want to lead a flight")
	require.NotNil(t, lead.Flight, "first lookup: want to lead a flight")
	wantEntry(t, c, "k", cache.StateLoading)
	for i := range 3 {
		l := c.Lookup("k")
		assert.False(t, l.Lead, "lookup %d while loading: want to join the leader's flight", i)
		assert.Same(t, lead.Flight, l.Flight, "lookup %d while loading: want to join the leader's flight", i)
	}
	other := c.Lookup("other")
	assert.True(t, other.Lead, "another key: want a flight of its own")
	assert.NotSame(t, lead.Flight, other.Flight, "another key: want a flight of its own")
	lead.Flight.Land(cache.Result[string]{Err: errors.New("failed")})
	wantEntry(t, c, "k", cache.StateAbsent)
	next := c.Lookup("k")
	assert.True(t, next.Lead, "after the landing: want to lead a new flight")
	assert.NotSame(t, lead.Flight, next.Flight, "after the landing: want to lead a new flight")
}

// Followers get exactly what the leader landed, Origin included; the
// leader's value, Put before the landing, is fresh for the lookups after.
func TestFollowersGetWhatTheLeaderLanded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := minuteCache(t, enginetest.NewClock(time.Time{}))
		lead := c.Lookup("k")
		const followers = 3
		got := make(chan cache.Result[string], followers)
		var wg sync.WaitGroup
		for range followers {
			wg.Go(func() {
				l := c.Lookup("k")
				// assert, not require: require stops only the goroutine it runs in.
				if !assert.False(t, l.Lead, "follower: want to join") || !assert.NotNil(t, l.Flight, "follower: want to join") {
					return
				}
				r, err := l.Flight.Wait(context.Background())
				assert.NoError(t, err, "Wait")
				got <- r
			})
		}
		synctest.Wait() // every follower waits
		want := cache.Result[string]{Value: "v", Age: 5 * time.Second, Origin: 7}
		c.Put("k", "v")
		lead.Flight.Land(want)
		wg.Wait()
		close(got)
		for r := range got {
			assert.Equal(t, want, r, "follower's result")
		}
		l := c.Lookup("k")
		assert.True(t, l.Hit, "after the landing: want the value the leader put")
		assert.Equal(t, "v", l.Value, "after the landing: want the value the leader put")
	})
}

func TestWaitEndsWithItsContext(t *testing.T) {
	c := minuteCache(t, enginetest.NewClock(time.Time{}))
	lead := c.Lookup("k")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Lookup("k").Flight.Wait(ctx)
	assert.ErrorIs(t, err, context.Canceled, "Wait with an ended context")
	lead.Flight.Land(cache.Result[string]{Value: "v"})
	r, err := lead.Flight.Wait(context.Background())
	assert.NoError(t, err, "Wait after the landing: want the result at once")
	assert.Equal(t, "v", r.Value, "Wait after the landing: want the result at once")
}

func TestLandingTwicePanics(t *testing.T) {
	c := minuteCache(t, enginetest.NewClock(time.Time{}))
	f := c.Lookup("k").Flight
	f.Land(cache.Result[string]{})
	assert.Panics(t, func() { f.Land(cache.Result[string]{}) }, "a second Land")
}

// A read during a flight serves a value kept stale, and a release leaves
// it stale; a value put meanwhile makes the entry fresh.
func TestAFlightKeepsTheStaleValue(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	c.Put("k", "old")
	clk.Advance(2 * time.Minute)
	lead := c.Lookup("k")
	require.True(t, lead.Lead, "a lookup of a stale entry: want to lead")
	assert.Equal(t, getResult{"old", 2 * time.Minute, false, true}, get(c, "k"), "a read while loading: want the stale value")
	lead.Flight.Land(cache.Result[string]{Err: errors.New("failed")})
	wantEntry(t, c, "k", cache.StateStale)
}

func TestKeyIsTheConfigsKeyOfTheContext(t *testing.T) {
	type userKey struct{}
	c, err := cache.New[string](cache.Config{Key: func(ctx context.Context) string {
		id, _ := ctx.Value(userKey{}).(string)
		return id
	}})
	require.NoError(t, err)
	assert.Equal(t, "u-42", c.Key(context.WithValue(context.Background(), userKey{}, "u-42")), "Key")
	one, err := cache.New[string](cache.Config{})
	require.NoError(t, err)
	assert.Empty(t, one.Key(context.Background()), "Key without Config.Key: want one key for every call")
}
