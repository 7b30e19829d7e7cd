package sim

import (
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// The rate limiter, the retry budget and the adaptive limiter of a
// simulated workflow: the simulation builds them from their configs on
// its clock, as it builds the breaker and the bulkhead, so as to watch
// them, and so that their steps do not reach the per-call machine's
// observer (which the workflow would give the ones it makes).

// RateLimitStats describe the rate limiter over the run (its Metrics at
// the end).
type RateLimitStats struct {
	// Permitted counts permits given at once, Waited those given after a
	// wait, Rejected the attempts given none within MaxWait.
	Permitted, Waited, Rejected uint64
}

// BudgetStats describe the retry budget over the run.
type BudgetStats struct {
	// Withdrawn counts the retries it allowed, Refused those it refused.
	Withdrawn, Refused uint64
}

// AdaptiveStats describe the adaptive limiter over the run.
type AdaptiveStats struct {
	// Initial is the limit it started with; Low and High the lowest and
	// highest it took; Final the one at the end.
	Initial, Low, High, Final int
	// Rejected counts the attempts it refused.
	Rejected uint64
	// Changes are the windows that moved the limit, in order.
	Changes []LimitChange
}

// LimitChange is a move of the adaptive limit, at the close of a window.
type LimitChange struct {
	At    time.Duration // from the start
	Limit int           // the limit after the move
	State string        // the limiter's state after it: Growing, BackingOff, Probing, Steady
}

// limitWatch holds the shared limiters the simulation built.
type limitWatch struct {
	rate     *ratelimit.Limiter
	budget   *budget.Budget
	adaptive *adaptive.Limiter
	changes  []LimitChange
	last     int // the limit after the last change
}

// prepareLimits builds the rate limiter, budget and adaptive limiter cfg
// names, on the simulation's clock, and gives them to cfg as shared ones.
func (s *sim) prepareLimits(cfg *errorrecovery.ErrorRecoveryConfig[any]) error {
	names := func(st errorrecovery.Strategy) bool { return cfg.Primary == st || slices.Contains(cfg.Secondary, st) }
	clock := engine.WithClock(&s.sched)
	w := &s.limits
	var err error
	// With PerKey the workflow builds the rate and adaptive limiters per
	// key (a shared one would stay one for every key); the budget stays
	// the workflow's.
	if !s.keyed && (names(errorrecovery.StrategyRateLimit) || cfg.RateLimit != nil) {
		var rc ratelimit.Config // zero: the defaults
		if cfg.RateLimit != nil {
			rc = *cfg.RateLimit
		}
		if w.rate, err = ratelimit.New(rc, clock, s.observe("ratelimit")); err != nil {
			return err
		}
		cfg.SharedRateLimiter = w.rate
	}
	if names(errorrecovery.StrategyBudget) || cfg.Budget != nil {
		var bc budget.Config
		if cfg.Budget != nil {
			bc = *cfg.Budget
		}
		if w.budget, err = budget.New(bc, clock, s.observe("budget")); err != nil {
			return err
		}
		cfg.SharedBudget = w.budget
	}
	if !s.keyed && (names(errorrecovery.StrategyAdaptiveLimit) || cfg.AdaptiveLimit != nil) {
		var ac adaptive.Config
		if cfg.AdaptiveLimit != nil {
			ac = *cfg.AdaptiveLimit
		}
		watch := engine.ObserverFunc(func(r engine.Record) {
			if r.Transition < 0 || w.adaptive == nil {
				return
			}
			if l := w.adaptive.Limit(); l != w.last || r.From != r.To {
				w.last = l
				w.changes = append(w.changes, LimitChange{At: r.Time.Sub(s.sched.start), Limit: l, State: r.To})
			}
		})
		if w.adaptive, err = adaptive.New(ac, clock, engine.WithObserver(watch), s.observe("adaptive")); err != nil {
			return err
		}
		w.last = w.adaptive.Limit()
		cfg.SharedAdaptiveLimiter = w.adaptive
	}
	return nil
}

// finishLimits completes the result with the limiters' stats, and the
// adaptive limit in each row of the timeline.
func (s *sim) finishLimits() {
	w, r := &s.limits, s.res
	if w.rate != nil {
		m := w.rate.Metrics()
		r.RateLimit = &RateLimitStats{Permitted: m.Permitted, Waited: m.Waited, Rejected: m.Rejected}
	}
	if w.budget != nil {
		m := w.budget.Metrics()
		r.Budget = &BudgetStats{Withdrawn: m.Withdrawn, Refused: m.Refused}
		w.budget.Close()
	}
	if w.adaptive == nil {
		return
	}
	m := w.adaptive.Metrics()
	a := &AdaptiveStats{Initial: w.adaptive.Config().InitialLimit, Final: m.Limit, Rejected: m.Rejected, Changes: w.changes}
	a.Low, a.High = a.Initial, a.Initial
	for _, c := range w.changes {
		a.Low, a.High = min(a.Low, c.Limit), max(a.High, c.Limit)
	}
	r.Adaptive = a
	limit, k, width := a.Initial, 0, s.bucketWidth()
	for i := range r.Timeline {
		b := &r.Timeline[i]
		end := b.Start + width
		if i == len(r.Timeline)-1 {
			end = max(end, r.Elapsed+1)
		}
		b.LimitLow = limit
		for ; k < len(w.changes) && w.changes[k].At < end; k++ {
			limit = w.changes[k].Limit
			b.LimitLow = min(b.LimitLow, limit)
		}
		b.Limit = limit
	}
}
