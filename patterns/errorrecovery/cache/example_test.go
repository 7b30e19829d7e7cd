package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// An entry is fresh for its TTL; it is then kept, stale, for MaxStale
// more, to answer calls that fail; then it is dropped. State shows where
// the cache entry machine places it.
func ExampleNew() {
	clock := enginetest.NewClock(time.Time{})
	rates, err := cache.New[float64](cache.Config{TTL: time.Minute, MaxStale: 10 * time.Minute}, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(rates.State("EUR/USD"))
	rates.Put("EUR/USD", 1.08)
	for _, wait := range []time.Duration{0, 2 * time.Minute, 10 * time.Minute} {
		clock.Advance(wait)
		rate, age, fresh, ok := rates.Get("EUR/USD")
		fmt.Println(rate, age, fresh, ok, rates.State("EUR/USD"))
	}
	// Output:
	// Absent
	// 1.08 0s true true Fresh
	// 1.08 2m0s false true Stale
	// 0 0s false false Absent
}

// A read-through of one's own on the cache's protocol: a fresh value
// answers; otherwise the call leads the flight (or joins the one in
// progress), loads, keeps what it loaded, and lands the flight. When the
// load fails, a stale value answers.
func ExampleCache_Lookup() {
	clock := enginetest.NewClock(time.Time{})
	prices, err := cache.New[int](cache.Config{TTL: time.Minute}, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	var loadErr error
	load := func(context.Context) (int, error) { return 42, loadErr }

	get := func(ctx context.Context) (int, error) {
		key := prices.Key(ctx)
		l := prices.Lookup(key)
		switch {
		case l.Hit:
			return l.Value, nil
		case l.Flight != nil && !l.Lead:
			if r, err := l.Flight.Wait(ctx); err == nil && r.Err == nil {
				return r.Value, nil
			}
		}
		v, err := load(ctx)
		if err == nil {
			prices.Put(key, v)
		} else if old, _, _, ok := prices.Get(key); ok {
			v, err = old, nil
		}
		if l.Lead {
			l.Flight.Land(cache.Result[int]{Value: v, Err: err})
		}
		return v, err
	}

	ctx := context.Background()
	fmt.Println(get(ctx))
	fmt.Println(prices.State(""))
	clock.Advance(2 * time.Minute)
	loadErr = errors.New("price service down")
	fmt.Println(get(ctx))
	fmt.Println(prices.State(""))
	// Output:
	// 42 <nil>
	// Fresh
	// 42 <nil>
	// Stale
}
