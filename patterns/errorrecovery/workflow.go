package errorrecovery

import (
	"log/slog"
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// ErrorRecoveryConfig composes strategies into one workflow. A strategy
// takes part when it is named as Primary or in Secondary, or when its
// sub-config (or a shared instance) is given; one named without a
// sub-config uses its defaults. Primary and Secondary choose participation,
// not order: the layers always nest the same way, outermost first,
//
//	cache/fallback → compensate → bulkhead → overall deadline → hedge → retry (its budget deciding each retry)
//	  → circuit breaker → rate limiter → adaptive limiter → attempt timeout → fn
//
// with fallback answering whatever fails, and COMPENSATE undoing, when
// the execution fails in the end, the effects the function registered
// with AddCompensation. A rejection by the breaker or a limiter consumes
// no other layer's permit (but a rate permit, which nobody gives back).
// With HEDGE each attempt is a round that may start hedges, each with
// permits of its own; a round that failed is one failed attempt.
type ErrorRecoveryConfig[T any] struct {
	// Name names the workflow's per-call machine, as its diagrams and
	// traces (engine.Record.Machine) show it. Empty means "workflow".
	Name string

	// Primary and Secondary name the strategies that take part.
	Primary   Strategy
	Secondary []Strategy

	// Retry configures RETRY.
	Retry *RetryConfig[T]
	// Breaker configures CIRCUIT_BREAKER; SharedBreaker, when set, is an
	// existing breaker to share (with other workflows, of any result type)
	// and takes precedence.
	Breaker       *breaker.Config
	SharedBreaker *breaker.Breaker
	// Fallback configures FALLBACK.
	Fallback *FallbackConfig[T]
	// Bulkhead configures BULKHEAD; SharedBulkhead, when set, is an
	// existing bulkhead to share (with other workflows, of any result
	// type) and takes precedence.
	Bulkhead       *bulkhead.Config
	SharedBulkhead *bulkhead.Bulkhead
	// Cache configures CACHE (read-through); SharedCache, when set, is an
	// existing cache to share (with other workflows of the same result
	// type) and takes precedence. With Fallback.UseCache, the cache the
	// workflow makes has its MaxStale cut to Fallback.CacheTTL (see
	// FallbackConfig.UseCache), and a SharedCache is refused.
	Cache       *cache.Config
	SharedCache *cache.Cache[T]
	// RateLimit configures RATE_LIMIT: each attempt takes a permit,
	// waiting for it up to the limiter's MaxWait but never past the
	// overall deadline. SharedRateLimiter, when set, is an existing
	// limiter to share (with other workflows, of any result type) and
	// takes precedence.
	RateLimit         *ratelimit.Config
	SharedRateLimiter *ratelimit.Limiter
	// Budget configures BUDGET: each execution that reaches an attempt
	// deposits once, and each retry must be withdrawn from the budget,
	// which refuses once retries pass its share of recent executions.
	// SharedBudget, when set, is an existing budget to share and takes
	// precedence: a budget does its work when every caller of a
	// dependency shares it.
	Budget       *budget.Config
	SharedBudget *budget.Budget
	// AdaptiveLimit configures ADAPTIVE_LIMIT: each attempt takes a
	// permit of a concurrency limit that follows the attempts' latency.
	// SharedAdaptiveLimiter, when set, is an existing limiter to share
	// and takes precedence.
	AdaptiveLimit         *adaptive.Config
	SharedAdaptiveLimiter *adaptive.Limiter
	// Hedge configures HEDGE: another attempt beside a slow one (see
	// HedgeConfig). Hedge only functions that may run twice at once.
	Hedge *HedgeConfig
	// PerKey, when set, gives each key of a call (a host, a tenant) its
	// own breaker, bulkhead, rate limiter and adaptive limiter, made from
	// the sub-configs above on the key's first call; Shared* machines stay
	// shared by every key. See PerKeyConfig.
	PerKey *PerKeyConfig
	// Compensation configures COMPENSATE: how the undos that the function
	// registers (AddCompensation) run when an execution fails in the
	// end. A saga (package saga) is its durable, multi-step form.
	Compensation *CompensationConfig
	// Deadline configures DEADLINE: the attempt timeout and walk-away.
	// Its Timeout must be zero when GlobalTimeout is set.
	Deadline *DeadlineConfig
	// GlobalTimeout is the one overall timeout of an execution, time queued
	// in the bulkhead and backoffs included. Zero means none (or
	// Deadline.Timeout). Setting it makes DEADLINE take part.
	GlobalTimeout time.Duration

	// MaxTotalAttempts caps the calls of the function in one execution,
	// across layers. Zero means no cap beyond Retry.MaxAttempts.
	MaxTotalAttempts int
	// TransientErrors are added to Retry.RetryOn and PermanentErrors to
	// Retry.PermanentOn; permanent errors are checked first.
	TransientErrors []ErrorMatcher
	PermanentErrors []ErrorMatcher

	// Logger, when set, logs each execution the dependency failed: at
	// error level when the caller got the error, at warning level when a
	// fallback or a stale cache entry answered it.
	Logger *slog.Logger
	// MetricsDisabled turns the counters off. Health and alerts keep
	// working.
	MetricsDisabled bool
	// TimingMetrics adds execution times to the metrics; it reads the clock
	// twice per execution, so it is off by default.
	TimingMetrics bool
	// HealthWindow is the number of recent executions Health and alerts
	// look at. Zero means 100.
	HealthWindow int
	// AlertThreshold is the number of failures in the health window that
	// fires OnAlert. Zero means no alerts.
	AlertThreshold int
	// OnError is called once per execution the dependency failed, with
	// the error returned or, when a fallback or a stale cache entry
	// answered, the error it answered. A coalesced call that took its
	// leader's answer reports nothing: the leader did.
	OnError func(err error)
	// OnAlert is called when failures in the health window reach
	// AlertThreshold, with their number; it fires again only after they
	// have fallen below it. Failures are the dependency's, whatever
	// answered the caller (see WorkflowMetrics.Failures).
	OnAlert func(failures int)
}

// DefaultErrorRecoveryConfig returns RETRY with its defaults, metrics on, a
// health window of 100 and no alerts: what a zero ErrorRecoveryConfig
// means.
func DefaultErrorRecoveryConfig[T any]() ErrorRecoveryConfig[T] {
	r := DefaultRetryConfig[T]()
	return ErrorRecoveryConfig[T]{Primary: StrategyRetry, Retry: &r}
}

// empty reports whether c names no strategy and configures none.
func (c *ErrorRecoveryConfig[T]) empty() bool {
	return c.Primary == 0 && len(c.Secondary) == 0 && c.Retry == nil && c.SharedBreaker == nil &&
		c.Breaker == nil && c.Fallback == nil && c.Bulkhead == nil && c.SharedBulkhead == nil &&
		c.Cache == nil && c.SharedCache == nil && c.Deadline == nil && c.GlobalTimeout == 0 && c.Compensation == nil &&
		c.RateLimit == nil && c.SharedRateLimiter == nil && c.Budget == nil && c.SharedBudget == nil &&
		c.AdaptiveLimit == nil && c.SharedAdaptiveLimiter == nil && c.Hedge == nil
}

// names reports whether s is named as Primary or Secondary.
func (c *ErrorRecoveryConfig[T]) names(s Strategy) bool {
	return c.Primary == s || slices.Contains(c.Secondary, s)
}

// Workflow runs a function through the layers its ErrorRecoveryConfig
// composes, as a Run of one generated per-call machine (Definition) that
// takes and releases the shared breaker, bulkhead and cache through its
// actions. It is safe for concurrent use.
type Workflow[T any] struct {
	x    *executor[T]
	keys *keyed[T] // PerKey: the keys' executors; nil without
	cfg  ErrorRecoveryConfig[T]
}

// NewWorkflow builds the workflow a config describes, creating the shared
// machines it names and does not pass in, or returns the *ConfigError of
// the first invalid field. Of opts, engine.WithClock sets the clock its
// backoffs and deadlines run on, engine.WithRandom the source its jitter
// draws from (it must be safe for concurrent use), and
// engine.WithObserver an observer of every execution; the clock and the
// observer apply to the shared machines it creates too (not to ones passed
// in, which keep their own). With the same random source, clock and
// inputs, executions take the same path at the same times.
func NewWorkflow[T any](cfg ErrorRecoveryConfig[T], opts ...engine.Option) (*Workflow[T], error) {
	return newWorkflow(cfg, opts, true)
}

// newWorkflow is NewWorkflow, keeping metrics and health when stats is
// set.
func newWorkflow[T any](cfg ErrorRecoveryConfig[T], opts []engine.Option, stats bool) (*Workflow[T], error) {
	set := engine.SettingsOf(opts...)
	const name = "ErrorRecoveryConfig"
	for i, s := range append([]Strategy{cfg.Primary}, cfg.Secondary...) {
		if s != 0 && (s < StrategyRetry || s > lastStrategy) {
			field := "Primary"
			if i > 0 {
				field = "Secondary"
			}
			return nil, configErr(name, field, s, "unknown strategy")
		}
	}
	switch {
	case cfg.MaxTotalAttempts < 0:
		return nil, configErr(name, "MaxTotalAttempts", cfg.MaxTotalAttempts, "must not be negative (zero means no cap)")
	case cfg.MaxTotalAttempts > maxAttempts:
		return nil, configErr(name, "MaxTotalAttempts", cfg.MaxTotalAttempts, "must be at most 100000 (zero means no cap)")
	case cfg.GlobalTimeout < 0:
		return nil, configErr(name, "GlobalTimeout", cfg.GlobalTimeout, "must not be negative (zero means none)")
	case cfg.GlobalTimeout > maxConfigDuration:
		return nil, configErr(name, "GlobalTimeout", cfg.GlobalTimeout, "must be at most 24h (zero means none)")
	case cfg.HealthWindow < 0:
		return nil, configErr(name, "HealthWindow", cfg.HealthWindow, "must not be negative (zero means 100)")
	case cfg.HealthWindow > maxHealthWindow:
		// The window is a ring of one slot per execution, made here.
		return nil, configErr(name, "HealthWindow", cfg.HealthWindow, "must be at most 100000 (zero means 100)")
	case cfg.AlertThreshold < 0:
		return nil, configErr(name, "AlertThreshold", cfg.AlertThreshold, "must not be negative (zero means no alerts)")
	case cfg.AlertThreshold > maxHealthWindow:
		return nil, configErr(name, "AlertThreshold", cfg.AlertThreshold, "must be at most 100000, the largest health window (zero means no alerts)")
	case cfg.Deadline != nil && cfg.GlobalTimeout > 0 && cfg.Deadline.Timeout != 0:
		return nil, configErr(name, "Deadline", cfg.Deadline.Timeout, "Deadline.Timeout must be zero when GlobalTimeout is set: there is one overall timeout")
	}
	if cfg.empty() {
		cfg.Primary = StrategyRetry // the zero config means the default one
	}
	machine := cfg.Name
	if machine == "" {
		machine = "workflow"
	}
	x := &executor[T]{name: machine, clock: set.Clock}

	// RETRY, with the workflow's error lists merged in.
	x.retry = RetryConfig[T]{MaxAttempts: 1, Backoff: BackoffFixed, Multiplier: 1}
	if cfg.names(StrategyRetry) || cfg.Retry != nil {
		x.retrying = true
		x.retry = DefaultRetryConfig[T]()
		if cfg.Retry != nil {
			x.retry = *cfg.Retry
		}
		if err := x.retry.Validate(); err != nil {
			return nil, err
		}
	}
	x.retry = x.retry.resolved()
	x.retry.RetryOn = append(slices.Clip(x.retry.RetryOn), cfg.TransientErrors...)
	x.retry.PermanentOn = append(slices.Clip(x.retry.PermanentOn), cfg.PermanentErrors...)
	if cfg.MaxTotalAttempts > 0 && cfg.MaxTotalAttempts < x.retry.MaxAttempts {
		x.retry.MaxAttempts = cfg.MaxTotalAttempts
	}
	if err := x.retry.Validate(); err != nil {
		return nil, err
	}

	// DEADLINE.
	if cfg.names(StrategyDeadline) || cfg.Deadline != nil || cfg.GlobalTimeout > 0 {
		x.deadline = DefaultDeadlineConfig()
		if cfg.Deadline != nil {
			x.deadline = *cfg.Deadline
		}
		if cfg.GlobalTimeout > 0 {
			x.deadline.Timeout = cfg.GlobalTimeout
		}
		if err := x.deadline.Validate(); err != nil {
			return nil, err
		}
		x.deadline = x.deadline.resolved()
	}

	// FALLBACK: checked first, since its UseCache may shape the cache.
	if cfg.names(StrategyFallback) || cfg.Fallback != nil {
		if cfg.Fallback == nil {
			return nil, configErr(name, "Fallback", "nil", "FALLBACK takes part but has no FallbackConfig: give it a value, function, service or cache")
		}
		fb := *cfg.Fallback
		if err := fb.Validate(); err != nil {
			return nil, err
		}
		caching := cfg.SharedCache != nil || cfg.names(StrategyCache) || cfg.Cache != nil
		if err := fb.checkCache(caching, cfg.SharedCache != nil); err != nil {
			return nil, err
		}
		x.fallback = &fb
	}

	if err := x.setHedge(&cfg); err != nil {
		return nil, err
	}

	// COMPENSATE.
	if cfg.names(StrategyCompensate) || cfg.Compensation != nil {
		cc := DefaultCompensationConfig()
		if cfg.Compensation != nil {
			cc = *cfg.Compensation
		}
		if err := cc.Validate(); err != nil {
			return nil, err
		}
		x.comp = &cc
	}

	// The shared machines.
	var err error
	switch {
	case cfg.SharedBreaker != nil:
		x.breaker = cfg.SharedBreaker
	case cfg.names(StrategyCircuitBreaker) || cfg.Breaker != nil:
		bc := breaker.DefaultConfig()
		if cfg.Breaker != nil {
			bc = *cfg.Breaker
		}
		if x.breaker, err = breaker.New(bc, engine.WithClock(x.clock), engine.WithObserver(set.Observer)); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.SharedBulkhead != nil:
		x.bulkhead = cfg.SharedBulkhead
	case cfg.names(StrategyBulkhead) || cfg.Bulkhead != nil:
		bc := bulkhead.DefaultConfig()
		if cfg.Bulkhead != nil {
			bc = *cfg.Bulkhead
		}
		if bc.UseWorkerPool {
			return nil, configErr(name, "Bulkhead", "UseWorkerPool", "a workflow takes bulkhead slots in the caller's goroutine; to run calls on a pool, share a pool-mode bulkhead and call its Protect from the function")
		}
		if x.bulkhead, err = bulkhead.New(bc, engine.WithClock(x.clock), engine.WithObserver(set.Observer)); err != nil {
			return nil, err
		}
	}
	if err := x.limiters(&cfg, set); err != nil {
		return nil, err
	}
	switch {
	case cfg.SharedCache != nil:
		x.cache = cfg.SharedCache
	case cfg.names(StrategyCache) || cfg.Cache != nil:
		var cc cache.Config // zero: the defaults
		if cfg.Cache != nil {
			cc = *cfg.Cache
		}
		if x.fallback != nil && x.fallback.UseCache {
			cc = x.fallback.within(cc)
		}
		if x.cache, err = cache.New[T](cc, engine.WithClock(x.clock), engine.WithObserver(set.Observer)); err != nil {
			return nil, err
		}
	}

	// FALLBACK's UseCache reads the CACHE's entries when CACHE takes part,
	// under one TTL rule (see FallbackConfig.UseCache), and a cache of its
	// own otherwise.
	if x.fallback != nil && x.fallback.UseCache && x.cache == nil {
		if x.fbCache, err = cache.New[T](x.fallback.ownCache(), engine.WithClock(x.clock)); err != nil {
			return nil, err
		}
	}

	var keys *keyed[T]
	if cfg.PerKey != nil {
		if keys, err = newKeyed(&cfg, x, set); err != nil {
			return nil, err
		}
	}
	if stats {
		b := x.breaker
		if keys != nil && keys.breaker != nil {
			b = nil // one breaker per key: HealthByKey reads them
		}
		x.stats = newWorkflowStats(&cfg, b)
	}
	x.init(set)
	return &Workflow[T]{x: x, keys: keys, cfg: cfg}, nil
}

// Definition returns the workflow's per-call machine, holding exactly the
// layers that take part.
func (w *Workflow[T]) Definition() *fsm.Definition[callState, callEvent, execution[T]] {
	return w.x.def
}

// Breaker returns the workflow's circuit breaker, or nil (also when it
// keeps one per key: see HealthByKey).
func (w *Workflow[T]) Breaker() *breaker.Breaker {
	if w.keys != nil && w.keys.breaker != nil {
		return nil
	}
	return w.x.breaker
}

// Clock returns the clock the workflow's backoffs and deadlines run on:
// the one engine.WithClock gave, or the real clock.
func (w *Workflow[T]) Clock() engine.Clock { return w.x.clock }

// Bulkhead returns the workflow's bulkhead, or nil (also when it keeps
// one per key).
func (w *Workflow[T]) Bulkhead() *bulkhead.Bulkhead {
	if w.keys != nil && w.keys.bulkhead != nil {
		return nil
	}
	return w.x.bulkhead
}

// Cache returns the workflow's read-through cache, or nil.
func (w *Workflow[T]) Cache() *cache.Cache[T] { return w.x.cache }

// NewBreakerWorkflow returns a workflow with a circuit breaker opening
// after failureThreshold failures for openTimeout, and a fallback value
// that answers the calls the breaker rejects: while it is open, and while
// it is half-open with all its trial calls in flight. A call the breaker
// lets through gets the function's own result and error, the failure
// that opens the breaker included; a deadline does not trigger the
// fallback either. The options are as for NewWorkflow.
//
// failureThreshold and openTimeout mean what breaker.Config's
// FailureThreshold and OpenTimeout do (zero: the defaults, 5 and 60s);
// the breaker's other settings are breaker.DefaultConfig's, except that
// its window grows to hold the threshold: WindowSize is the larger of the
// default, 10, and failureThreshold (up to breaker.Config's bound, 1<<20),
// so that 20 failures among the last 20 outcomes of the last 60 seconds
// open NewBreakerWorkflow(20, ...). Its open timeout runs on a timer of
// the clock: call w.Breaker().Close() when discarding the workflow.
func NewBreakerWorkflow[T any](failureThreshold int, openTimeout time.Duration, fallback T, opts ...engine.Option) (*Workflow[T], error) {
	bc := breaker.DefaultConfig()
	bc.FailureThreshold, bc.OpenTimeout = failureThreshold, openTimeout
	bc.WindowSize = max(bc.WindowSize, min(failureThreshold, maxBreakerWindow))
	fb := FallbackValue(fallback)
	fb.On = []ErrorMatcher{ErrorIs(breaker.ErrOpen), ErrorIs(breaker.ErrTooManyTrials)}
	fb.IgnoreDeadline = true
	return NewWorkflow(ErrorRecoveryConfig[T]{Primary: StrategyCircuitBreaker, Secondary: []Strategy{StrategyFallback}, Breaker: &bc, Fallback: &fb}, opts...)
}

// maxBreakerWindow is breaker.Config's bound on WindowSize. A threshold
// above it leaves the window at the bound, so that breaker.New refuses the
// threshold, the field the caller gave, rather than a window size the
// caller never set.
const maxBreakerWindow = 1 << 20
