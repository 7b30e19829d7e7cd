package sim

import (
	"errors"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// Result is what a simulation found.
type Result struct {
	// Executions is the number of executions, all finished.
	Executions int
	// Succeeded counts executions answered by the dependency, FromCache
	// those answered by a fresh cache entry, Stale by a stale one,
	// Fallbacks by a fallback, and Failed those that returned an error.
	Succeeded, FromCache, Stale, Fallbacks, Failed int
	// Failures splits Failed by cause.
	Failures Failures
	// Calls counts calls of the dependency; Attempts[k] is the number of
	// executions that called it k times.
	Calls    int
	Attempts []int
	// PeakCalls is the most calls the dependency received in one whole
	// second of virtual time, the one starting at PeakSecond.
	PeakCalls  int
	PeakSecond time.Duration
	// PeakServed is the most calls the dependency was serving at once
	// (calls it refused in an outage are not served).
	PeakServed int
	// Hosts describe each host of the dependency, when it has 2 or more
	// (Dependency.Hosts).
	Hosts []HostStats
	// Latencies are the executions' durations in virtual time, sorted.
	Latencies []time.Duration
	// Elapsed is the virtual time from the start to the last execution's
	// end.
	Elapsed time.Duration
	// MaxInFlight is the largest number of executions in progress at once.
	MaxInFlight int
	// Visits counts, for each state of the per-call machine in declaration
	// order, the times executions entered it.
	Visits []StateCount
	// Breaker and Bulkhead describe the shared machines; nil when the
	// workflow has none.
	Breaker  *BreakerStats
	Bulkhead *BulkheadStats
	// RateLimit, Budget and Adaptive describe the rate limiter, the retry
	// budget and the adaptive limiter; nil when the workflow has none.
	RateLimit *RateLimitStats
	Budget    *BudgetStats
	Adaptive  *AdaptiveStats
	// Metrics and Health are the workflow's own (Workflow.Metrics and
	// Workflow.Health) at the last execution's end. Alerts are the times,
	// from the start, at which it raised an alert (the config's
	// alert_threshold; none without one).
	Metrics errorrecovery.WorkflowMetrics
	Health  errorrecovery.HealthStatus
	Alerts  []time.Duration
	// AlertThreshold is the config's (zero: no alerts).
	AlertThreshold int
	// Timeline splits the executions by arrival time into equal buckets.
	Timeline []Bucket
	// Notes say what the simulation changed in the config, and why.
	Notes []string

	wf     *errorrecovery.Workflow[any]
	visits map[int]int // per-call machine, by transition
}

// Failures splits failed executions by cause.
type Failures struct {
	Exhausted        int // every attempt allowed failed
	TimedOut         int // the overall deadline passed
	BreakerRejected  int // the circuit breaker refused the call
	BulkheadRejected int // the bulkhead was full, or the wait for a slot timed out
	RateLimited      int // the rate limiter had no permit in time
	LimitRejected    int // the adaptive limit of calls in flight was reached
	BudgetRefused    int // the retry budget refused a retry
	Other            int // a permanent error, such as one retry_on does not list
}

func (f *Failures) add(err error) {
	_, timedOut := errors.AsType[*errorrecovery.TimeoutError](err)
	switch {
	case errors.Is(err, budget.ErrExhausted):
		f.BudgetRefused++
	case errors.Is(err, errorrecovery.ErrExhausted):
		f.Exhausted++
	case timedOut:
		f.TimedOut++
	case errors.Is(err, breaker.ErrOpen), errors.Is(err, breaker.ErrTooManyTrials):
		f.BreakerRejected++
	case errors.Is(err, bulkhead.ErrFull), errors.Is(err, bulkhead.ErrQueueTimeout):
		f.BulkheadRejected++
	case errors.Is(err, ratelimit.ErrLimited):
		f.RateLimited++
	case errors.Is(err, adaptive.ErrLimitExceeded):
		f.LimitRejected++
	default:
		f.Other++
	}
}

// StateCount is a state's label and a count.
type StateCount struct {
	State string
	Count int
}

// StateTime is a state's label and the time spent in it.
type StateTime struct {
	State string
	Time  time.Duration
}

// Change is a change of a shared machine's state.
type Change struct {
	At       time.Duration // from the start
	From, To string
}

// BreakerStats describe the circuit breaker over the run.
type BreakerStats struct {
	// Opens counts the times it opened.
	Opens int
	// Time is the time spent in each state, in declaration order, up to
	// the last execution's end.
	Time []StateTime
	// Changes are its state changes, in order.
	Changes []Change

	visits map[int]int
}

func (b *BreakerStats) initial() string { return breaker.StateClosed.String() }

// BulkheadStats describe the bulkhead over the run.
type BulkheadStats struct {
	// Queued counts calls that waited for a slot; Completed those that
	// ran; Rejected those refused at once; TimedOut those whose wait
	// timed out.
	Queued                        int
	Completed, Rejected, TimedOut uint64

	visits map[int]int
}

// Bucket is one row of the timeline: the executions that arrived in
// [Start, Start + Duration/Buckets).
type Bucket struct {
	Start                                    time.Duration
	Executions, Succeeded, Fallbacks, Failed int
	// Health is the workflow's Health when the last of the bucket's
	// executions finished (meaningless when it has none).
	Health errorrecovery.Health
	// BreakerOpens counts the breaker's opens in the bucket, and Breaker
	// is its state at the bucket's end ("" without a breaker).
	BreakerOpens int
	Breaker      string
	// Calls counts the calls the dependency received in the row's span of
	// time (by when they were made, not when their execution arrived).
	Calls int
	// Limit is the adaptive limit at the row's end, and LimitLow the
	// lowest it was during the row (zero without an adaptive limiter).
	Limit, LimitLow int
}

// Percentile returns the latency at or below which q of the executions
// finished (nearest rank), for q in [0, 1].
func (r *Result) Percentile(q float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(q*float64(n)+0.999999999) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// Diagram returns the workflow's diagram (Workflow.Diagram) with the run's
// visit counts overlaid on the per-call machine and on the breaker and
// bulkhead clusters.
func (r *Result) Diagram() (fsm.Graph, fsm.DiagramOptions) {
	g, opts := r.wf.Diagram(fsm.DiagramOptions{Visits: r.visits})
	for i := range opts.Clusters {
		c := &opts.Clusters[i]
		switch {
		case r.Breaker != nil && c.Graph.Name == r.wf.Breaker().Definition().Name():
			c.Visits = r.Breaker.visits
		case r.Bulkhead != nil && c.Graph.Name == r.wf.Bulkhead().Definition().Name():
			c.Visits = r.Bulkhead.visits
		}
	}
	return g, opts
}

// callWatch counts the per-call machine's steps. It is the workflow's
// observer, which the workflow may also give machines it makes itself
// (those it keeps per key): their steps, of another machine, are left
// out.
type callWatch struct {
	machine string              // the per-call machine's name; "" until the workflow is built
	other   func(engine.Record) // gets the steps of other machines, when set
	visits  map[int]int         // by transition
	states  map[string]int      // entries, by state label
}

// Observe counts a step.
func (w *callWatch) Observe(r engine.Record) {
	if r.Machine != w.machine {
		if w.other != nil {
			w.other(r)
		}
		return
	}
	if r.Transition >= 0 {
		w.visits[r.Transition]++
		if r.Entered == nil {
			w.states[r.To]++
			return
		}
		for _, s := range r.Entered { // a composite state, then its child
			w.states[s]++
		}
	}
}

// breakerWatch follows the breaker's states.
type breakerWatch struct {
	visits  map[int]int
	spent   map[string]time.Duration
	start   time.Time
	last    time.Time // of the last change
	state   string
	opens   int
	changes []Change
}

// Observe counts a step and times state changes.
func (w *breakerWatch) Observe(r engine.Record) {
	if r.Transition < 0 {
		return
	}
	w.visits[r.Transition]++
	if r.From == r.To {
		return
	}
	w.spent[r.From] += r.Time.Sub(w.last)
	w.last, w.state = r.Time, r.To
	w.changes = append(w.changes, Change{At: r.Time.Sub(w.start), From: r.From, To: r.To})
	if r.To == breaker.StateOpen.String() {
		w.opens++
	}
}

// bulkheadWatch counts the bulkhead's steps.
type bulkheadWatch struct {
	b      *bulkhead.Bulkhead
	visits map[int]int
}

// Observe counts a step.
func (w *bulkheadWatch) Observe(r engine.Record) {
	if r.Transition >= 0 {
		w.visits[r.Transition]++
	}
}
