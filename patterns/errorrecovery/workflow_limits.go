package errorrecovery

import (
	"slices"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// The shared machines of RATE_LIMIT, BUDGET and ADAPTIVE_LIMIT in a
// workflow: made from their sub-configs, or shared, as the breaker and the
// bulkhead are.

// limiters sets x's rate limiter, retry budget and adaptive limiter from
// cfg: a shared instance takes precedence; otherwise one is made, with
// the workflow's clock and observer, when the strategy is named or its
// sub-config given. An invalid sub-config is its *ConfigError.
func (x *executor[T]) limiters(cfg *ErrorRecoveryConfig[T], set engine.Settings) error {
	opts := []engine.Option{engine.WithClock(x.clock), engine.WithObserver(set.Observer)}
	var err error
	switch {
	case cfg.SharedRateLimiter != nil:
		x.rate = cfg.SharedRateLimiter
	case cfg.names(StrategyRateLimit) || cfg.RateLimit != nil:
		var rc ratelimit.Config // zero: the defaults
		if cfg.RateLimit != nil {
			rc = *cfg.RateLimit
		}
		if x.rate, err = ratelimit.New(rc, opts...); err != nil {
			return err
		}
	}
	switch {
	case cfg.SharedBudget != nil:
		x.budget = cfg.SharedBudget
	case cfg.names(StrategyBudget) || cfg.Budget != nil:
		var bc budget.Config
		if cfg.Budget != nil {
			bc = *cfg.Budget
		}
		if x.budget, err = budget.New(bc, opts...); err != nil {
			return err
		}
	}
	switch {
	case cfg.SharedAdaptiveLimiter != nil:
		x.adaptive = cfg.SharedAdaptiveLimiter
	case cfg.names(StrategyAdaptiveLimit) || cfg.AdaptiveLimit != nil:
		var ac adaptive.Config
		if cfg.AdaptiveLimit != nil {
			ac = *cfg.AdaptiveLimit
		}
		if x.adaptive, err = adaptive.New(ac, opts...); err != nil {
			return err
		}
	}
	return nil
}

// limiterClusters appends to cs the clusters of the rate limiter, the
// adaptive limiter and the retry budget that take part, each joined to
// the states that use it; with HEDGE, Hedge is joined to the breaker and
// the limiters too.
func (x *executor[T]) limiterClusters(cs []fsm.Cluster) []fsm.Cluster {
	if x.rate != nil {
		g := x.rate.Definition().Graph()
		cs = append(cs, fsm.Cluster{Graph: g,
			Uses: []fsm.Use{{From: stateRateLimit.String(), To: g.States[0].Label, Label: "reserve / wait"}}})
	}
	if x.adaptive != nil {
		g := x.adaptive.Definition().Graph()
		cs = append(cs, fsm.Cluster{Graph: g,
			Uses: []fsm.Use{{From: stateAdaptiveLimit.String(), To: g.States[0].Label, Label: "acquire / done"}}})
	}
	if x.budget != nil {
		g := x.budget.Definition().Graph()
		uses := []fsm.Use{{From: stateAttempt.String(), To: g.States[0].Label, Label: "deposit (first attempt)"}}
		if x.retrying {
			uses = append(uses, fsm.Use{From: stateRetry.String(), To: g.States[0].Label, Label: "withdraw"})
		}
		cs = append(cs, fsm.Cluster{Graph: g, Uses: uses})
	}
	if x.hedge != nil {
		// Each hedge asks the breaker, the rate limiter and the adaptive
		// limiter for a permit of its own, from Hedge.
		for i := range cs {
			for _, u := range cs[i].Uses {
				switch u.From {
				case stateCheckCircuit.String(), stateRateLimit.String(), stateAdaptiveLimit.String():
					cs[i].Uses = append(slices.Clip(cs[i].Uses), fsm.Use{From: stateHedge.String(), To: u.To, Label: "hedge's permit"})
				}
			}
		}
	}
	return cs
}

// RateLimiter returns the workflow's rate limiter (RATE_LIMIT), or nil
// (also when it keeps one per key).
func (w *Workflow[T]) RateLimiter() *ratelimit.Limiter {
	if w.keys != nil && w.keys.rate != nil {
		return nil
	}
	return w.x.rate
}

// Budget returns the workflow's retry budget (BUDGET), or nil.
func (w *Workflow[T]) Budget() *budget.Budget { return w.x.budget }

// AdaptiveLimiter returns the workflow's adaptive concurrency limiter
// (ADAPTIVE_LIMIT), or nil (also when it keeps one per key).
func (w *Workflow[T]) AdaptiveLimiter() *adaptive.Limiter {
	if w.keys != nil && w.keys.adaptive != nil {
		return nil
	}
	return w.x.adaptive
}
