package perkey

import (
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a Registry (New). In every field zero means the
// default, so a zero Config is DefaultConfig; "none" is spelled with a
// negative value (NoIdleTimeout).
type Config struct {
	// MaxKeys bounds the number of keys the registry holds machines for.
	// Creating the machine of one key more evicts the least recently used
	// key's. Zero means the default, 1024. It must not be negative (a
	// registry is always bounded) and is at most 1<<24.
	MaxKeys int
	// IdleTimeout is how long a key may go unused, with no lease held,
	// before its machine is evicted. It runs on the registry's clock and is
	// checked by a sweep every SweepInterval, so a machine is evicted
	// between IdleTimeout and IdleTimeout+SweepInterval after its last use.
	// Zero means the default, 5 minutes. NoIdleTimeout (any negative
	// duration) means machines are evicted only by the bound. At most 24h.
	IdleTimeout time.Duration
	// SweepInterval is how often the registry looks for idle machines, the
	// granularity of IdleTimeout. Zero means IdleTimeout/4. It must not be
	// negative, is at least 1ms and at most IdleTimeout. It is ignored with
	// NoIdleTimeout.
	SweepInterval time.Duration
}

// NoIdleTimeout as Config.IdleTimeout means machines are never evicted for
// being idle, only when the bound is reached.
const NoIdleTimeout time.Duration = -1

// The defaults, which a zero field means.
const (
	defaultMaxKeys     = 1024
	defaultIdleTimeout = 5 * time.Minute
	sweepsPerTimeout   = 4
)

// Bounds of a Config.
const (
	maxKeys     = 1 << 24
	maxDuration = 24 * time.Hour
	minSweep    = time.Millisecond
)

// configName names Config in a *setup.ConfigError.
const configName = "perkey.Config"

// DefaultConfig returns what a zero Config means: at most 1024 keys, a
// machine evicted after 5 minutes unused, looked for every 75 seconds.
func DefaultConfig() Config {
	return Config{MaxKeys: defaultMaxKeys, IdleTimeout: defaultIdleTimeout, SweepInterval: defaultIdleTimeout / sweepsPerTimeout}
}

// Validate reports the first invalid field as a *setup.ConfigError (an
// errorrecovery.ConfigError) naming it, or nil. New calls it.
func (c *Config) Validate() error {
	_, err := c.Resolve()
	return err
}

// Resolve returns the registry c describes with every field spelled out:
// each zero replaced by the default it means, a negative IdleTimeout by
// NoIdleTimeout (and then SweepInterval by zero, as no sweep runs). Two
// configs that mean the same resolve equal, and a resolved config resolves
// to itself. An invalid c returns the error Validate reports.
func (c *Config) Resolve() (Config, error) {
	switch {
	case c.MaxKeys < 0:
		return Config{}, setup.Err(configName, "MaxKeys", c.MaxKeys, "must not be negative (zero means 1024; a registry is always bounded)")
	case c.MaxKeys > maxKeys:
		return Config{}, setup.Err(configName, "MaxKeys", c.MaxKeys, "must be at most 1<<24")
	case c.IdleTimeout > maxDuration:
		return Config{}, setup.Err(configName, "IdleTimeout", c.IdleTimeout, "must be at most 24h (a negative duration means none)")
	case c.SweepInterval < 0:
		return Config{}, setup.Err(configName, "SweepInterval", c.SweepInterval, "must not be negative (zero means IdleTimeout/4)")
	}
	r := *c
	if r.MaxKeys == 0 {
		r.MaxKeys = defaultMaxKeys
	}
	r.IdleTimeout = setup.Or(r.IdleTimeout, defaultIdleTimeout, NoIdleTimeout)
	if r.IdleTimeout == NoIdleTimeout {
		r.SweepInterval = 0
		return r, nil
	}
	if r.SweepInterval == 0 {
		r.SweepInterval = max(r.IdleTimeout/sweepsPerTimeout, minSweep)
	}
	switch {
	case r.SweepInterval < minSweep:
		return Config{}, setup.Err(configName, "SweepInterval", c.SweepInterval, "must be at least 1ms")
	case r.SweepInterval > r.IdleTimeout && r.IdleTimeout >= minSweep:
		return Config{}, setup.Err(configName, "SweepInterval", c.SweepInterval, "must be at most IdleTimeout")
	}
	return r, nil
}
