package errorrecovery

import (
	"fmt"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"strings"

	"github.com/statecraft/statecraft/internal/enum"
)

// Strategy names a recovery strategy, as configs and the command line
// spell them.
type Strategy uint8

// The strategies. The zero Strategy is invalid, so an unset field is never
// mistaken for a choice.
const (
	StrategyRetry          Strategy = iota + 1 // RETRY: retry with backoff
	StrategyCircuitBreaker                     // CIRCUIT_BREAKER: stop calling a failing dependency for a while
	StrategyFallback                           // FALLBACK: answer from a fallback value, function or service
	StrategyCompensate                         // COMPENSATE: undo what a failed call (or a saga's steps) did
	StrategyDeadline                           // DEADLINE: bound the time an execution may take
	StrategyBulkhead                           // BULKHEAD: bound the calls in flight
	StrategyCache                              // CACHE: serve a cached result
	StrategyRateLimit                          // RATE_LIMIT: keep the attempts under a rate (package ratelimit)
	StrategyBudget                             // BUDGET: allow retries only within a retry budget (package budget)
	StrategyAdaptiveLimit                      // ADAPTIVE_LIMIT: bound the attempts in flight by a limit that follows latency (package adaptive)
	StrategyHedge                              // HEDGE: start another attempt beside a slow one; the first acceptable answer wins
)

// lastStrategy is the highest valid Strategy.
const lastStrategy = StrategyHedge

var strategyNames = []string{"", "RETRY", "CIRCUIT_BREAKER", "FALLBACK", "COMPENSATE", "DEADLINE", "BULKHEAD", "CACHE",
	"RATE_LIMIT", "BUDGET", "ADAPTIVE_LIMIT", "HEDGE"}

// String returns the strategy's name, such as "CIRCUIT_BREAKER".
func (s Strategy) String() string { return enum.String(strategyNames, s, "Strategy") }

// MarshalText returns the strategy's name; an invalid Strategy is an error.
func (s Strategy) MarshalText() ([]byte, error) {
	return enum.Marshal(strategyNames, s, "Strategy", unknownStrategy)
}

// UnmarshalText parses a strategy name, ignoring case; an unknown name is
// an *UnknownNameError, never a silent default, and leaves the zero
// (invalid) Strategy.
func (s *Strategy) UnmarshalText(b []byte) error {
	*s = 0
	return enum.Unmarshal(strategyNames, enum.IgnoreCase, s, b, unknownStrategy)
}

func unknownStrategy(name string) error { return &UnknownNameError{Kind: "strategy", Name: name} }

// ParseStrategy parses a strategy name, ignoring case.
func ParseStrategy(name string) (Strategy, error) {
	var s Strategy
	err := s.UnmarshalText([]byte(name))
	return s, err
}

// Backoff names how a retry's delay grows from one attempt to the next.
type Backoff uint8

// The backoff strategies; n is the 1-based number of the attempt that just
// failed, d the initial delay, m the multiplier and e the exponential delay
// d*m^(n-1) capped by MaxDelay. MaxDelay caps every delay. The zero Backoff
// is invalid.
const (
	BackoffFixed        Backoff = iota + 1 // FIXED: d
	BackoffLinear                          // LINEAR: d*n
	BackoffExponential                     // EXPONENTIAL: d*m^(n-1)
	BackoffJitter                          // JITTER: the exponential delay times 1+U(-j,+j)
	BackoffDecorrelated                    // DECORRELATED: min(cap, U(d, 3*prev)), prev starting at d
	BackoffFullJitter                      // FULL_JITTER: U(0, e), AWS's "full jitter"
	BackoffEqualJitter                     // EQUAL_JITTER: e/2 + U(0, e/2), AWS's "equal jitter"
)

var backoffNames = []string{"", "FIXED", "LINEAR", "EXPONENTIAL", "JITTER", "DECORRELATED", "FULL_JITTER", "EQUAL_JITTER"}

// exponential reports whether b grows by the multiplier: its formula
// starts from d*m^(n-1).
func (b Backoff) exponential() bool {
	switch b {
	case BackoffExponential, BackoffJitter, BackoffFullJitter, BackoffEqualJitter:
		return true
	}
	return false
}

// String returns the backoff's name, such as "EXPONENTIAL".
func (b Backoff) String() string { return enum.String(backoffNames, b, "Backoff") }

// MarshalText returns the backoff's name; an invalid Backoff is an error.
func (b Backoff) MarshalText() ([]byte, error) {
	return enum.Marshal(backoffNames, b, "Backoff", unknownBackoff)
}

// UnmarshalText parses a backoff name, ignoring case; an unknown name is an
// *UnknownNameError and leaves the zero (invalid) Backoff.
func (b *Backoff) UnmarshalText(text []byte) error {
	*b = 0
	return enum.Unmarshal(backoffNames, enum.IgnoreCase, b, text, unknownBackoff)
}

func unknownBackoff(name string) error { return &UnknownNameError{Kind: "backoff", Name: name} }

// ParseBackoff parses a backoff name, ignoring case.
func ParseBackoff(name string) (Backoff, error) {
	var b Backoff
	err := b.UnmarshalText([]byte(name))
	return b, err
}

// UnknownNameError reports a strategy or backoff name that is not one of
// the known ones.
type UnknownNameError struct {
	// Kind is "strategy" or "backoff".
	Kind string
	// Name is the name given.
	Name string
}

// Error names the unknown value and lists the known ones.
func (e *UnknownNameError) Error() string {
	known := strategyNames[1:]
	if e.Kind == "backoff" {
		known = backoffNames[1:]
	}
	return fmt.Sprintf("errorrecovery: unknown %s %q (want one of %s)", e.Kind, e.Name, strings.Join(known, ", "))
}

// ConfigError reports a config field with an invalid value: its Config
// (the config type, such as "RetryConfig" or "breaker.Config"), Field (the
// field's Go name), Value (the value found, printed) and Reason. Every
// package of patterns/errorrecovery returns this one type, so one
// errors.As target matches them all.
type ConfigError = setup.ConfigError

func configErr(config, field string, value any, reason string) *ConfigError {
	return setup.Err(config, field, value, reason)
}
