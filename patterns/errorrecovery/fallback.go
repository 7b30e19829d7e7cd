package errorrecovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
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
	// UseCache keeps successful results for CacheTTL and answers a failed
	// call with one. The cache is
	// read only on failure; for read-through caching add the CACHE strategy.
	UseCache bool
	// CacheTTL is how long a result serves as a fallback. Zero means the
	// default, 300s. At most 24h.
	CacheTTL time.Duration
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
