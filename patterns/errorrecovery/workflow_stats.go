package errorrecovery

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// WorkflowMetrics are a workflow's counters since it was made. They say
// two things apart: what the caller saw (each execution is counted in one
// of Successes, Fallbacks, StaleServed and Failed) and what the dependency
// did (Failures, Calls, Rejections, Timeouts, AttemptTimeouts), counted
// whatever answered the caller afterwards. docs/workflow.md has the table.
type WorkflowMetrics struct {
	// Executions counts the executions that ran: calls of Execute,
	// ExecuteResult and Trace whose context had not already ended (Map's
	// "attempts", as the original library's).
	Executions int64

	// What the caller saw, adding up to Executions. Successes counts
	// executions answered by the function or by a fresh cache entry;
	// Fallbacks those a fallback source answered (FallbackConfig's cache,
	// service, function or value); StaleServed those a stale entry of
	// CACHE answered; Failed those that returned an error.
	Successes, Fallbacks, StaleServed, Failed int64
	// CacheHits counts the Successes a fresh cache entry (or a coalesced
	// call's fresh answer) gave without calling the function.
	CacheHits int64

	// What the dependency did. Failures counts executions it failed:
	// Fallbacks + StaleServed + Failed, the executions Health and
	// alerts count as failed.
	Failures int64
	// Calls counts calls of the function, retries and hedges included;
	// Retries the backoffs taken between them.
	Calls, Retries int64
	// Hedges counts the hedges HEDGE started (each also one of Calls),
	// HedgeWins those whose success answered their round. A hedge the
	// breaker or a limiter refused is not started, and counts nowhere but
	// in that machine's own metrics.
	Hedges, HedgeWins int64
	// Rejections counts executions refused by the breaker (open, or its
	// half-open trials taken), the bulkhead (full, or the wait for a slot
	// timed out), the rate limiter (no permit due within its MaxWait and
	// before the overall deadline) or the adaptive limiter (its limit of
	// calls in flight reached). The shared machines' own Metrics say
	// which of their calls they refused.
	Rejections int64
	// RetriesRefused counts the retries the retry budget (BUDGET) refused,
	// each of which ended its execution's retrying.
	RetriesRefused int64
	// Timeouts counts executions ended by the overall deadline;
	// AttemptTimeouts the calls cut by Deadline.AttemptTimeout before it
	// (each then classified like any transient error).
	Timeouts, AttemptTimeouts int64
	// Compensations counts the undos COMPENSATE ran and that succeeded,
	// CompensationsFailed those that failed (or panicked, or timed out).
	Compensations, CompensationsFailed int64

	// TotalTime and MaxTime are the executions' total and longest duration
	// on the workflow's clock, when TimingMetrics is set.
	TotalTime, MaxTime time.Duration

	// PerKey is the registry of per-key machines (PerKeyConfig): the
	// number of keys held, the machine sets made, evicted and closed.
	// Zero without PerKey.
	PerKey perkey.Metrics
}

// Map returns the metrics as a map keyed by snake-case names. The
// original library's keys keep their meaning: "attempts" (Executions),
// "successes", "failures" (the dependency's: they add up to "attempts"),
// "fallbacks", and "compensations" (the undos COMPENSATE ran and that
// succeeded; a saga's Metrics count its own). The other keys are the
// fields' names: "failed", "stale_served", "cache_hits", "calls",
// "retries", "rejections", "timeouts", "attempt_timeouts",
// "compensations_failed", "retries_refused", "hedges", "hedge_wins",
// "total_time", "max_time"; and PerKey's as "keys", "keys_created",
// "keys_create_failed", "keys_evicted_idle", "keys_evicted_bound",
// "keys_closed".
func (m WorkflowMetrics) Map() map[string]any {
	return map[string]any{
		"attempts": m.Executions, "successes": m.Successes, "failures": m.Failures,
		"fallbacks": m.Fallbacks, "compensations": m.Compensations,
		"failed": m.Failed, "stale_served": m.StaleServed, "cache_hits": m.CacheHits,
		"calls": m.Calls, "retries": m.Retries, "rejections": m.Rejections,
		"timeouts": m.Timeouts, "attempt_timeouts": m.AttemptTimeouts,
		"compensations_failed": m.CompensationsFailed, "retries_refused": m.RetriesRefused,
		"hedges": m.Hedges, "hedge_wins": m.HedgeWins,
		"total_time": m.TotalTime, "max_time": m.MaxTime,
		"keys": m.PerKey.Keys, "keys_created": m.PerKey.Created, "keys_create_failed": m.PerKey.CreateFailed,
		"keys_evicted_idle": m.PerKey.EvictedIdle, "keys_evicted_bound": m.PerKey.EvictedBound, "keys_closed": m.PerKey.Closed,
	}
}

// Health is a workflow's health, judged on its recent executions.
type Health uint8

// The health levels.
const (
	HealthOK        Health = iota // under 10% errors, breaker closed (or none)
	HealthDegraded                // between, or the breaker half-open
	HealthUnhealthy               // 50% errors or more, or the breaker open
)

var healthNames = []string{"healthy", "degraded", "unhealthy"}

// String returns the level's name.
func (h Health) String() string { return enum.StringOr(healthNames, h, "Health(?)") }

// HealthStatus is Health with the figures it was judged on.
type HealthStatus struct {
	Status Health
	// ErrorRate is Failures / Samples, 0 with no samples.
	ErrorRate float64
	// Samples is the number of executions in the window (at most
	// HealthWindow), Failures how many of them the dependency failed,
	// whatever answered the caller (see WorkflowMetrics.Failures).
	Samples, Failures int
	// Breaker is the breaker's state, when there is one.
	Breaker    breaker.State
	HasBreaker bool
}

// workflowStats keeps a workflow's counters, its health window and its
// alert state, with atomics only: an execution's bookkeeping takes no lock.
// The states of the per-call machine count what happens in them (calls,
// retries, rejections, timeouts) as it happens, so a fallback answering
// afterwards changes nothing; record counts how the execution ended.
type workflowStats struct {
	enabled bool
	timing  bool
	breaker *breaker.Breaker
	logger  *slog.Logger
	onError func(error)
	onAlert func(int)

	failed, fallbacks, cacheHits, stale                      atomic.Int64 // what the caller saw (Successes is the rest)
	attempts, retries, rejections, timeouts, attemptTimeouts atomic.Int64 // what the dependency did
	totalTime, maxTime                                       atomic.Int64
	compensations, compensationsFailed                       atomic.Int64 // undos run by COMPENSATE
	retriesRefused                                           atomic.Int64 // retries BUDGET refused
	hedges, hedgeWins                                        atomic.Int64 // HEDGE's hedges started, and those that won

	// The health window: a ring of the last len(window) outcomes (1 for a
	// failure of the dependency); next counts executions recorded (it is
	// the Executions metric too), windowFailures the 1s in the ring. An
	// execution whose slot holds a different outcome swaps it and adjusts
	// the count by the difference, so the two agree once concurrent
	// recorders are done; one whose slot already holds its outcome (a
	// success after a success, the common case) writes nothing, saving an
	// atomic exchange.
	window         []atomic.Int32
	next           atomic.Int64
	windowFailures atomic.Int64
	threshold      int64
	alerted        atomic.Bool // set at a crossing, cleared when failures fall below the threshold
}

func newWorkflowStats[T any](cfg *ErrorRecoveryConfig[T], b *breaker.Breaker) *workflowStats {
	n := cfg.HealthWindow
	if n == 0 {
		n = 100
	}
	return &workflowStats{
		enabled: !cfg.MetricsDisabled, timing: cfg.TimingMetrics, breaker: b,
		logger: cfg.Logger, onError: cfg.OnError, onAlert: cfg.OnAlert,
		window: make([]atomic.Int32, n), threshold: int64(cfg.AlertThreshold),
	}
}

// counting reports whether s keeps counters: a workflow of NewRetry or
// NewDeadline has no stats, one with MetricsDisabled keeps only health.
func (s *workflowStats) counting() bool { return s != nil && s.enabled }

// answersFailure reports whether src answers an execution the dependency
// failed: a stale entry or a fallback source.
func answersFailure(src Source) bool {
	switch src {
	case SourceStaleCache, SourceFallbackCache, SourceFallbackService, SourceFallbackFunc, SourceFallbackValue:
		return true
	}
	return false
}

// record accounts for one finished execution: err is what it returns (nil
// when something answered), met the error it met on the way, which a
// fallback or a stale entry may have answered (nil when none was met, or
// when a coalesced call's leader met it); took is how long it took, read
// only with TimingMetrics.
func (s *workflowStats) record(src Source, took time.Duration, err, met error) {
	failed := int32(0)
	if err != nil || answersFailure(src) {
		failed = 1
	}
	slot := &s.window[(s.next.Add(1)-1)%int64(len(s.window))]
	if slot.Load() != failed {
		if old := slot.Swap(failed); old != failed {
			s.windowFailures.Add(int64(failed - old))
		}
	}
	if s.enabled {
		switch {
		case err != nil:
			s.failed.Add(1)
		case src != SourceFunction:
			s.countSource(src)
		}
		if s.timing {
			s.totalTime.Add(int64(took))
			storeMax(&s.maxTime, int64(took))
		}
	}
	if failed == 1 {
		s.report(src, err, met)
	}
	if s.threshold > 0 {
		if f := s.windowFailures.Load(); f >= s.threshold {
			if s.onAlert != nil && s.alerted.CompareAndSwap(false, true) {
				s.onAlert(int(f))
			}
		} else if s.alerted.Load() {
			s.alerted.Store(false)
		}
	}
}

// report logs a failed execution and calls OnError: with the error
// returned, or with the one a fallback or a stale entry answered. An
// execution that took its answer from a coalesced call's leader met no
// error of its own: the leader reported it.
func (s *workflowStats) report(src Source, err, met error) {
	switch {
	case err != nil:
		if s.logger != nil {
			s.logger.Error("errorrecovery: execution failed", "error", err)
		}
	case met != nil:
		if s.logger != nil {
			s.logger.Warn("errorrecovery: execution failed, answered by "+src.String(), "error", met)
		}
		err = met
	default:
		return
	}
	if s.onError != nil {
		s.onError(err)
	}
}

func (s *workflowStats) countSource(src Source) {
	switch src {
	case SourceCache:
		s.cacheHits.Add(1)
	case SourceStaleCache:
		s.stale.Add(1)
	case SourceFallbackCache, SourceFallbackService, SourceFallbackFunc, SourceFallbackValue:
		s.fallbacks.Add(1)
	}
}

// storeMax raises a to d if d is larger, retrying when another recorder
// changed a meanwhile.
func storeMax(a *atomic.Int64, d int64) {
	if m := a.Load(); d > m && !a.CompareAndSwap(m, d) {
		storeMax(a, d)
	}
}

func (s *workflowStats) metrics() WorkflowMetrics {
	if s == nil || !s.enabled {
		return WorkflowMetrics{}
	}
	m := WorkflowMetrics{
		Executions: s.next.Load(), Fallbacks: s.fallbacks.Load(), StaleServed: s.stale.Load(), Failed: s.failed.Load(),
		CacheHits: s.cacheHits.Load(), Calls: s.attempts.Load(), Retries: s.retries.Load(),
		Rejections: s.rejections.Load(), Timeouts: s.timeouts.Load(), AttemptTimeouts: s.attemptTimeouts.Load(),
		Compensations: s.compensations.Load(), CompensationsFailed: s.compensationsFailed.Load(),
		RetriesRefused: s.retriesRefused.Load(), Hedges: s.hedges.Load(), HedgeWins: s.hedgeWins.Load(),
		TotalTime: time.Duration(s.totalTime.Load()), MaxTime: time.Duration(s.maxTime.Load()),
	}
	m.Failures = m.Fallbacks + m.StaleServed + m.Failed
	m.Successes = m.Executions - m.Failures
	return m
}

func (s *workflowStats) health() HealthStatus {
	var h HealthStatus
	if s == nil {
		return h // NewRetry, NewDeadline: no health kept
	}
	h.Samples = int(min(s.next.Load(), int64(len(s.window))))
	h.Failures = int(s.windowFailures.Load())
	if h.Samples > 0 {
		h.ErrorRate = float64(h.Failures) / float64(h.Samples)
	}
	if s.breaker != nil {
		h.Breaker, h.HasBreaker = s.breaker.State(), true
	}
	h.judge()
	return h
}

// judge sets h's Status from its error rate and breaker state.
func (h *HealthStatus) judge() {
	switch {
	case h.ErrorRate >= 0.5 || (h.HasBreaker && h.Breaker == breaker.StateOpen):
		h.Status = HealthUnhealthy
	case h.ErrorRate >= 0.1 || (h.HasBreaker && h.Breaker == breaker.StateHalfOpen):
		h.Status = HealthDegraded
	}
}

// Metrics returns the workflow's counters (zero when MetricsDisabled,
// and for the workflows of NewRetry and NewDeadline), every key's
// executions counted together, with the per-key registry's (PerKey).
func (w *Workflow[T]) Metrics() WorkflowMetrics {
	m := w.x.stats.metrics()
	if w.keys != nil && w.x.stats.counting() {
		m.PerKey = w.keys.reg.Metrics()
	}
	return m
}

// Health judges the dependency behind the workflow on its last
// HealthWindow executions and its breaker: healthy under 10% errors with
// the breaker closed, unhealthy at 50% errors or with the breaker open,
// degraded in between or while the breaker is half-open. An execution that
// a fallback or a stale cache entry answered counts as an error (see
// WorkflowMetrics.Failures): health describes the dependency, not what the
// caller saw, so a dead dependency behind a fallback is unhealthy. The
// workflows of NewRetry and NewDeadline keep no
// health: theirs is the zero HealthStatus.
func (w *Workflow[T]) Health() HealthStatus { return w.x.stats.health() }
