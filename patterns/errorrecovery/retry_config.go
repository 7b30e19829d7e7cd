package errorrecovery

import (
	"errors"
	"math"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// RetryConfig configures a retry. Every field's zero value means its
// default (DefaultRetryConfig's), so a literal names only what differs:
// RetryConfig[T]{MaxAttempts: 5} is five attempts with the default
// exponential backoff. "None" is a negative value: no delay, no cap, no
// jitter.
type RetryConfig[T any] struct {
	// MaxAttempts is the number of attempts in all, the first included;
	// 1 means no retry. Zero means the default, 3. At most 100000.
	MaxAttempts int
	// InitialDelay is d in the backoff formulas. Zero means the default,
	// 1s; a negative value means no delay (retry at once). At most 24h.
	InitialDelay time.Duration
	// MaxDelay caps every delay, after jitter, and delays carried by
	// errors (Retry-After). Zero means the default, 60s; a negative value
	// means no cap. At most 24h.
	MaxDelay time.Duration
	// Backoff chooses the delay formula. Zero means the default,
	// BackoffExponential.
	Backoff Backoff
	// Multiplier is m in the EXPONENTIAL, JITTER, FULL_JITTER and
	// EQUAL_JITTER formulas. Zero means the default, 2; otherwise at least
	// 1 there, and at most 100 for every backoff.
	Multiplier float64
	// JitterRange is j in the JITTER formula, in [0, 1): each delay is
	// multiplied by a factor drawn uniformly from [1-j, 1+j]. Zero means
	// the default, 0.1; a negative value means no jitter.
	JitterRange float64
	// RetryOn lists which errors are retried. When it is empty every error
	// is (apart from those stopped earlier in the classification); when it
	// is given only errors matching one of its matchers are. See ErrorIs,
	// ErrorType and ErrorFunc.
	RetryOn []ErrorMatcher
	// PermanentOn lists errors never retried, checked before RetryOn.
	// Errors wrapped with Permanent are never retried either.
	PermanentOn []ErrorMatcher
	// RetryOnResult, when set, reports whether a result returned with a nil
	// error is bad and should be retried (an HTTP status >= 500, say). When
	// retries run out on a bad result, Execute returns it with an
	// *ExhaustedError whose Last is ErrBadResult.
	RetryOnResult func(result T) bool
	// OnRetry, when set, is called before each backoff with the number of
	// the attempt that failed (1-based), its error and the delay to come.
	OnRetry func(attempt int, err error, delay time.Duration)
	// OnFailure, when set, is called once when an execution's attempts end
	// without a success (retries exhausted, a permanent error or a
	// rejection, the overall deadline, the caller giving up), with the
	// error they ended with. It is called before any fallback, whatever
	// answers the caller afterwards: the error is the one Execute returns
	// when nothing does.
	OnFailure func(err error)
}

// None, given to a duration or number of a config whose zero means a
// default, turns the setting off: RetryConfig{InitialDelay: None} retries
// at once, DeadlineConfig{Timeout: None} has no overall timeout. Any
// negative value means the same; the field's doc says where it is allowed.
const None = -1

// DefaultRetryConfig returns the defaults, what a zero RetryConfig
// means: 3 attempts, 1 s
// initial delay, 60 s cap, exponential backoff doubling each time, 10%
// jitter range (used by JITTER only).
func DefaultRetryConfig[T any]() RetryConfig[T] {
	return RetryConfig[T]{
		MaxAttempts:  3,
		InitialDelay: time.Second,
		MaxDelay:     60 * time.Second,
		Backoff:      BackoffExponential,
		Multiplier:   2,
		JitterRange:  0.1,
	}
}

// The upper bounds of the configs' numbers. They are far above any real
// setting, and low enough that nothing a config sizes (a window, the
// health ring, a simulation of it) runs out of memory, and that sums of
// bounded durations cannot overflow a time.Duration: 100000 delays of
// 24h each are under 274 years, the largest Duration 292.
const (
	// maxAttempts bounds RetryConfig.MaxAttempts and
	// ErrorRecoveryConfig.MaxTotalAttempts. Nothing is kept per attempt;
	// it allows a week of retries every 6s.
	maxAttempts = 100_000
	// maxConfigDuration bounds every duration of a config but a saga's:
	// delays, timeouts, windows.
	maxConfigDuration = 24 * time.Hour
	// maxMultiplier bounds the factors by which delays and open timeouts
	// grow.
	maxMultiplier = 100
	// maxHealthWindow bounds ErrorRecoveryConfig.HealthWindow (a ring of
	// one slot per execution) and AlertThreshold.
	maxHealthWindow = 100_000
)

// Validate reports the first invalid field as a *ConfigError.
func (c *RetryConfig[T]) Validate() error {
	const name = "RetryConfig"
	r := c.resolved()
	switch {
	case c.MaxAttempts < 0:
		return configErr(name, "MaxAttempts", c.MaxAttempts, "must not be negative (it counts the first attempt; zero means 3)")
	case c.MaxAttempts > maxAttempts:
		return configErr(name, "MaxAttempts", c.MaxAttempts, "must be at most 100000")
	case c.InitialDelay > maxConfigDuration:
		return configErr(name, "InitialDelay", c.InitialDelay, "must be at most 24h")
	case c.MaxDelay > maxConfigDuration:
		return configErr(name, "MaxDelay", c.MaxDelay, "must be at most 24h")
	case c.Backoff > BackoffEqualJitter:
		return configErr(name, "Backoff", c.Backoff, "must be FIXED, LINEAR, EXPONENTIAL, JITTER, DECORRELATED, FULL_JITTER or EQUAL_JITTER")
	case math.IsNaN(c.Multiplier) || c.Multiplier < 0 || math.IsInf(c.Multiplier, 0):
		return configErr(name, "Multiplier", c.Multiplier, "must be a finite number >= 1 (zero means 2)")
	case r.Backoff.exponential() && r.Multiplier < 1:
		return configErr(name, "Multiplier", c.Multiplier, "must be at least 1 for EXPONENTIAL, JITTER, FULL_JITTER and EQUAL_JITTER (zero means 2)")
	case c.Multiplier > maxMultiplier:
		return configErr(name, "Multiplier", c.Multiplier, "must be at most 100")
	case math.IsNaN(c.JitterRange) || c.JitterRange >= 1:
		return configErr(name, "JitterRange", c.JitterRange, "must be below 1 (zero means 0.1, a negative value no jitter)")
	}
	for _, m := range c.RetryOn {
		if m == nil {
			return configErr(name, "RetryOn", "nil", "a matcher is nil")
		}
	}
	for _, m := range c.PermanentOn {
		if m == nil {
			return configErr(name, "PermanentOn", "nil", "a matcher is nil")
		}
	}
	return nil
}

// Resolve returns the retry c describes with every field spelled out:
// each zero replaced by the default it means, and each "none" spelled
// None. Two configs that resolve equal, their functions and matchers
// aside, retry alike, and a resolved config resolves to itself. An invalid
// c returns the error Validate reports.
func (c *RetryConfig[T]) Resolve() (RetryConfig[T], error) {
	if err := c.Validate(); err != nil {
		return RetryConfig[T]{}, err
	}
	r := c.resolved()
	if c.InitialDelay < 0 {
		r.InitialDelay = None
	}
	if c.MaxDelay < 0 {
		r.MaxDelay = None
	}
	if c.JitterRange < 0 {
		r.JitterRange = None
	}
	return r, nil
}

// resolved returns c with each zero field replaced by its default and
// each "none" by the zero the executor reads as none: no delay, no cap
// (MaxDelay 0), no jitter.
func (c RetryConfig[T]) resolved() RetryConfig[T] {
	d := DefaultRetryConfig[T]()
	c.MaxAttempts = setup.Or(c.MaxAttempts, d.MaxAttempts, d.MaxAttempts) // negative: refused by Validate
	c.InitialDelay = setup.Or(c.InitialDelay, d.InitialDelay, 0)
	c.MaxDelay = setup.Or(c.MaxDelay, d.MaxDelay, 0)
	if c.Backoff == 0 {
		c.Backoff = d.Backoff
	}
	c.Multiplier = setup.Or(c.Multiplier, d.Multiplier, d.Multiplier) // negative: refused by Validate
	c.JitterRange = setup.Or(c.JitterRange, d.JitterRange, 0)
	return c
}

// An ErrorMatcher reports whether an error belongs to a class, for
// RetryConfig.RetryOn and PermanentOn.
type ErrorMatcher func(err error) bool

// ErrorIs matches errors for which errors.Is(err, target) holds.
func ErrorIs(target error) ErrorMatcher {
	return func(err error) bool { return errors.Is(err, target) }
}

// ErrorType matches errors with an error of type E in their chain
// (errors.As), such as ErrorType[*net.OpError]().
func ErrorType[E error]() ErrorMatcher {
	return func(err error) bool {
		_, ok := errors.AsType[E](err)
		return ok
	}
}

// ErrorFunc makes a predicate a matcher.
func ErrorFunc(f func(error) bool) ErrorMatcher { return f }

func matchAny(ms []ErrorMatcher, err error) bool {
	for _, m := range ms {
		if m(err) {
			return true
		}
	}
	return false
}
