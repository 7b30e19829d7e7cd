package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// prepare readies the simulation's observers and builds the shared
// machines cfg names on the simulation's clock; the workflow itself gets
// the clock, random source and observer as options.
func (s *sim) prepare(cfg *errorrecovery.ErrorRecoveryConfig[any]) error {
	clock := &s.sched
	cfg.Logger, cfg.OnError = nil, nil
	cfg.OnAlert = func(int) { s.res.Alerts = append(s.res.Alerts, s.elapsed()) }
	s.calls.visits = map[int]int{}
	s.calls.states = map[string]int{}

	names := func(st errorrecovery.Strategy) bool {
		return cfg.Primary == st || slices.Contains(cfg.Secondary, st)
	}
	if cfg.PerKey != nil {
		// A machine given as shared would stay one for every key: the
		// workflow builds its machines, per key, on the simulation's
		// clock, and its observer sees their steps.
		s.keyed = true
		s.note("per key: the workflow builds its breaker, bulkhead and limiters per key itself, so the report has no section of their own for them")
		if cfg.Bulkhead != nil {
			if cfg.Bulkhead.UseWorkerPool {
				return errors.New("sim: a workflow's bulkhead cannot use a worker pool")
			}
			if cfg.Bulkhead.QueueTimeout < 0 && cfg.Bulkhead.MaxQueueSize >= 0 {
				bc := *cfg.Bulkhead
				bc.QueueTimeout = foreverQueue
				cfg.Bulkhead = &bc
				s.note("bulkhead: a queue with no timeout waits at most %v here, so that queued calls sleep on the clock", foreverQueue)
			}
		}
		return s.prepareOthers(cfg)
	}
	if names(errorrecovery.StrategyCircuitBreaker) || cfg.Breaker != nil {
		bc := breaker.DefaultConfig()
		if cfg.Breaker != nil {
			bc = *cfg.Breaker
		}
		s.breaker = &breakerWatch{visits: map[int]int{}, spent: map[string]time.Duration{}, start: s.sched.start, last: s.sched.start}
		b, err := breaker.New(bc, engine.WithClock(clock), engine.WithObserver(s.breaker), s.observe("breaker"))
		if err != nil {
			return err
		}
		s.breaker.state = b.State().String()
		cfg.SharedBreaker = b
	}
	if names(errorrecovery.StrategyBulkhead) || cfg.Bulkhead != nil {
		bc := bulkhead.DefaultConfig()
		if cfg.Bulkhead != nil {
			bc = *cfg.Bulkhead
		}
		if bc.UseWorkerPool {
			return errors.New("sim: a workflow's bulkhead cannot use a worker pool")
		}
		if bc.QueueTimeout < 0 && bc.MaxQueueSize >= 0 {
			bc.QueueTimeout = foreverQueue
			s.note("bulkhead: a queue with no timeout waits at most %v here, so that queued calls sleep on the clock", foreverQueue)
		}
		s.bulkhead = &bulkheadWatch{visits: map[int]int{}}
		b, err := bulkhead.New(bc, engine.WithClock(clock), engine.WithObserver(s.bulkhead), s.observe("bulkhead"))
		if err != nil {
			return err
		}
		s.bulkhead.b = b
		cfg.SharedBulkhead = b
	}
	return s.prepareOthers(cfg)
}

// prepareOthers readies what the simulation changes besides the breaker
// and the bulkhead: the cache, the deadline and the limiters.
func (s *sim) prepareOthers(cfg *errorrecovery.ErrorRecoveryConfig[any]) error {
	names := func(st errorrecovery.Strategy) bool {
		return cfg.Primary == st || slices.Contains(cfg.Secondary, st)
	}
	if names(errorrecovery.StrategyCache) || cfg.Cache != nil {
		var cc cache.Config // zero: the defaults
		if cfg.Cache != nil {
			cc = *cfg.Cache
		}
		if !cc.DisableCoalescing {
			cc.DisableCoalescing = true
			s.note("cache: coalescing is off, since a coalesced call waits on a channel, not on the clock")
		}
		cfg.Cache = &cc
	}
	if cfg.Deadline != nil && cfg.Deadline.WalkAway {
		d := *cfg.Deadline
		d.WalkAway = false
		cfg.Deadline = &d
		s.note("deadline: walk-away is off (the simulated dependency honours its context, so the outcome is the same)")
	}
	return s.prepareLimits(cfg)
}

// observe returns Options.Observe's option for machine, or one that does
// nothing.
func (s *sim) observe(machine string) engine.Option {
	if s.opts.Observe == nil {
		return engine.WithObserver(nil)
	}
	return s.opts.Observe(machine)
}

func (s *sim) note(format string, args ...any) {
	s.res.Notes = append(s.res.Notes, fmt.Sprintf(format, args...))
}
