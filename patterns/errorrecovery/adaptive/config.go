package adaptive

import (
	"math"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a Limiter (New). In every field zero means the
// default, so a zero Config is DefaultConfig and a literal names only what
// differs; "none" is spelled with a negative value (NoProbe).
type Config struct {
	// InitialLimit is the limit the limiter starts with, before it has
	// measured anything. Zero means the default, 20; it must lie between
	// MinLimit and MaxLimit.
	InitialLimit int
	// MinLimit is the floor: the limit never falls below it. Zero means
	// the default, 1. At least 1.
	MinLimit int
	// MaxLimit is the ceiling: the limit never rises above it. Zero means
	// the default, 1000. At most 1<<20.
	MaxLimit int
	// Smoothing is the share of the way the limit moves towards the
	// window's target at each window, in (0, 1]: 1 jumps to the target,
	// smaller values follow it more slowly and more steadily. Zero means
	// the default, 0.5.
	Smoothing float64
	// Window is how long the limiter collects latency samples before it
	// moves the limit, on the limiter's clock. A window closes with the
	// first call that ends after Window has passed and at least
	// MinSamples calls have ended in it. Zero means the default, 1s. At
	// least 1ms, at most 1h.
	Window time.Duration
	// MinSamples is the number of calls that must end in a window before
	// it closes. Zero means the default, 10. At most 1<<20.
	MinSamples int
	// ProbeEvery is the number of windows between two probes, in which
	// the limiter halves its limit for one window to measure the
	// dependency's latency with its queue drained (the baseline). Zero
	// means the default, 60. NoProbe (any negative value) means the
	// baseline is measured only once, in the first window, and then only
	// ever lowered by faster windows. At most 1<<20.
	ProbeEvery int
}

// NoProbe as Config.ProbeEvery means no periodic probe.
const NoProbe = -1

// The defaults, which a zero field means.
const (
	defaultInitialLimit = 20
	defaultMinLimit     = 1
	defaultMaxLimit     = 1000
	defaultSmoothing    = 0.5
	defaultWindow       = time.Second
	defaultMinSamples   = 10
	defaultProbeEvery   = 60
)

// Bounds of a Config.
const (
	maxCount  = 1 << 20
	minWindow = time.Millisecond
	maxWindow = time.Hour
)

// configName names Config in a *setup.ConfigError.
const configName = "adaptive.Config"

// DefaultConfig returns what a zero Config means.
func DefaultConfig() Config {
	return Config{
		InitialLimit: defaultInitialLimit,
		MinLimit:     defaultMinLimit,
		MaxLimit:     defaultMaxLimit,
		Smoothing:    defaultSmoothing,
		Window:       defaultWindow,
		MinSamples:   defaultMinSamples,
		ProbeEvery:   defaultProbeEvery,
	}
}

// Validate reports the first invalid field as a *setup.ConfigError (an
// errorrecovery.ConfigError) naming it, or nil. New calls it.
func (c *Config) Validate() error {
	_, err := c.Resolve()
	return err
}

// Resolve returns the limiter c describes with every field spelled out:
// each zero replaced by the default it means, a negative ProbeEvery by
// NoProbe. Two configs that mean the same resolve equal, and a resolved
// config resolves to itself. An invalid c returns the error Validate
// reports.
func (c *Config) Resolve() (Config, error) {
	err := func(field string, v any, reason string) (Config, error) {
		return Config{}, setup.Err(configName, field, v, reason)
	}
	switch {
	case c.MinLimit < 0:
		return err("MinLimit", c.MinLimit, "must not be negative (zero means 1)")
	case c.MaxLimit < 0 || c.MaxLimit > maxCount:
		return err("MaxLimit", c.MaxLimit, "must be between 0 (meaning 1000) and 1<<20")
	case c.InitialLimit < 0:
		return err("InitialLimit", c.InitialLimit, "must not be negative (zero means 20)")
	case math.IsNaN(c.Smoothing) || c.Smoothing < 0 || c.Smoothing > 1:
		return err("Smoothing", c.Smoothing, "must be in (0, 1] (zero means 0.5)")
	case c.Window < 0 || (c.Window > 0 && c.Window < minWindow) || c.Window > maxWindow:
		return err("Window", c.Window, "must be between 1ms and 1h (zero means 1s)")
	case c.MinSamples < 0 || c.MinSamples > maxCount:
		return err("MinSamples", c.MinSamples, "must be between 0 (meaning 10) and 1<<20")
	case c.ProbeEvery > maxCount:
		return err("ProbeEvery", c.ProbeEvery, "must be at most 1<<20 (a negative value means no probe)")
	}
	r := *c
	r.MinLimit = setup.Or(r.MinLimit, defaultMinLimit, defaultMinLimit)
	r.MaxLimit = setup.Or(r.MaxLimit, defaultMaxLimit, defaultMaxLimit)
	r.Smoothing = setup.Or(r.Smoothing, defaultSmoothing, defaultSmoothing)
	r.Window = setup.Or(r.Window, defaultWindow, defaultWindow)
	r.MinSamples = setup.Or(r.MinSamples, defaultMinSamples, defaultMinSamples)
	r.ProbeEvery = setup.Or(r.ProbeEvery, defaultProbeEvery, NoProbe)
	if r.InitialLimit == 0 {
		r.InitialLimit = min(max(defaultInitialLimit, r.MinLimit), r.MaxLimit)
	}
	switch {
	case r.MaxLimit < r.MinLimit:
		return err("MaxLimit", c.MaxLimit, "must not be below MinLimit")
	case r.InitialLimit < r.MinLimit || r.InitialLimit > r.MaxLimit:
		return err("InitialLimit", c.InitialLimit, "must lie between MinLimit and MaxLimit")
	}
	return r, nil
}
