package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

func TestLookupAnswersOnlyAFreshValue(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{TTL: time.Minute, DisableCoalescing: true}, clk)
	if l := c.Lookup("k"); l.Hit || l.Flight != nil {
		t.Errorf("an absent key: %+v, want a plain miss", l)
	}
	c.Put("k", "v")
	clk.Advance(20 * time.Second)
	if l := c.Lookup("k"); !l.Hit || l.Value != "v" || l.Age != 20*time.Second || l.Flight != nil {
		t.Errorf("a fresh entry: %+v, want it, 20s old", l)
	}
	clk.Advance(time.Minute)
	if l := c.Lookup("k"); l.Hit || l.Flight != nil {
		t.Errorf("a stale entry: %+v, want a plain miss", l)
	}
}

// The first lookup that misses leads a flight; the others join it, until
// the leader lands it. Landing ends the flight for the entry, so the next
// lookup that misses leads a new one.
func TestOneLeaderPerFlight(t *testing.T) {
	c := minuteCache(t, enginetest.NewClock(time.Time{}))
	lead := c.Lookup("k")
	if !lead.Lead || lead.Flight == nil {
		t.Fatalf("first lookup: %+v, want to lead a flight", lead)
	}
	wantEntry(t, c, "k", cache.StateLoading)
	for i := range 3 {
		if l := c.Lookup("k"); l.Lead || l.Flight != lead.Flight {
			t.Errorf("lookup %d while loading: %+v, want to join the leader's flight", i, l)
		}
	}
	if other := c.Lookup("other"); !other.Lead || other.Flight == lead.Flight {
		t.Errorf("another key: %+v, want a flight of its own", other)
	}
	lead.Flight.Land(cache.Result[string]{Err: errors.New("failed")})
	wantEntry(t, c, "k", cache.StateAbsent)
	if next := c.Lookup("k"); !next.Lead || next.Flight == lead.Flight {
		t.Errorf("after the landing: %+v, want to lead a new flight", next)
	}
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
				if l.Lead || l.Flight == nil {
					t.Errorf("follower: %+v, want to join", l)
					return
				}
				r, err := l.Flight.Wait(context.Background())
				if err != nil {
					t.Errorf("Wait: %v", err)
				}
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
			if r != want {
				t.Errorf("follower got %+v, want %+v", r, want)
			}
		}
		if l := c.Lookup("k"); !l.Hit || l.Value != "v" {
			t.Errorf("after the landing: %+v, want the value the leader put", l)
		}
	})
}

func TestWaitEndsWithItsContext(t *testing.T) {
	c := minuteCache(t, enginetest.NewClock(time.Time{}))
	lead := c.Lookup("k")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Lookup("k").Flight.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with an ended context: %v, want context.Canceled", err)
	}
	lead.Flight.Land(cache.Result[string]{Value: "v"})
	if r, err := lead.Flight.Wait(context.Background()); err != nil || r.Value != "v" {
		t.Errorf("Wait after the landing: %+v %v, want the result at once", r, err)
	}
}

func TestLandingTwicePanics(t *testing.T) {
	c := minuteCache(t, enginetest.NewClock(time.Time{}))
	f := c.Lookup("k").Flight
	f.Land(cache.Result[string]{})
	defer func() {
		if recover() == nil {
			t.Error("a second Land did not panic")
		}
	}()
	f.Land(cache.Result[string]{})
}

// A read during a flight serves a value kept stale, and a release leaves
// it stale; a value put meanwhile makes the entry fresh.
func TestAFlightKeepsTheStaleValue(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	c.Put("k", "old")
	clk.Advance(2 * time.Minute)
	lead := c.Lookup("k")
	if !lead.Lead {
		t.Fatalf("a lookup of a stale entry: %+v, want to lead", lead)
	}
	if v, age, fresh, ok := c.Get("k"); !ok || fresh || v != "old" || age != 2*time.Minute {
		t.Errorf("a read while loading: %q %v fresh=%v ok=%v, want the stale value", v, age, fresh, ok)
	}
	lead.Flight.Land(cache.Result[string]{Err: errors.New("failed")})
	wantEntry(t, c, "k", cache.StateStale)
}

func TestKeyIsTheConfigsKeyOfTheContext(t *testing.T) {
	type userKey struct{}
	c, err := cache.New[string](cache.Config{Key: func(ctx context.Context) string {
		id, _ := ctx.Value(userKey{}).(string)
		return id
	}})
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Key(context.WithValue(context.Background(), userKey{}, "u-42")); k != "u-42" {
		t.Errorf("Key = %q, want u-42", k)
	}
	one, err := cache.New[string](cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if k := one.Key(context.Background()); k != "" {
		t.Errorf("Key without Config.Key = %q, want one key for every call", k)
	}
}
