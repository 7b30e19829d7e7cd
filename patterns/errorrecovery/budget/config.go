package budget

import (
	"math"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a retry budget (New). In every field zero means the
// default, Finagle's, so a zero Config is DefaultConfig and a literal
// names only what differs: Config{Ratio: 0.1} lets retries reach a tenth
// of recent executions, plus 10 a second. "None" is spelled with a
// negative value: NoRatio, NoMinimum.
type Config struct {
	// Ratio is the share of recent executions that may be retried: with
	// 0.2, 100 executions in the window allow 20 retries (on top of the
	// minimum). Zero means the default, 0.2. NoRatio (any negative value)
	// means none: only the minimum is allowed. At most 100; it is kept to
	// a millionth.
	Ratio float64
	// MinPerSecond is the number of retries per second of Window allowed
	// whatever the traffic, so that a service with few calls can still
	// retry: 10 with a 10s Window allows 100 retries in the window. Zero
	// means the default, 10. NoMinimum (any negative value) means none.
	// At most 1<<20.
	MinPerSecond int
	// Window is how long an execution or a retry counts: the budget is
	// judged over the executions and retries of about the last Window,
	// cut into 10 slices (see the package documentation). Zero means the
	// default, 10s. It must be between 1s and 60s, as Finagle requires.
	Window time.Duration
}

// The spellings of "none" in a Config.
const (
	// NoRatio as Config.Ratio: executions earn no retries; only the
	// minimum is allowed.
	NoRatio = -1.0
	// NoMinimum as Config.MinPerSecond: no retries without executions to
	// earn them.
	NoMinimum = -1
)

// The defaults, which a zero field means: Finagle's RetryBudget.
const (
	defaultRatio        = 0.2
	defaultMinPerSecond = 10
	defaultWindow       = 10 * time.Second
)

// Bounds of a Config.
const (
	maxRatio        = 100
	maxMinPerSecond = 1 << 20
	minWindow       = time.Second
	maxWindow       = time.Minute
	configName      = "budget.Config"
)

// DefaultConfig returns what a zero Config means, Finagle's defaults:
// retries up to a fifth of the executions of the last 10 seconds, plus 10
// a second.
func DefaultConfig() Config {
	return Config{Ratio: defaultRatio, MinPerSecond: defaultMinPerSecond, Window: defaultWindow}
}

// Validate reports the first invalid field as a *setup.ConfigError (an
// errorrecovery.ConfigError) naming it, or nil. New calls it.
func (c *Config) Validate() error {
	r := c.resolved()
	switch {
	case math.IsNaN(c.Ratio) || c.Ratio > maxRatio:
		return setup.Err(configName, "Ratio", c.Ratio, "must be at most 100 (zero means 0.2, a negative value none)")
	case c.MinPerSecond > maxMinPerSecond:
		return setup.Err(configName, "MinPerSecond", c.MinPerSecond, "must be at most 1<<20 (zero means 10, a negative value none)")
	case c.Window < 0 || (c.Window != 0 && c.Window < minWindow) || c.Window > maxWindow:
		return setup.Err(configName, "Window", c.Window, "must be between 1s and 60s (zero means 10s)")
	case r.Ratio < 0 && r.MinPerSecond < 0:
		return setup.Err(configName, "MinPerSecond", c.MinPerSecond, "must not be none when Ratio is none too: no retry would ever be allowed")
	}
	return nil
}

// Resolve returns the budget c describes with every field spelled out:
// each zero replaced by its default, and any negative value by NoRatio
// or NoMinimum. Two configs that mean the same resolve equal, and a
// resolved config resolves to itself. An invalid c returns the error
// Validate reports.
func (c *Config) Resolve() (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c.resolved(), nil
}

func (c Config) resolved() Config {
	c.Ratio = setup.Or(c.Ratio, defaultRatio, NoRatio)
	c.MinPerSecond = setup.Or(c.MinPerSecond, defaultMinPerSecond, NoMinimum)
	if c.Window == 0 {
		c.Window = defaultWindow
	}
	return c
}
