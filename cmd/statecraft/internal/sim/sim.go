// Package sim runs a workflow of package errorrecovery against a simulated
// dependency, as a discrete-event simulation on a manual clock: many
// executions, arriving over a span of virtual time, each taking the path
// its outcomes lead it through the workflow's machine. A simulated hour
// takes a fraction of a second, and the same seed gives the same run, to
// the byte, on any machine.
//
// The scheduler type's comment says how the executions take turns.
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/internal/manualclock"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// Arrivals says how executions are spread over Options.Duration.
type Arrivals uint8

// The arrival processes.
const (
	Poisson Arrivals = iota // exponential gaps with mean Duration/Executions
	Even                    // one every Duration/Executions, from time zero
)

// String returns "poisson" or "even".
func (a Arrivals) String() string {
	if a == Even {
		return "even"
	}
	return "poisson"
}

// Options configure a simulation.
type Options struct {
	// Executions is the number of executions; at least 1, at most
	// MaxExecutions.
	Executions int
	// Duration is the span of virtual time over which executions arrive;
	// it must be positive. The run itself lasts until the last execution
	// finishes.
	Duration time.Duration
	// Arrivals spreads the arrivals; the zero value is Poisson.
	Arrivals Arrivals
	// Bursts are executions that arrive on top of Executions, each
	// burst's evenly over its window: a spike of traffic. Executions and
	// the bursts' executions together are at most MaxExecutions.
	Bursts []Burst
	// Seed seeds the random sources: arrivals, the dependency's draws and
	// the workflow's jitter each get a PCG stream of their own, so that a
	// change to one (more retries, say) leaves the others as they were.
	Seed uint64
	// Dependency is the simulated service.
	Dependency Dependency
	// Buckets is the number of rows of Result.Timeline; zero means no
	// timeline. At most MaxBuckets.
	Buckets int
	// Progress, when set, is called after each execution finishes with
	// the number finished so far.
	Progress func(finished int)

	// What "statecraft demo --serve" watches a run with; all are unset
	// otherwise, and a run is the same with or without them.
	//
	// Observe, when set, gives the shared machines one more option each
	// (such as an inspector's observer), by name: "breaker", "bulkhead",
	// "ratelimit", "budget", "adaptive".
	Observe func(machine string) engine.Option
	// Ready, when set, is called with the workflow once it and its shared
	// machines are built, before the first arrival.
	Ready func(wf *errorrecovery.Workflow[any])
	// Traced, when set, is called after each execution with the steps it
	// took (the execution is traced, with Workflow.TraceResult) and its
	// error.
	Traced func(steps []engine.Record, err error)
	// Pace, when set, is called each time the clock has moved or timers
	// have run, with the virtual time elapsed. It may block, to run the
	// simulation at the pace of a wall clock; an error stops the run,
	// which returns it.
	Pace func(elapsed time.Duration) error
}

// The bounds of a simulation, which keep its memory and its virtual time
// finite whatever the config and the options say.
const (
	// MaxExecutions bounds Options.Executions.
	MaxExecutions = 10_000_000
	// MaxBuckets bounds Options.Buckets: a timeline has a row per bucket.
	MaxBuckets = 1000
	// MaxInFlight bounds the executions in progress at once: each is a
	// coroutine with a stack of its own (about 10 KB), and the scheduler
	// looks at each sleeping one after every step, so a run's time grows
	// with their square (100,000 at once took minutes and a gigabyte). A
	// run that would pass it stops with a *LimitError. The sample
	// configs' runs have fewer than 10 in flight.
	MaxInFlight = 1000
	// MaxOverrun bounds how long a run may go on after Options.Duration,
	// in virtual time: a run whose clock passes Duration + MaxOverrun
	// stops with a *LimitError. No timeout or delay of a workflow is
	// longer, so only a run whose executions would go on for days (a
	// retry that never gives up on a dependency that always fails) meets
	// it.
	MaxOverrun = 24 * time.Hour
)

// foreverQueue stands in for a bulkhead QueueTimeout of NoTimeout (none),
// so that a queued call sleeps on the clock; see scheduler. It is the
// longest QueueTimeout a config may set.
const foreverQueue = 24 * time.Hour

// LimitError reports a run stopped at one of the bounds MaxInFlight and
// MaxOverrun; the executions still in progress are abandoned.
type LimitError struct {
	// Limit names the bound: "in flight" (MaxInFlight) or "overrun"
	// (MaxOverrun).
	Limit string
	// At is the virtual time, from the start, at which the run stopped.
	At time.Duration
	// Unfinished is the number of executions that had not finished,
	// those that had not arrived included.
	Unfinished int
}

// Error says which bound the run met, when, and what was left.
func (e *LimitError) Error() string {
	if e.Limit == "in flight" {
		return fmt.Sprintf("sim: more than %d executions in flight at once at %v (%d unfinished): "+
			"fewer executions, a longer duration or a faster dependency would keep them under it",
			MaxInFlight, e.At, e.Unfinished)
	}
	return fmt.Sprintf("sim: the run went on past %v of virtual time after its duration, with %d executions unfinished at %v: "+
		"do retries or queues wait without end (max_attempts, delays, a dependency that always fails)?",
		MaxOverrun, e.Unfinished, e.At)
}

// Run simulates opts.Executions executions of the workflow cfg describes.
// The workflow runs on the simulation's clock and random source, with an
// observer of its own; cfg's Logger, OnError and OnAlert are replaced (the
// alerts are recorded in Result.Alerts),
// and so are its shared machines, which the
// simulation builds from their configs so as to watch them (a SharedBreaker,
// SharedBulkhead or SharedCache given in cfg is an error). Features that
// wait other than on the clock are changed as Result.Notes says.
func Run(cfg errorrecovery.ErrorRecoveryConfig[any], opts Options) (*Result, error) {
	switch {
	case opts.Executions < 1 || opts.Executions > MaxExecutions:
		return nil, fmt.Errorf("sim: executions %d: want 1 to %d", opts.Executions, MaxExecutions)
	case opts.Duration <= 0:
		return nil, fmt.Errorf("sim: duration %v: want a positive duration", opts.Duration)
	case cfg.SharedBreaker != nil || cfg.SharedBulkhead != nil || cfg.SharedCache != nil ||
		cfg.SharedRateLimiter != nil || cfg.SharedBudget != nil || cfg.SharedAdaptiveLimiter != nil:
		return nil, errors.New("sim: the config passes shared machines; the simulation builds its own from their configs")
	}
	if err := opts.Dependency.check(); err != nil {
		return nil, err
	}
	total, err := opts.total()
	if err != nil {
		return nil, err
	}
	if opts.Buckets < 0 || opts.Buckets > MaxBuckets {
		return nil, fmt.Errorf("sim: buckets %d: want 0 to %d", opts.Buckets, MaxBuckets)
	}
	s := &sim{
		opts:     opts,
		arrivals: rand.New(rand.NewPCG(opts.Seed, 1)),
		draws:    rand.New(rand.NewPCG(opts.Seed, 2)),
		hosts:    rand.New(rand.NewPCG(opts.Seed, 4)),
		total:    total,
		res:      &Result{Executions: total, AlertThreshold: cfg.AlertThreshold},
	}
	s.sched.clk = manualclock.NewClock(time.Time{})
	s.sched.start = s.sched.clk.Now()
	jitter := rand.New(rand.NewPCG(opts.Seed, 3))
	if err := s.prepare(&cfg); err != nil {
		return nil, err
	}
	wf, err := errorrecovery.NewWorkflow(cfg, engine.WithClock(&s.sched), engine.WithRandom(jitter.Float64), engine.WithObserver(&s.calls))
	if err != nil {
		return nil, err
	}
	s.wf = wf
	s.calls.machine = wf.Definition().Name()
	s.calls.other = s.keyedStep
	s.res.wf = wf
	if opts.Ready != nil {
		opts.Ready(wf)
	}
	s.res.Timeline = make([]Bucket, opts.Buckets)
	for i := range s.res.Timeline {
		s.res.Timeline[i].Start = time.Duration(i) * s.bucketWidth()
	}

	s.sched.AfterFunc(s.gap(0), s.arrive)
	s.planBursts()
	end := opts.Duration + MaxOverrun
	if end < opts.Duration {
		end = time.Duration(math.MaxInt64)
	}
	check := func() error {
		if s.err == nil && s.elapsed() > end {
			s.err = &LimitError{Limit: "overrun", At: s.elapsed(), Unfinished: total - s.finished}
		}
		if s.err == nil && opts.Pace != nil {
			s.err = opts.Pace(s.elapsed())
		}
		return s.err
	}
	if err := s.sched.run(func() bool { return s.arrived == total }, check); err != nil {
		return nil, err
	}
	s.finish()
	return s.res, nil
}

// sim is one simulation in progress.
type sim struct {
	opts     Options
	sched    scheduler
	arrivals *rand.Rand // gaps between arrivals
	draws    *rand.Rand // the dependency's latencies and failures
	hosts    *rand.Rand // the host of each execution
	wf       *errorrecovery.Workflow[any]
	total    int // executions, bursts included
	arrived  int
	steady   int // of the arrived, those of Executions (not of a burst)
	finished int
	inFlight int
	res      *Result
	calls    callWatch
	breaker  *breakerWatch
	bulkhead *bulkheadWatch
	limits   limitWatch
	keyed    bool // the workflow keeps its machines per key: it builds them
	load     loadWatch
	err      error // a bound met: the run stops
}

// gap returns the time from arrival i-1 (or the start) to arrival i.
func (s *sim) gap(i int) time.Duration {
	mean := float64(s.opts.Duration) / float64(s.opts.Executions)
	if s.opts.Arrivals == Even {
		if i == 0 {
			return 0
		}
		return time.Duration(float64(i)*mean) - time.Duration(float64(i-1)*mean)
	}
	return time.Duration(s.arrivals.ExpFloat64() * mean)
}

// arrive starts the next of Options.Executions and schedules the one
// after it. It runs as a timer callback, between steps.
func (s *sim) arrive() {
	if !s.start() {
		return
	}
	s.steady++
	if s.steady < s.opts.Executions {
		s.sched.AfterFunc(s.gap(s.steady), s.arrive)
	}
}

// start starts an execution, or reports false when that would pass
// MaxInFlight, which stops the run.
func (s *sim) start() bool {
	if s.inFlight >= MaxInFlight {
		// No more arrivals: the run stops with the error.
		s.err = &LimitError{Limit: "in flight", At: s.elapsed(), Unfinished: s.total - s.finished}
		return false
	}
	p := &proc{id: s.arrived, arrival: s.sched.clk.Now()}
	if s.opts.Dependency.Hosts > 1 {
		p.host = s.hosts.IntN(s.opts.Dependency.Hosts)
	}
	s.arrived++
	s.inFlight++
	s.res.MaxInFlight = max(s.res.MaxInFlight, s.inFlight)
	s.sched.spawn(p, s.execute)
	return true
}

// execute is the body of one execution.
func (s *sim) execute(p *proc) {
	fn := func(ctx context.Context) (any, error) { return s.call(ctx, p) }
	ctx := context.Background()
	if s.opts.Dependency.Hosts > 1 {
		ctx = withHost(ctx, p.host)
	}
	if s.opts.Traced != nil {
		res, steps, err := s.wf.TraceResult(ctx, fn)
		s.opts.Traced(steps, err)
		s.record(p, res.Source, err)
		return
	}
	res, err := s.wf.ExecuteResult(ctx, fn)
	s.record(p, res.Source, err)
}

// call is one call of the simulated dependency.
func (s *sim) call(ctx context.Context, p *proc) (any, error) {
	if p.stopped {
		// The run was abandoned: end the execution, not just the call.
		return nil, errorrecovery.Permanent(errStopped)
	}
	p.calls++
	dep := &s.opts.Dependency
	now := s.elapsed()
	s.load.call(s, now)
	latency := dep.latency(s.draws, now, s.load.inFlight+1)
	failed := s.draws.Float64() < dep.FailureRate
	host := s.host(p.host)
	host.Calls++
	if dep.inOutage(now, p.host) {
		host.CallsFailed++
		return nil, errOutage
	}
	s.load.serve()
	err := s.sched.Sleep(ctx, latency)
	s.load.inFlight--
	if err != nil {
		host.CallsFailed++
		return nil, err
	}
	if failed {
		host.CallsFailed++
		return nil, UnavailableError{}
	}
	return "ok", nil
}

// bucketWidth is the span of arrival time of one row of the timeline.
func (s *sim) bucketWidth() time.Duration {
	return max(s.opts.Duration/time.Duration(max(s.opts.Buckets, 1)), 1)
}

func (s *sim) elapsed() time.Duration { return s.sched.clk.Now().Sub(s.sched.start) }

// record accounts for a finished execution.
func (s *sim) record(p *proc, src errorrecovery.Source, err error) {
	r := s.res
	s.inFlight--
	s.finished++
	now := s.sched.clk.Now()
	r.Elapsed = now.Sub(s.sched.start)
	r.Latencies = append(r.Latencies, now.Sub(p.arrival))
	r.Calls += p.calls
	for len(r.Attempts) <= p.calls {
		r.Attempts = append(r.Attempts, 0)
	}
	r.Attempts[p.calls]++
	var b Bucket // a scratch one when there is no timeline
	bp := &b
	if len(r.Timeline) > 0 {
		i := int(p.arrival.Sub(s.sched.start) / s.bucketWidth())
		bp = &r.Timeline[min(i, len(r.Timeline)-1)]
	}
	bp.Executions++
	bp.Health = s.wf.Health().Status
	h := s.host(p.host)
	h.Executions++
	switch {
	case err != nil:
		r.Failed++
		bp.Failed++
		h.Failed++
		r.Failures.add(err)
	case src == errorrecovery.SourceFunction:
		r.Succeeded++
		bp.Succeeded++
		h.Succeeded++
	case src == errorrecovery.SourceCache:
		r.FromCache++
		bp.Succeeded++
		h.Succeeded++
	case src == errorrecovery.SourceStaleCache:
		r.Stale++
		bp.Fallbacks++
		h.Fallbacks++
	default:
		r.Fallbacks++
		bp.Fallbacks++
		h.Fallbacks++
	}
	if s.opts.Progress != nil {
		s.opts.Progress(s.finished)
	}
}

// finish completes the result once every execution has finished.
func (s *sim) finish() {
	r := s.res
	slices.Sort(r.Latencies)
	g := s.wf.Definition().Graph()
	for i, st := range g.States {
		n := s.calls.states[st.Label]
		if i == 0 {
			n = r.Executions // the initial state is entered by starting
		}
		r.Visits = append(r.Visits, StateCount{State: st.Label, Count: n})
	}
	r.visits = s.calls.visits
	r.Metrics, r.Health = s.wf.Metrics(), s.wf.Health()
	if w := s.breaker; w != nil {
		end := s.sched.clk.Now()
		w.spent[w.state] += end.Sub(w.last)
		bs := &BreakerStats{Opens: w.opens, Changes: w.changes, visits: w.visits}
		for _, st := range s.wf.Breaker().Definition().Graph().States {
			bs.Time = append(bs.Time, StateTime{State: st.Label, Time: w.spent[st.Label]})
		}
		width := s.bucketWidth()
		state := bs.initial()
		k := 0
		for i := range r.Timeline {
			b := &r.Timeline[i]
			bucketEnd := b.Start + width
			if i == len(r.Timeline)-1 {
				bucketEnd = max(bucketEnd, r.Elapsed+1)
			}
			for ; k < len(bs.Changes) && bs.Changes[k].At < bucketEnd; k++ {
				if bs.Changes[k].To == breaker.StateOpen.String() {
					b.BreakerOpens++
				}
				state = bs.Changes[k].To
			}
			b.Breaker = state
		}
		r.Breaker = bs
	}
	if w := s.bulkhead; w != nil {
		m := w.b.Metrics()
		hs := &BulkheadStats{Completed: m.Completed, Rejected: m.Rejected, TimedOut: m.TimedOut, visits: w.visits}
		for i, e := range w.b.Definition().Graph().Edges {
			if slices.Contains(e.Actions, "enqueue") {
				hs.Queued += w.visits[i]
			}
		}
		r.Bulkhead = hs
	}
	r.PeakServed = s.load.peak
	if s.keyed && len(r.Hosts) > 0 {
		s.finishHosts()
	}
	s.finishLimits()
}
