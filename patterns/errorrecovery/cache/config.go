package cache

import (
	"context"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a Cache. A zero Config consists entirely of default
// values (DefaultConfig): a 300 s TTL, 1000 entries, stale entries served
// to failed calls until evicted, one key for every call, and coalescing.
// Turning a feature off is spelled with a negative value or a Disable
// field, never with zero.
type Config struct {
	// TTL is how long an entry is fresh: a lookup within it is answered
	// from the cache. Zero means 300 s. It must not be negative.
	TTL time.Duration
	// MaxEntries bounds the entries holding a value, stale ones included;
	// the least recently used goes first. Zero means 1000. It must not be
	// negative.
	MaxEntries int
	// Key computes the entry a call reads and writes from its context (a
	// user id, a URL). Nil means one entry for every call.
	Key func(ctx context.Context) string
	// MaxStale is how long past its TTL an entry is kept, stale, to answer
	// a call that failed (Get, and a workflow's Fallback state), reporting
	// its age. A stale entry is never served as fresh. Zero means until
	// the entry is evicted; negative means never (stale on error is off):
	// an entry is dropped when its TTL runs out, as net.Dialer's negative
	// KeepAlive turns keep-alives off.
	MaxStale time.Duration
	// DisableCoalescing makes every lookup that finds no fresh value a
	// plain miss. False (the zero value) means coalescing: concurrent
	// lookups of one key share one flight, whose leader calls the
	// function while the others wait for its result.
	DisableCoalescing bool
}

// Defaults of a zero Config's fields.
const (
	defaultTTL        = 300 * time.Second
	defaultMaxEntries = 1000
)

// DefaultConfig returns the config a zero Config means: a 300 s TTL, 1000
// entries, stale entries served on error until evicted, coalescing on, one
// entry for every call.
func DefaultConfig() Config {
	return Config{TTL: defaultTTL, MaxEntries: defaultMaxEntries}
}

// Validate reports the first invalid field as an
// *errorrecovery.ConfigError (the one error type of every package of
// errorrecovery for an invalid field) whose Config is "cache.Config".
func (c *Config) Validate() error {
	const name = "cache.Config"
	switch {
	case c.TTL < 0:
		return setup.Err(name, "TTL", c.TTL, "must not be negative (zero means 300s)")
	case c.MaxEntries < 0:
		return setup.Err(name, "MaxEntries", c.MaxEntries, "must not be negative (zero means 1000)")
	}
	return nil
}

// resolved returns c with each zero field set to its default.
func (c Config) resolved() Config {
	if c.TTL == 0 {
		c.TTL = defaultTTL
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = defaultMaxEntries
	}
	return c
}
