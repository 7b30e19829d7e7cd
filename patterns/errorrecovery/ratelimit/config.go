package ratelimit

import (
	"time"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Mode says how a limiter hands out the Permits of each Period.
type Mode uint8

// The modes.
const (
	// ModeSmooth spaces permits evenly, one every Period/Permits, with at
	// most Burst of them taken at once after an idle spell. It is
	// golang.org/x/time/rate's token bucket: rate Permits/Period, burst
	// Burst. The zero Mode and the default.
	ModeSmooth Mode = iota
	// ModeBursty gives a window's Permits at once: time is cut into
	// windows of Period from the limiter's start, and each window's
	// Permits may all be taken the moment it begins. Permits a window
	// does not use are lost. It is failsafe-go's bursty rate limiter and
	// resilience4j's.
	ModeBursty
)

var modeNames = []string{"smooth", "bursty"}

// String returns the mode's name.
func (m Mode) String() string { return enum.String(modeNames, m, "ratelimit.Mode") }

// Config configures a limiter (New). In every field zero means the
// default, so a zero Config is DefaultConfig and a literal names only
// what differs: Config{Permits: 50} is 50 permits a second, spaced
// evenly, none waited for.
//
// MaxWait's default is to wait for nothing, which is also a spelling of
// "none"; the other end, a wait with no bound, is spelled NoMaxWait (a
// negative duration), as every "none" of the project is.
type Config struct {
	// Permits is the number of permits per Period. Zero means the
	// default, 100. It must not be negative, is at most 1<<30, and at
	// most Period in nanoseconds: one permit a nanosecond at most.
	Permits int
	// Period is the time over which Permits are given. Zero means the
	// default, one second. It must not be negative and is at most 24h.
	// In ModeSmooth the spacing Period/Permits is rounded down to a
	// nanosecond.
	Period time.Duration
	// Mode is ModeSmooth (the zero value and the default) or ModeBursty.
	Mode Mode
	// Burst is, in ModeSmooth, the number of permits that may be taken at
	// once after the limiter has been idle (the size of the token
	// bucket). Zero means the default, 1: strictly even spacing. It must
	// not be negative, is at most Permits, and must be zero in ModeBursty,
	// whose burst is a window's Permits.
	Burst int
	// MaxWait is how long a call may wait for its permit (Reserve, Wait,
	// Protect; Allow never waits). A call whose permit would come later
	// is rejected at once with an *Error carrying the wait. Zero means the
	// default: no wait, a call without a permit free is rejected at once
	// (as x/time/rate's Allow and failsafe-go's default). NoMaxWait (any
	// negative duration) means no bound: a call waits as long as its
	// permit needs, or until its context ends. At most 24h.
	MaxWait time.Duration
}

// NoMaxWait as Config.MaxWait lets a call wait as long as its permit
// needs, or until its context ends.
const NoMaxWait time.Duration = -1

// The defaults, which a zero field means.
const (
	defaultPermits = 100
	defaultPeriod  = time.Second
	defaultBurst   = 1
)

// Bounds of a Config.
const (
	maxPermits  = 1 << 30
	maxDuration = 24 * time.Hour
	configName  = "ratelimit.Config"
)

// DefaultConfig returns what a zero Config means: 100 permits a second,
// spaced evenly (one every 10ms, a burst of 1), and no waiting.
func DefaultConfig() Config {
	return Config{Permits: defaultPermits, Period: defaultPeriod, Mode: ModeSmooth, Burst: defaultBurst}
}

// Validate reports the first invalid field as a *setup.ConfigError (an
// errorrecovery.ConfigError) naming it, or nil. New calls it.
func (c *Config) Validate() error {
	r := c.resolved()
	switch {
	case c.Permits < 0:
		return setup.Err(configName, "Permits", c.Permits, "must not be negative (zero means 100)")
	case c.Permits > maxPermits:
		return setup.Err(configName, "Permits", c.Permits, "must be at most 1<<30")
	case c.Period < 0:
		return setup.Err(configName, "Period", c.Period, "must not be negative (zero means 1s)")
	case c.Period > maxDuration:
		return setup.Err(configName, "Period", c.Period, "must be at most 24h")
	case c.Mode > ModeBursty:
		return setup.Err(configName, "Mode", c.Mode, "must be ModeSmooth or ModeBursty")
	case time.Duration(r.Permits) > r.Period:
		return setup.Err(configName, "Permits", c.Permits, "must be at most Period in nanoseconds (one permit a nanosecond)")
	case c.Burst < 0:
		return setup.Err(configName, "Burst", c.Burst, "must not be negative (zero means 1)")
	case r.Mode == ModeBursty && c.Burst != 0:
		return setup.Err(configName, "Burst", c.Burst, "must be zero in ModeBursty (its burst is a window's Permits)")
	case r.Burst > r.Permits:
		return setup.Err(configName, "Burst", c.Burst, "must be at most Permits")
	case c.MaxWait > maxDuration:
		return setup.Err(configName, "MaxWait", c.MaxWait, "must be at most 24h (NoMaxWait, a negative duration, means no bound)")
	}
	return nil
}

// Resolve returns the limiter c describes with every field spelled out:
// each zero replaced by its default (Burst stays zero in ModeBursty), and
// a negative MaxWait by NoMaxWait. Two configs that mean the same resolve
// equal, and a resolved config resolves to itself. An invalid c returns
// the error Validate reports.
func (c *Config) Resolve() (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c.resolved(), nil
}

func (c Config) resolved() Config {
	if c.Permits == 0 {
		c.Permits = defaultPermits
	}
	if c.Period == 0 {
		c.Period = defaultPeriod
	}
	if c.Mode == ModeSmooth && c.Burst == 0 {
		c.Burst = defaultBurst
	}
	c.MaxWait = setup.Or(c.MaxWait, 0, NoMaxWait)
	return c
}
