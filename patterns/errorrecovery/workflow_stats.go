package errorrecovery

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// WorkflowMetrics are a workflow's counters since it was made.
type WorkflowMetrics struct {
	// Executions counts calls of Execute that finished (Map's "attempts"
	// key counts these).
	Executions int64
	// Successes and Failures split Executions; a fallback's answer is a
	// success.
	Successes, Failures int64
	// Calls counts calls of the function itself, retries included.
	Calls int64
	// Retries counts backoffs taken.
	Retries int64
	// Fallbacks counts executions answered by a fallback source.
	Fallbacks int64
	// CacheHits counts executions answered by a fresh cache entry (or a
	// coalesced call), StaleServed those answered by a stale one.
	CacheHits, StaleServed int64
	// Rejections counts executions refused by the breaker or the bulkhead;
	// Timeouts those that hit the overall deadline.
	Rejections, Timeouts int64
	// TotalTime and MaxTime are the executions' total and longest duration
	// on the workflow's clock, when TimingMetrics is set.
	TotalTime, MaxTime time.Duration
}

// Map returns the metrics as a map keyed by snake-case names: "attempts"
// (executions), "successes", "failures", "fallbacks", "compensations"
// (always 0 here), and the rest by their field names; docs/migrating.md
// says where the first five come from.
func (m WorkflowMetrics) Map() map[string]any {
	return map[string]any{
		"attempts": m.Executions, "successes": m.Successes, "failures": m.Failures,
		"fallbacks": m.Fallbacks, "compensations": int64(0),
		"calls": m.Calls, "retries": m.Retries, "cache_hits": m.CacheHits, "stale_served": m.StaleServed,
		"rejections": m.Rejections, "timeouts": m.Timeouts,
		"total_time": m.TotalTime, "max_time": m.MaxTime,
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
	// HealthWindow), Failures how many of them failed.
	Samples, Failures int
	// Breaker is the breaker's state, when there is one.
	Breaker    breaker.State
	HasBreaker bool
}

// workflowStats keeps a workflow's counters, its health window and its
// alert state, with atomics only: an execution's bookkeeping takes no lock.
type workflowStats struct {
	enabled bool
	timing  bool
	breaker *breaker.Breaker
	logger  *slog.Logger
	onError func(error)
	onAlert func(int)

	failures, attempts, retries, fallbacks, cacheHits, stale, rejections, timeouts atomic.Int64
	totalTime, maxTime                                                             atomic.Int64

	// The health window: a ring of the last len(window) outcomes (1 for a
	// failure); next counts executions recorded (it is the Executions
	// metric too), windowFailures the 1s in the ring. An execution whose
	// slot holds a different outcome swaps it and adjusts the count by the
	// difference, so the two agree once concurrent recorders are done; one
	// whose slot already holds its outcome (a success after a success, the
	// common case) writes nothing, saving an atomic exchange.
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

// record accounts for one finished execution; err is nil on success.
func (s *workflowStats) record(x interface{ now() time.Time }, src Source, start time.Time, err error) {
	failed := int32(0)
	if err != nil {
		failed = 1
	}
	slot := &s.window[(s.next.Add(1)-1)%int64(len(s.window))]
	if slot.Load() != failed {
		if old := slot.Swap(failed); old != failed {
			s.windowFailures.Add(int64(failed - old))
		}
	}
	if s.enabled {
		if src != SourceFunction {
			s.countSource(src)
		}
		if failed == 1 {
			s.countFailure(err)
		}
		if s.timing && !start.IsZero() {
			d := int64(x.now().Sub(start))
			s.totalTime.Add(d)
			storeMax(&s.maxTime, d)
		}
	}
	if failed == 1 {
		if s.logger != nil {
			s.logger.Error("errorrecovery: execution failed", "error", err)
		}
		if s.onError != nil {
			s.onError(err)
		}
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

func (s *workflowStats) countFailure(err error) {
	s.failures.Add(1)
	switch {
	case errors.Is(err, breaker.ErrOpen), errors.Is(err, breaker.ErrTooManyTrials), errors.Is(err, bulkhead.ErrFull), errors.Is(err, bulkhead.ErrQueueTimeout):
		s.rejections.Add(1)
	case errors.Is(err, context.DeadlineExceeded):
		s.timeouts.Add(1)
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
		Executions: s.next.Load(), Failures: s.failures.Load(), Calls: s.attempts.Load(),
		Retries: s.retries.Load(), Fallbacks: s.fallbacks.Load(), CacheHits: s.cacheHits.Load(),
		StaleServed: s.stale.Load(), Rejections: s.rejections.Load(), Timeouts: s.timeouts.Load(),
		TotalTime: time.Duration(s.totalTime.Load()), MaxTime: time.Duration(s.maxTime.Load()),
	}
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
	switch {
	case h.ErrorRate >= 0.5 || (h.HasBreaker && h.Breaker == breaker.StateOpen):
		h.Status = HealthUnhealthy
	case h.ErrorRate >= 0.1 || (h.HasBreaker && h.Breaker == breaker.StateHalfOpen):
		h.Status = HealthDegraded
	}
	return h
}

// Metrics returns the workflow's counters (zero when MetricsDisabled,
// and for the workflows of NewRetry and NewDeadline).
func (w *Workflow[T]) Metrics() WorkflowMetrics { return w.x.stats.metrics() }

// Health judges the workflow on its last HealthWindow executions and its
// breaker: healthy under 10% errors with the breaker closed, unhealthy at
// 50% errors or with the breaker open, degraded in between or while the
// breaker is half-open. The workflows of NewRetry and NewDeadline keep no
// health: theirs is the zero HealthStatus.
func (w *Workflow[T]) Health() HealthStatus { return w.x.stats.health() }

func (x *executor[T]) now() time.Time { return x.clock.Now() }
