package breaker

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a circuit breaker (New). A zero Config consists
// entirely of default values: every field's zero means the default that
// DefaultConfig spells out, and each field says what that is. What turns
// a rule off, or asks for no wait, is spelled with a negative value (or
// CountOnly), never with zero; the rate rules and the slow-call rule are
// off by default, so their zero means off.
//
// The breaker opens when, in its window of recent outcomes, any rule that
// is on reaches its threshold (thresholds are inclusive, >=): the failure
// count, the failure rate, or the slow-call rate. The rules are judged
// whenever an outcome changes the window, a success as well as a
// failure. docs/circuit-breaker.md explains each rule and why it is so.
type Config struct {
	// FailureThreshold is the number of failures in the window that opens
	// the breaker. Zero means the default, 5; a negative value turns the
	// count rule off (leaving the rate rules). It may not exceed WindowSize,
	// which bounds the failures a window can hold.
	FailureThreshold int

	// SuccessThreshold is the number of consecutive successful trial
	// calls in half-open that close the breaker. Zero means the default, 2.
	// At most 1<<20.
	SuccessThreshold int

	// OpenTimeout is how long the breaker stays open before it lets trial
	// calls through (half-open). Zero means the default, 60s. A negative
	// value means no wait: the breaker goes half-open as soon as its clock
	// runs due timers. At most 24h.
	OpenTimeout time.Duration

	// OpenTimeoutMultiplier grows the open timeout on repeated opens: the
	// n-th open since the breaker last closed lasts
	// OpenTimeout * OpenTimeoutMultiplier^(n-1), capped by MaxOpenTimeout.
	// Zero means the default, 1 (no growth); otherwise it must be at least
	// 1, and at most 100.
	OpenTimeoutMultiplier float64

	// MaxOpenTimeout caps the grown open timeout. Zero means the default,
	// no cap (the timeout saturates at the largest time.Duration);
	// otherwise it must be at least OpenTimeout (60s when that is zero),
	// and at most 24h.
	MaxOpenTimeout time.Duration

	// WindowSize is the number of most recent outcomes the breaker judges
	// by while closed. Zero means the default, 10. At most 1<<20.
	WindowSize int

	// WindowDuration also drops outcomes older than it from the window,
	// in ten time buckets of WindowDuration/10: an outcome stops counting
	// when the bucket it fell in is ten buckets old, so no outcome older
	// than WindowDuration counts and none younger than 9/10 of it is
	// dropped. Every outcome then reads the clock. Zero means the default,
	// 60s. A negative value (CountOnly) means a count-only window, the last
	// WindowSize outcomes whatever their age, whose success path reads no
	// clock and takes no lock. At most 24h.
	WindowDuration time.Duration

	// FailureRateThreshold, in (0, 1], opens the breaker when the share of
	// failures among the outcomes in the window reaches it, once the window
	// holds at least MinimumCalls outcomes. Zero means the default: the
	// rule is off.
	FailureRateThreshold float64

	// MinimumCalls is the number of outcomes the window must hold before
	// the rate rules (failure rate, slow-call rate) apply. Zero means the
	// default, WindowSize (a full window); it may not exceed WindowSize.
	MinimumCalls int

	// SlowCallDuration is the duration above which a call is slow
	// (strictly greater). Zero means the default: no call is slow, and the
	// slow-call rule is off. With it set, a permit reads the clock when it
	// is taken and when it is done. At most 24h.
	SlowCallDuration time.Duration

	// SlowCallRateThreshold, in (0, 1], opens the breaker when the share of
	// slow calls (successful or not) among the outcomes in the window
	// reaches it, once the window holds at least MinimumCalls outcomes. In
	// half-open a slow trial counts as a failure. Zero means the default:
	// the rule is off. It and SlowCallDuration are set together or not at
	// all.
	SlowCallRateThreshold float64

	// HalfOpenMaxCalls bounds the trial calls in flight at once while
	// half-open; further calls are rejected. Zero means the default,
	// SuccessThreshold. At most 1<<20.
	HalfOpenMaxCalls int

	// Classify says whether a call's non-nil error counts as a failure, a
	// success, or neither (ignored: no outcome is recorded). A nil error is
	// always a success, and Classify is not called for it. Nil means the
	// default, DefaultClassify.
	Classify func(error) Outcome

	// OnOpen, OnClose and OnHalfOpen are called when the breaker enters the
	// named state from another one, with the state it left and the state
	// it entered. They run after the breaker's lock is released, one at a
	// time, in transition order, in the goroutine whose call caused the
	// transition (the clock's timer goroutine for open -> half-open). They
	// may read the breaker (State, Metrics, Allow) but must not change its
	// state (Permit.Done or Abandon, which may fire the outcome, a success
	// included; ForceOpen, ForceClosed, Reset): that deadlocks. Nil means
	// the default, no callback.
	OnOpen     func(from, to State)
	OnClose    func(from, to State)
	OnHalfOpen func(from, to State)
}

// CountOnly is the WindowDuration of a count-only window: the breaker
// judges by the last WindowSize outcomes, whatever their age. Any
// negative WindowDuration means the same.
const CountOnly time.Duration = -1

// DefaultConfig returns the defaults, which are what a zero Config means:
// open after 5 failures among the last 10 outcomes of the last 60
// seconds, stay open 60 seconds, close after 2 successful trials. The
// fields it leaves zero (the rate and slow-call rules, growth of the open
// timeout) are off; those whose default follows another field
// (MinimumCalls, HalfOpenMaxCalls) are zero, so that they follow it. The
// 60-second window makes every outcome read the clock; set WindowDuration
// to CountOnly for the count-only window and its lock-free, clock-free
// success path.
func DefaultConfig() Config {
	return Config{
		FailureThreshold: defaultFailures,
		SuccessThreshold: defaultSuccesses,
		OpenTimeout:      defaultOpenTimeout,
		WindowSize:       defaultWindowSize,
		WindowDuration:   defaultWindowDuration,
	}
}

// Outcome is how a call's result counts for a circuit breaker.
type Outcome uint8

// The outcomes. The zero Outcome is not one of them; a Classify function
// returning it (or any other unknown value) counts a failure.
const (
	OutcomeSuccess Outcome = iota + 1 // counts as a success
	OutcomeFailure                    // counts as a failure
	OutcomeIgnore                     // not recorded at all
)

var outcomeNames = []string{"", "success", "failure", "ignore"}

// String returns the outcome's lower-case name.
func (o Outcome) String() string { return enum.String(outcomeNames, o, "breaker.Outcome") }

// DefaultClassify is the classification a breaker uses when
// Config.Classify is nil: context.Canceled (the caller gave
// up, which says nothing about the dependency) is ignored, every other
// error is a failure. A context.DeadlineExceeded is a failure: the
// dependency was too slow.
func DefaultClassify(err error) Outcome {
	if errors.Is(err, context.Canceled) {
		return OutcomeIgnore
	}
	return OutcomeFailure
}

// Validate reports the first invalid field as a *setup.ConfigError
// (errorrecovery.ConfigError) naming it, or nil. New calls it.
func (c *Config) Validate() error {
	_, err := c.resolve()
	return err
}

// Resolve returns the breaker c describes with every field spelled out:
// each zero replaced by the default it means (MinimumCalls by WindowSize,
// HalfOpenMaxCalls by SuccessThreshold, Classify by DefaultClassify), and
// each value that turns something off in one spelling: -1 for
// FailureThreshold and OpenTimeout, CountOnly for WindowDuration. Zero
// stays zero where it is the default and means off or none (the rate and
// slow-call rules, MaxOpenTimeout's cap). So two configs that resolve
// equal, their functions aside, make breakers that behave alike, and a
// resolved config resolves to itself. An invalid c returns the error
// Validate reports.
func (c *Config) Resolve() (Config, error) {
	s, err := c.resolve()
	if err != nil {
		return Config{}, err
	}
	return s.config(), nil
}

// Bounds and resolved defaults.
const (
	defaultFailures       = 5
	defaultSuccesses      = 2
	defaultOpenTimeout    = 60 * time.Second
	defaultWindowSize     = 10
	defaultWindowDuration = 60 * time.Second
	configName            = "breaker.Config"
	maxWindowSize         = 1 << 20
	maxCount              = 1 << 20 // SuccessThreshold, HalfOpenMaxCalls
	// maxConfigDuration bounds every duration of the config, as it does
	// those of errorrecovery's configs.
	maxConfigDuration = 24 * time.Hour
	// maxMultiplier bounds OpenTimeoutMultiplier, as it does the growth
	// of errorrecovery's backoffs.
	maxMultiplier  = 100
	uncapped       = time.Duration(math.MaxInt64)
	windowBuckets  = 10
	minBucketWidth = time.Nanosecond
)

// settings is a validated config with every default filled in. It is
// read-only once the breaker is built.
type settings struct {
	failureThreshold int // 0: the count rule is off
	successThreshold int
	openTimeout      time.Duration // 0: no wait
	multiplier       float64       // >= 1
	maxOpenTimeout   time.Duration
	windowSize       int
	windowDuration   time.Duration // 0: count-only window
	failureRate      float64       // 0: off
	minimumCalls     int
	slowCall         time.Duration // 0: off
	slowRate         float64       // 0: off
	halfOpenMax      int
	classify         func(error) Outcome
	onOpen           func(from, to State)
	onClose          func(from, to State)
	onHalfOpen       func(from, to State)
}

func fieldErr(field string, value any, reason string) error {
	return setup.Err(configName, field, value, reason)
}

func badRate(r float64) bool { return math.IsNaN(r) || r < 0 || r > 1 }

// resolve checks c and fills in its defaults.
func (c *Config) resolve() (settings, error) {
	s := settings{
		failureThreshold: c.FailureThreshold,
		successThreshold: c.SuccessThreshold,
		openTimeout:      c.OpenTimeout,
		multiplier:       c.OpenTimeoutMultiplier,
		maxOpenTimeout:   c.MaxOpenTimeout,
		windowSize:       c.WindowSize,
		windowDuration:   c.WindowDuration,
		failureRate:      c.FailureRateThreshold,
		minimumCalls:     c.MinimumCalls,
		slowCall:         c.SlowCallDuration,
		slowRate:         c.SlowCallRateThreshold,
		halfOpenMax:      c.HalfOpenMaxCalls,
		classify:         c.Classify,
		onOpen:           c.OnOpen,
		onClose:          c.OnClose,
		onHalfOpen:       c.OnHalfOpen,
	}
	switch {
	case s.windowSize < 0 || s.windowSize > maxWindowSize:
		return s, fieldErr("WindowSize", c.WindowSize, "must be between 0 (default 10) and 1<<20")
	case s.windowSize == 0:
		s.windowSize = defaultWindowSize
	}
	switch {
	case s.failureThreshold == 0:
		s.failureThreshold = defaultFailures
	case s.failureThreshold < 0:
		s.failureThreshold = 0
	}
	if s.failureThreshold > s.windowSize {
		return s, fieldErr("FailureThreshold", c.FailureThreshold,
			"exceeds WindowSize ("+strconv.Itoa(s.windowSize)+"), so the window could never hold that many failures")
	}
	switch {
	case s.successThreshold < 0:
		return s, fieldErr("SuccessThreshold", c.SuccessThreshold, "must not be negative")
	case s.successThreshold > maxCount:
		return s, fieldErr("SuccessThreshold", c.SuccessThreshold, "must be at most 1<<20")
	case s.successThreshold == 0:
		s.successThreshold = defaultSuccesses
	}
	switch {
	case s.openTimeout == 0:
		s.openTimeout = defaultOpenTimeout
	case s.openTimeout < 0:
		s.openTimeout = 0 // no wait
	case s.openTimeout > maxConfigDuration:
		return s, fieldErr("OpenTimeout", c.OpenTimeout, "must be at most 24h (zero means 60s, negative no wait)")
	}
	switch m := s.multiplier; {
	case m == 0:
		s.multiplier = 1
	case math.IsNaN(m) || math.IsInf(m, 0) || m < 1 || m > maxMultiplier:
		return s, fieldErr("OpenTimeoutMultiplier", m, "must be 0 (no growth) or a number from 1 to 100")
	}
	switch {
	case s.maxOpenTimeout < 0:
		return s, fieldErr("MaxOpenTimeout", c.MaxOpenTimeout, "must not be negative")
	case s.maxOpenTimeout > maxConfigDuration:
		return s, fieldErr("MaxOpenTimeout", c.MaxOpenTimeout, "must be at most 24h (zero means no cap)")
	case s.maxOpenTimeout == 0:
		s.maxOpenTimeout = uncapped
	case s.maxOpenTimeout < s.openTimeout:
		return s, fieldErr("MaxOpenTimeout", c.MaxOpenTimeout, "is less than OpenTimeout ("+s.openTimeout.String()+")")
	}
	switch {
	case s.windowDuration == 0:
		s.windowDuration = defaultWindowDuration
	case s.windowDuration < 0:
		s.windowDuration = 0 // count-only
	case s.windowDuration > maxConfigDuration:
		return s, fieldErr("WindowDuration", c.WindowDuration, "must be at most 24h (zero means 60s, negative a count-only window)")
	}
	if badRate(s.failureRate) {
		return s, fieldErr("FailureRateThreshold", s.failureRate, "must be between 0 (off) and 1")
	}
	switch {
	case s.minimumCalls < 0:
		return s, fieldErr("MinimumCalls", c.MinimumCalls, "must not be negative")
	case s.minimumCalls == 0:
		s.minimumCalls = s.windowSize
	case s.minimumCalls > s.windowSize:
		return s, fieldErr("MinimumCalls", c.MinimumCalls,
			"exceeds WindowSize ("+strconv.Itoa(s.windowSize)+"), so the rate rules could never apply")
	}
	switch {
	case s.slowCall < 0:
		return s, fieldErr("SlowCallDuration", c.SlowCallDuration, "must not be negative")
	case s.slowCall > maxConfigDuration:
		return s, fieldErr("SlowCallDuration", c.SlowCallDuration, "must be at most 24h")
	}
	if badRate(s.slowRate) {
		return s, fieldErr("SlowCallRateThreshold", s.slowRate, "must be between 0 (off) and 1")
	}
	if (s.slowCall == 0) != (s.slowRate == 0) {
		if s.slowCall == 0 {
			return s, fieldErr("SlowCallDuration", c.SlowCallDuration, "must be set when SlowCallRateThreshold is")
		}
		return s, fieldErr("SlowCallRateThreshold", s.slowRate, "must be set when SlowCallDuration is")
	}
	if s.failureThreshold == 0 && s.failureRate == 0 && s.slowRate == 0 {
		return s, fieldErr("FailureThreshold", c.FailureThreshold,
			"turns the count rule off, and no rate rule is on: the breaker could never open")
	}
	switch {
	case s.halfOpenMax < 0:
		return s, fieldErr("HalfOpenMaxCalls", c.HalfOpenMaxCalls, "must not be negative")
	case s.halfOpenMax > maxCount:
		return s, fieldErr("HalfOpenMaxCalls", c.HalfOpenMaxCalls, "must be at most 1<<20")
	case s.halfOpenMax == 0:
		s.halfOpenMax = s.successThreshold
	}
	if s.classify == nil {
		s.classify = DefaultClassify
	}
	return s, nil
}

// config spells s out as a Config (Resolve).
func (s *settings) config() Config {
	c := Config{
		FailureThreshold:      s.failureThreshold,
		SuccessThreshold:      s.successThreshold,
		OpenTimeout:           s.openTimeout,
		OpenTimeoutMultiplier: s.multiplier,
		MaxOpenTimeout:        s.maxOpenTimeout,
		WindowSize:            s.windowSize,
		WindowDuration:        s.windowDuration,
		FailureRateThreshold:  s.failureRate,
		MinimumCalls:          s.minimumCalls,
		SlowCallDuration:      s.slowCall,
		SlowCallRateThreshold: s.slowRate,
		HalfOpenMaxCalls:      s.halfOpenMax,
		Classify:              s.classify,
		OnOpen:                s.onOpen,
		OnClose:               s.onClose,
		OnHalfOpen:            s.onHalfOpen,
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = -1 // the count rule is off
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = -1 // no wait
	}
	if c.MaxOpenTimeout == uncapped {
		c.MaxOpenTimeout = 0
	}
	if c.WindowDuration == 0 {
		c.WindowDuration = CountOnly
	}
	return c
}

// failureRateOver reports whether the failure-rate rule, if on, holds
// for the counts c: at least MinimumCalls outcomes, and the share of
// failures at or over the threshold.
func (s *settings) failureRateOver(c tally) bool {
	return s.failureRate > 0 && c.calls >= s.minimumCalls && c.failureRate() >= s.failureRate
}

// slowRateOver is failureRateOver for the slow-call rule.
func (s *settings) slowRateOver(c tally) bool {
	return s.slowRate > 0 && c.calls >= s.minimumCalls && c.slowRate() >= s.slowRate
}

// grownTimeout is the open timeout of the n-th consecutive open (n >= 1):
// OpenTimeout * multiplier^(n-1), capped.
func (s *settings) grownTimeout(n int) time.Duration {
	if s.multiplier == 1 || n <= 1 {
		return min(s.openTimeout, s.maxOpenTimeout)
	}
	f := float64(s.openTimeout) * math.Pow(s.multiplier, float64(n-1))
	if f >= float64(s.maxOpenTimeout) {
		return s.maxOpenTimeout
	}
	return time.Duration(f)
}
