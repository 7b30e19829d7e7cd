package adaptive

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Limiter bounds the calls in flight to a dependency by a limit that it
// moves with their measured latency: up while the dependency answers as
// fast as it does unloaded, down when calls start queueing there. A call
// over the limit is rejected at once with a *LimitError. It is a shared
// Instance of its machine (Definition): every move of the limit is an
// action of a transition of that machine.
//
// A Limiter is safe for concurrent use and must not be copied.
type Limiter struct {
	_        noCopy
	inst     *engine.Instance[State, Event, Data]
	clock    engine.Clock
	origin   time.Time
	cfg      Config       // resolved
	limit    atomic.Int64 // the limit in force, published by the machine's actions
	inflight atomic.Int64

	admitted, rejected, completed, dropped atomic.Uint64

	// lastReject is the error of the last rejection, returned again to
	// rejections with the same limit and calls in flight, as most are.
	lastReject atomic.Pointer[LimitError]

	mu      sync.Mutex // guards win, closing and the firing of EventWindow
	win     samples
	closing Window // the Window fired
}

// samples is the window being filled.
type samples struct {
	start      time.Duration // since origin
	n          int
	sum, least time.Duration
	peak       int // calls in flight at admission, the most of any sample
}

// noCopy makes go vet's copylocks check report a copied Limiter.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Metrics are a limiter's gauges and counters.
type Metrics struct {
	// Limit is the limit in force; InFlight the calls admitted and not
	// yet done.
	Limit, InFlight int
	// Baseline is the dependency's latency with no queue, as last
	// measured (0 before the first window).
	Baseline time.Duration
	// Admitted counts the calls admitted, Rejected those refused.
	Admitted, Rejected uint64
	// Completed counts the calls done with a latency sample (Permit.Done),
	// Dropped those done without one (Permit.Drop, a cancelled call, a
	// panic).
	Completed, Dropped uint64
}

// New returns a limiter for cfg, or the *setup.ConfigError (an
// errorrecovery.ConfigError) of the first invalid field. It reads
// engine.WithClock (the clock latencies and windows are measured on;
// tests pass an enginetest.Clock), engine.WithObserver (sees every step,
// one per window) and engine.WithDefinition (a machine to run instead of
// Definition, reusing its actions by name). It starts no goroutine and
// arms no timer.
func New(cfg Config, opts ...engine.Option) (*Limiter, error) {
	cfg, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	o, err := setup.Read[State, Event, Data](configName, Definition, opts)
	if err != nil {
		return nil, err
	}
	if !o.Def.CommitsRegardless() {
		return nil, fmt.Errorf("errorrecovery: adaptive limiter definition %q does not commit regardless of the caller's context (fsm.Builder.CommitRegardless)", o.Def.Name())
	}
	l := &Limiter{clock: o.Clock, origin: o.Clock.Now(), cfg: cfg}
	probe := cfg.ProbeEvery
	data := Data{
		floor: float64(cfg.MinLimit), ceiling: float64(cfg.MaxLimit), smoothing: cfg.Smoothing,
		probeEvery: probe, limit: float64(cfg.InitialLimit), pub: &l.limit,
	}
	l.limit.Store(int64(cfg.InitialLimit))
	if l.inst, err = engine.NewInstance(o.Def, data, o.EngineOptions()...); err != nil {
		return nil, err
	}
	return l, nil
}

// Permit is the admission of one call. Finish it exactly once: with Done,
// which gives the slot back and records the call's latency, or with Drop,
// which only gives the slot back. A Permit is a small value; the zero
// Permit (returned with a rejection) ignores both.
type Permit struct {
	l        *Limiter
	start    time.Duration // since l.origin
	inflight int32         // calls in flight at admission, this one included
}

// Acquire admits a call while fewer calls than the limit are in flight,
// and otherwise rejects it at once with a *LimitError (errors.Is
// ErrLimitExceeded) saying the limit and the calls in flight. It never
// waits. Admission takes two atomic adds and a clock read, and allocates
// nothing; a rejection at a full limit, two atomic loads and an add. A rejection allocates its error only when the limit or the
// calls in flight differ from the last rejection's: rejections that say
// the same share one *LimitError, which callers must treat as read-only.
func (l *Limiter) Acquire() (Permit, error) {
	lim := l.limit.Load()
	if n := l.inflight.Load(); n >= lim { // full: refuse without touching the count
		l.rejected.Add(1)
		return Permit{}, l.rejection(int(lim), int(n))
	}
	n := l.inflight.Add(1)
	if n > lim {
		l.inflight.Add(-1)
		l.rejected.Add(1)
		return Permit{}, l.rejection(int(lim), int(n-1))
	}
	l.admitted.Add(1)
	return Permit{l: l, start: l.since(), inflight: int32(n)}, nil
}

// rejection returns the error of a call rejected at limit with inflight
// calls in flight.
func (l *Limiter) rejection(limit, inflight int) *LimitError {
	if e := l.lastReject.Load(); e != nil && e.Limit == limit && e.InFlight == inflight {
		return e
	}
	e := &LimitError{Limit: limit, InFlight: inflight}
	l.lastReject.Store(e)
	return e
}

// Done gives the slot back and records the call's latency, from Acquire
// to now on the limiter's clock, whatever err is, since a slow failure
// says as much about the dependency's queue as a slow success; except
// that a call whose err is context.Canceled is dropped (Drop): its caller
// gave up, so its latency is not the dependency's. The sample that closes
// a window moves the limit, under the machine's lock; the others take a
// mutex and allocate nothing.
func (p Permit) Done(err error) {
	l := p.l
	if l == nil {
		return
	}
	if err == context.Canceled {
		p.Drop()
		return
	}
	now := l.since()
	l.inflight.Add(-1)
	l.completed.Add(1)
	l.record(now, now-p.start, int(p.inflight))
}

// Drop gives the slot back without recording a latency, for a call whose
// duration says nothing about the dependency (it never reached it, or
// panicked).
func (p Permit) Drop() {
	if p.l != nil {
		p.l.inflight.Add(-1)
		p.l.dropped.Add(1)
	}
}

// record adds a sample to the window, and closes the window when it is
// due: at least Window long and MinSamples samples.
func (l *Limiter) record(now, rtt time.Duration, inflight int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := &l.win
	if w.n == 0 || rtt < w.least {
		w.least = rtt
	}
	w.n++
	w.sum += rtt
	w.peak = max(w.peak, inflight)
	if w.n < l.cfg.MinSamples || now-w.start < l.cfg.Window {
		return
	}
	l.closing = Window{Samples: w.n, Mean: w.sum / time.Duration(w.n), Min: max(w.least, 1), Peak: w.peak}
	*w = samples{start: now}
	if _, err := engine.FireWith(context.Background(), l.inst, EventWindow, &l.closing); err != nil {
		panic(fmt.Sprintf("errorrecovery: the adaptive limiter machine did not take a window: %v", err))
	}
}

func (l *Limiter) since() time.Duration { return l.clock.Now().Sub(l.origin) }

// Protect runs fn if the limiter admits it, and returns fn's error, or a
// *LimitError when fn did not run. fn's latency is recorded as Done
// records it; a panic in fn drops the permit and goes on.
func (l *Limiter) Protect(ctx context.Context, fn func(context.Context) error) error {
	p, err := l.Acquire()
	if err != nil {
		return err
	}
	ended := false
	defer func() {
		if !ended {
			p.Drop()
		}
	}()
	err = fn(ctx)
	ended = true
	p.Done(err)
	return err
}

// Limit returns the limit in force. It takes no lock.
func (l *Limiter) Limit() int { return int(l.limit.Load()) }

// InFlight returns the calls admitted and not yet done.
func (l *Limiter) InFlight() int { return int(l.inflight.Load()) }

// State reports what the last window did to the limit. It takes no lock.
func (l *Limiter) State() State { return l.inst.State() }

// Definition returns the machine the limiter runs.
func (l *Limiter) Definition() *fsm.Definition[State, Event, Data] { return l.inst.Definition() }

// Config returns the config the limiter runs with, resolved.
func (l *Limiter) Config() Config { return l.cfg }

// Metrics returns the limiter's gauges and counters, each read
// atomically; the baseline under the machine's lock.
func (l *Limiter) Metrics() Metrics {
	m := Metrics{
		Limit:     l.Limit(),
		InFlight:  l.InFlight(),
		Admitted:  l.admitted.Load(),
		Rejected:  l.rejected.Load(),
		Completed: l.completed.Load(),
		Dropped:   l.dropped.Load(),
	}
	l.inst.Do(func(_ State, d *Data) { m.Baseline = d.baseline })
	return m
}
