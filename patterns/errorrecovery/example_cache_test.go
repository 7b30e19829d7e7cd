package errorrecovery_test

import (
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// An entry is fresh for its TTL; with StaleOnError it is then kept, stale,
// for MaxStale more, to answer calls that fail; then it is dropped.
// EntryState shows where the cache entry machine places it.
func ExampleNewResultCache() {
	clock := enginetest.NewClock(time.Time{})
	cfg := er.DefaultCacheConfig()
	cfg.TTL = time.Minute
	cfg.StaleOnError = true
	cfg.MaxStale = 10 * time.Minute
	rates, err := er.NewResultCache[float64](cfg, clock)
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(rates.EntryState("EUR/USD"))
	rates.Put("EUR/USD", 1.08)
	for _, wait := range []time.Duration{0, 2 * time.Minute, 10 * time.Minute} {
		clock.Advance(wait)
		rate, age, fresh, ok := rates.Get("EUR/USD")
		fmt.Println(rate, age, fresh, ok, rates.EntryState("EUR/USD"))
	}
	// Output:
	// Absent
	// 1.08 0s true true Fresh
	// 1.08 2m0s false true Stale
	// 0 0s false false Absent
}
