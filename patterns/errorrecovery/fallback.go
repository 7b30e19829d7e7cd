package errorrecovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// FallbackConfig configures the FALLBACK strategy: what answers a call
// that failed for good. The sources are tried in this order, each only if
// set, until one answers: a fresh-enough cached result (UseCache), the
// fallback Service, the fallback Func, the fallback Value.
type FallbackConfig[T any] struct {
	// Value is the last resort. HasValue says it is set, since the zero T
	// is a valid fallback.
	Value    T
	HasValue bool
	// Func computes a fallback from the error.
	Func func(err error) (T, error)
	// Service is an alternate implementation called with the caller's
	// context (not the expired one).
	Service func(ctx context.Context) (T, error)
	// On lists the errors that trigger fallback. Empty means every error
	// (deadlines aside, see IgnoreDeadline). Rejections by an open breaker
	// or a full bulkhead are errors like any other here.
	On []ErrorMatcher
	// IgnoreDeadline keeps a passed deadline from triggering fallback:
	// the caller gets the *TimeoutError. False (the default): a passed
	// deadline triggers fallback like any error On admits.
	IgnoreDeadline bool
	// UseCache answers a failed call with the result of an earlier
	// successful call for the same key, younger than CacheTTL.
	//
	// When CACHE takes part, UseCache keeps no cache of its own: the
	// failure is answered from CACHE's entries, keyed by its Key, and
	// CacheTTL bounds how old a stale one may be, within what its TTL and
	// MaxStale already allow (the workflow's cache is made with that
	// MaxStale, so every reader sees one rule). UseCache with a
	// SharedCache, whose rules belong to its other users too, is refused:
	// set its MaxStale instead.
	//
	// Without CACHE, UseCache keeps successful results in a cache read
	// only on failure, whose entries expire at CacheTTL, keyed by Key.
	UseCache bool
	// CacheTTL is how long a result serves as a fallback (see UseCache).
	// Zero means the default, 300s. At most 24h.
	CacheTTL time.Duration
	// Key computes the entry UseCache's own cache keeps a call's result
	// under, and answers its failure from, from the call's context (a
	// user id, a URL), as cache.Config.Key does for CACHE. Without CACHE,
	// UseCache needs it: nil is refused, since one entry for every call
	// would answer one request with another's result (to mean one entry,
	// return a constant). With CACHE it must be nil: CACHE's Key keys
	// the one cache.
	Key func(ctx context.Context) string
}

// DefaultFallbackConfig returns a config with no fallback source set (set
// one), deadlines triggering fallback, and a 300 s cache TTL for UseCache:
// what a zero FallbackConfig means.
func DefaultFallbackConfig[T any]() FallbackConfig[T] {
	return FallbackConfig[T]{CacheTTL: 300 * time.Second}
}

// FallbackValue returns DefaultFallbackConfig with v as the fallback value.
func FallbackValue[T any](v T) FallbackConfig[T] {
	c := DefaultFallbackConfig[T]()
	c.Value, c.HasValue = v, true
	return c
}

// Validate reports the first invalid field as a *ConfigError.
func (c *FallbackConfig[T]) Validate() error {
	const name = "FallbackConfig"
	switch {
	case !c.HasValue && c.Func == nil && c.Service == nil && !c.UseCache:
		return configErr(name, "Value", "unset", "no fallback source: set Value with HasValue, Func, Service or UseCache")
	case c.CacheTTL < 0:
		return configErr(name, "CacheTTL", c.CacheTTL, "must not be negative (zero means 300s)")
	case c.CacheTTL > maxConfigDuration:
		return configErr(name, "CacheTTL", c.CacheTTL, "must be at most 24h (zero means 300s)")
	}
	for _, m := range c.On {
		if m == nil {
			return configErr(name, "On", "nil", "a matcher is nil")
		}
	}
	return nil
}

// checkCache reports a *ConfigError when UseCache or Key does not fit the
// workflow's CACHE: caching says CACHE takes part, shared that it is a
// SharedCache.
func (c *FallbackConfig[T]) checkCache(caching, shared bool) error {
	const name = "FallbackConfig"
	switch {
	case !c.UseCache:
	case shared:
		return configErr(name, "UseCache", true, "a SharedCache keeps its own TTL rules for every workflow that reads it: set its MaxStale to how long its entries may answer failures")
	case caching && c.Key != nil:
		return configErr(name, "Key", "set", "with CACHE, UseCache reads CACHE's entries, keyed by cache.Config.Key: leave FallbackConfig.Key nil")
	case !caching && c.Key == nil:
		return configErr(name, "Key", "nil", "UseCache without CACHE needs a Key: one entry for every call would answer one request with another's result (return a constant to mean one entry)")
	}
	return nil
}

// within returns cc, the config of a workflow's own CACHE, with UseCache's
// CacheTTL folded into its MaxStale: an entry may answer a failure while
// younger than CacheTTL and within what cc allows, whichever ends first.
// A fresh entry stays fresh: CacheTTL does not shorten TTL.
func (c *FallbackConfig[T]) within(cc cache.Config) cache.Config {
	ttl := cmp.Or(cc.TTL, cache.DefaultConfig().TTL)
	horizon := cmp.Or(c.CacheTTL, DefaultFallbackConfig[T]().CacheTTL)
	switch left := horizon - ttl; {
	case cc.MaxStale < 0: // no stale entries: CacheTTL extends nothing
	case left <= 0:
		cc.MaxStale = None
	case cc.MaxStale == 0 || cc.MaxStale > left:
		cc.MaxStale = left
	}
	return cc
}

// ownCache returns the config of UseCache's own cache, when CACHE takes no
// part: read only on failure, so no stale entries and no coalescing; a
// zero CacheTTL is the cache's default TTL, 300s, as it is the fallback's.
func (c *FallbackConfig[T]) ownCache() cache.Config {
	return cache.Config{TTL: c.CacheTTL, Key: c.Key, MaxStale: None, DisableCoalescing: true}
}

// triggers reports whether err calls for a fallback.
func (c *FallbackConfig[T]) triggers(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return !c.IgnoreDeadline
	}
	return len(c.On) == 0 || matchAny(c.On, err)
}

// Source says where a workflow's result came from.
type Source uint8

// The sources of a result. The zero Source is SourceNone, so a Result
// that was never filled says no result.
const (
	SourceNone            Source = iota // no result: the call failed
	SourceFunction                      // the protected function
	SourceCache                         // a fresh cache entry (read-through)
	SourceStaleCache                    // an expired cache entry, served on failure
	SourceFallbackCache                 // a cached result served as a fallback
	SourceFallbackService               // FallbackConfig.Service
	SourceFallbackFunc                  // FallbackConfig.Func
	SourceFallbackValue                 // FallbackConfig.Value
)

var sourceNames = []string{"none", "function", "cache", "stale cache", "fallback cache", "fallback service", "fallback function", "fallback value"}

// String returns the source's name.
func (s Source) String() string { return enum.String(sourceNames, s, "Source") }

// FallbackError reports that a failed call's fallback sources failed too.
// It unwraps to the call's error and each fallback error, so errors.Is
// matches any of them.
type FallbackError struct {
	// Err is the error that triggered the fallback.
	Err error
	// Fallbacks are the errors of the sources tried, in order.
	Fallbacks []error
}

// Error names the original error and the fallbacks' errors.
func (e *FallbackError) Error() string {
	return fmt.Sprintf("errorrecovery: %v; fallback failed too: %v", e.Err, errors.Join(e.Fallbacks...))
}

// Unwrap returns the original error and the fallback errors.
func (e *FallbackError) Unwrap() []error { return append([]error{e.Err}, e.Fallbacks...) }
