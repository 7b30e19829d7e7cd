package breaker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Breaker is a circuit breaker: a shared engine.Instance of the machine
// Definition returns (Closed, Open, HalfOpen) that stops calls to a
// failing dependency for a while, then lets a few trial calls decide
// whether it has recovered. Every state change is a transition of that
// definition, taken by the Instance; the Definition method returns the
// one a breaker runs, for diagrams and traces.
//
// A Breaker is safe for concurrent use and must not be copied (go vet's
// copylocks check reports a copy). One Breaker may be shared by many
// callers and workflows. Make one with New; the zero Breaker is not
// usable.
//
// # Admission and outcomes
//
// Allow reads the Instance's state word (state and generation, one atomic
// load, the same word State reads, so they always agree) and returns a
// Permit carrying the generation, or an *OpenError. Permit.Done reports the
// outcome: it is written into the window of the closed period the call was
// admitted in, then fired as a success or failure event with that
// generation (Instance.FireIfGeneration), so an outcome that arrives after
// the breaker has changed state is ignored.
//
// # The lock-free success path
//
// The window's rules are judged on every change of the window, whatever
// outcome caused it, so that State never reports Closed while the window
// says open: every failure and every slow call is fired, and so is every
// success that can have changed what a rate rule says. With the count rule
// alone, no success can (it adds no failure); with a rate rule on and a
// count-only window, only the success that brings the window to
// MinimumCalls can (once the window holds that many, a success that is
// not slow only lowers the rates); with a window with a duration, any
// success can (older outcomes age out), so each is judged against the
// window and fired when a rate rule holds.
//
// With a count-only window and no slow-call rule, a success in Closed is
// therefore recorded with a few atomic operations and no lock and no
// clock, and fires nothing (the default definition's Closed/success
// transitions are an internal no-op and the rate guards, which could not
// hold); only the success that brings the window to MinimumCalls, with a
// rate rule on, is fired. Invariants that make this safe:
//
//   - The window is replaced, never cleared: entering Closed publishes a
//     new window stamped with the generation just committed, so a call
//     from an earlier period cannot write into the current one.
//   - Done records lock-free only if the Instance's generation equals
//     the permit's: the call was admitted in this closed period and the
//     breaker is still in it. Otherwise it takes the locked path, which
//     waits out a transition in progress (the word is published before
//     the entry action swaps the window) and drops a stale outcome.
//   - Failures always go through the Instance: the window is written
//     first, then the failure event is fired, so its guards see it. A
//     concurrent success can only lower the counts the guards read.
//   - The success that brings a count-only window to MinimumCalls is the
//     one whose position is the window's start plus MinimumCalls; it is
//     fired in that window's generation, after its position is taken, so
//     the guards count it. Whatever outcome took that position, the rules
//     are judged once the window holds MinimumCalls outcomes.
//
// The lock-free path is used only when the definition's Closed/success
// transitions are the default ones (see New); any other
// definition gets every outcome fired. docs/circuit-breaker.md has the
// reasoning and the figures.
type Breaker struct {
	_ noCopy

	// Set at construction, read-only after; read by every call.
	inst        *engine.Instance[State, Event, *Breaker]
	cfg         settings
	clock       engine.Clock
	origin      time.Time // the clock's time at construction; permits time calls from it
	fast        bool      // Done(nil) in Closed may take the lock-free path
	skipSuccess bool      // a closed success that is not slow need not be fired, unless it may trip a rate rule
	rated       bool      // a rate rule is on: some successes must be judged (see doneClosed)
	timed       bool      // the window has a duration: outcomes read the clock
	timing      bool      // the slow-call rule is on: permits read the clock
	trialErr    *OpenError
	labels      []stateLabel // state labels of the definition, for the callbacks

	_ [64]byte // keep the counters below off the read-mostly line above

	// Published by the machine's actions, which run under the Instance's
	// lock; atomics so that admission and Metrics read them without it.
	count             atomic.Pointer[countWindow] // the closed period's window (count-only)
	timedWin          atomic.Pointer[timeWindow]  // the closed period's window (with a duration)
	openErr           atomic.Pointer[OpenError]   // the current (or last) open episode's rejection
	openTimeout       atomic.Int64                // that episode's timeout
	halfOpenSuccesses atomic.Int32                // successful trials in this half-open period
	opens             atomic.Uint64
	openStreak        int // opens since the breaker last closed; under the Instance's lock
	// stateSince is when the current state was entered and timeIn the time
	// spent in each state (indexed by State) in the periods that ended,
	// both in nanoseconds on the clock since origin, since construction or
	// Reset; entered is the state stateSince belongs to, under the
	// Instance's lock.
	stateSince atomic.Int64
	timeIn     [3]atomic.Int64
	entered    State

	_          [64]byte
	pos        atomic.Uint64 // outcomes recorded in count-only windows (see countWindow); written by every success
	_          [64]byte
	rejections atomic.Uint64 // written by every rejected call
	_          [64]byte

	// trialMu guards the trial count of the current half-open period. It
	// is a leaf lock: nothing else is locked while it is held.
	trialMu  sync.Mutex
	trialGen uint32 // the generation the count belongs to
	trials   int    // trial permits of that generation not yet done
}

// noCopy makes go vet's copylocks check report a copy of the struct that
// holds it, as sync.Mutex does; it takes no space.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

type stateLabel struct {
	label string
	state State
}

// New returns a closed Breaker running cfg, or the *setup.ConfigError
// (errorrecovery.ConfigError) of the first invalid field. Of the options,
// it reads:
//
//   - engine.WithClock: the clock the open timeout, the time window, slow
//     calls and RetryAfter use; the real one by default. Tests pass an
//     enginetest.Clock, on which the breaker goes half-open the moment
//     Advance passes the open timeout.
//   - engine.WithObserver: an observer of the breaker's Instance; it sees a
//     record for every step of the machine (not for the successes the
//     lock-free path records without firing).
//   - engine.WithDefinition: a definition to run instead of Definition(),
//     such as a variant built from DefinitionBuilder. It must be a
//     *fsm.Definition[State, Event, *Breaker], or New refuses it with a
//     *setup.ConfigError naming the field Definition. The breaker's own
//     code only admits calls by state (Closed: admit; Open: reject;
//     HalfOpen: admit up to HalfOpenMaxCalls trials; any other state:
//     reject), records outcomes in the window and fires their events;
//     everything else is up to the definition. A success in Closed skips
//     the machine only when the definition's Closed/success transitions
//     are, like the default's, internal transitions with no actions and no
//     guard, or transitions with no actions guarded by one of the
//     default's rate guards itself: the guard values DefinitionBuilder
//     declares, which copies of its specs keep (transitions.Guard.Same),
//     not other guards of the same names. Even then, a success that may
//     have changed what a rate rule says is fired.
//
// With a definition whose initial entry actions fail, New returns their
// error.
func New(cfg Config, opts ...engine.Option) (*Breaker, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	o, err := setup.Read[State, Event, *Breaker](configName, Definition, opts)
	if err != nil {
		return nil, err
	}
	b := &Breaker{cfg: s, clock: o.Clock, origin: o.Clock.Now(),
		timed: s.windowDuration > 0, timing: s.slowCall > 0}
	b.skipSuccess = successSkippable(o.Def)
	b.fast = b.skipSuccess && !b.timed && !b.timing
	b.rated = s.failureRate > 0 || s.slowRate > 0
	b.trialErr = &OpenError{halfOpen: true, clock: o.Clock}
	b.openErr.Store(&OpenError{clock: o.Clock, gen: ^uint32(0)}) // no episode yet
	for _, st := range o.Def.States() {
		l, _ := o.Def.Label(st)
		b.labels = append(b.labels, stateLabel{l, st})
	}
	eopts := o.EngineOptions()
	if s.onOpen != nil || s.onClose != nil || s.onHalfOpen != nil {
		eopts = append(eopts, engine.WithObserver(callbacks{b}))
	}
	inst, err := engine.NewInstance(o.Def, b, eopts...)
	if err != nil {
		return nil, err
	}
	b.inst = inst
	return b, nil
}

// successSkippable reports whether, in def, a success in Closed that was
// not slow can change nothing unless it changed what a rate rule says, so
// that the breaker may fire only the successes that can have (doneClosed):
// each of Closed's success transitions (none at all will do) is internal
// with no guard and no actions, or has no actions and is guarded by
// rateGuard or slowRateGuard, which hold only when a rate rule does.
func successSkippable(def *fsm.Definition[State, Event, *Breaker]) bool {
	if _, ok := def.Label(StateClosed); !ok {
		return false
	}
	for _, t := range def.Transitions() {
		if t.From != StateClosed || t.Event != EventSuccess || t.Delayed {
			continue
		}
		switch {
		case len(t.Actions) > 0:
			return false
		case t.Guard.IsZero() && t.Internal:
		case t.Guard.Same(rateGuard), t.Guard.Same(slowRateGuard):
		default:
			return false
		}
	}
	return true
}

// State reports the breaker's state: one atomic load of the Instance's
// state word, the same word admission reads. It takes no lock and never
// changes the state; the open timeout is a timer on the clock, so State
// reports HalfOpen from the moment it passes.
func (b *Breaker) State() State { return b.inst.State() }

// Definition returns the definition the breaker runs.
func (b *Breaker) Definition() *fsm.Definition[State, Event, *Breaker] {
	return b.inst.Definition()
}

// noStep is what waitForStep runs under the lock: nothing.
var noStep = func(State, **Breaker) {}

// waitForStep returns once the step the Instance may be in the middle of
// has finished: its state word is published at commit, before the entry
// actions that publish the window and the open episode's error.
func (b *Breaker) waitForStep() { b.inst.Do(noStep) }

func (b *Breaker) since() time.Duration { return b.clock.Now().Sub(b.origin) }

// lockedGeneration is the Instance's generation, for actions (which run
// under its lock, after the commit). During construction, before the
// Instance is known, it is zero, the initial generation.
func (b *Breaker) lockedGeneration() uint32 {
	if b.inst == nil {
		return 0
	}
	return b.inst.Generation()
}

// installWindow starts an empty window for the closed period of
// generation gen.
func (b *Breaker) installWindow(gen uint32) {
	if b.timed {
		w := newTimeWindow(gen, b.cfg.windowSize, b.cfg.windowDuration, b.origin)
		w.useClock(b.clock, ticks(b.clock))
		if old := b.timedWin.Swap(w); old != nil {
			old.stop()
		}
		return
	}
	b.count.Store(newCountWindow(gen, b.cfg.windowSize, b.pos.Load()))
}

// ticks reports whether a time window on clock c uses the bucket tick
// (see timeWindow): on the real clock, whose reads cost more than the rest
// of a success, and on a clock that asks for it (bucketTicker, as tests
// do); not on other clocks, such as a manual one, so that the window's
// timers never show among a test's pending ones.
func ticks(c engine.Clock) bool {
	switch c.(type) {
	case engine.RealClock, *engine.RealClock, bucketTicker:
		return true
	}
	return false
}

// bucketTicker is implemented by clocks that want the bucket tick.
type bucketTicker interface {
	engine.Clock
	bucketTick()
}

// windowCounts reads the current window; c tells the time for a window
// with a duration.
func (b *Breaker) windowCounts(c interface{ Now() time.Time }) tally {
	if b.timed {
		if w := b.timedWin.Load(); w != nil {
			return w.counts(c.Now())
		}
		return tally{}
	}
	if w := b.count.Load(); w != nil {
		return w.counts(b.pos.Load())
	}
	return tally{}
}

// Protect runs fn if the breaker admits it, and records its outcome. A
// rejected call returns the *OpenError and never runs fn. Otherwise
// Protect returns fn's error unchanged; ctx is passed to fn as it is.
//
// If fn panics (or calls runtime.Goexit), the call is recorded as a
// failure whatever Classify says (Permit.Abandon), its half-open trial
// slot is released, and the panic goes on with its original value.
func (b *Breaker) Protect(ctx context.Context, fn func(context.Context) error) error {
	p, err := b.Allow()
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished { // fn panicked (or called runtime.Goexit)
			p.Abandon()
		}
	}()
	err = fn(ctx)
	finished = true
	p.Done(err)
	return err
}

// ForceOpen fires forceOpen: with the default definition the breaker
// opens (from Open: opens again, restarting the timer) and rejects calls
// until its open timeout passes, like any open episode.
func (b *Breaker) ForceOpen() { _, _ = b.inst.Fire(context.Background(), EventForceOpen) }

// ForceClosed fires forceClose: with the default definition an open or
// half-open breaker closes, with a new window and no open-timeout growth;
// a closed one is left as it is.
func (b *Breaker) ForceClosed() { _, _ = b.inst.Fire(context.Background(), EventForceClose) }

// Reset fires reset: with the default definition the breaker closes from
// any state, with a new window, no open-timeout growth, and its rejection
// and open counts at zero.
func (b *Breaker) Reset() { _, _ = b.inst.Fire(context.Background(), EventReset) }

// Close stops the breaker's pending open timer. Use it when discarding a
// breaker on a real clock; afterwards an open breaker stays open until
// ForceClosed or Reset.
func (b *Breaker) Close() {
	b.inst.Close()
	if w := b.timedWin.Load(); w != nil {
		w.stop()
	}
}

// Metrics is a breaker's state and counts at one moment. The fields
// are read one after another, without stopping concurrent calls, so under
// load they may be a few calls apart.
type Metrics struct {
	// State and Generation are read together from the state word.
	State      State
	Generation uint32
	// Calls, Failures and SlowCalls count the outcomes in the window of
	// the current (or, while open or half-open, the last) closed period.
	Calls, Failures, SlowCalls int
	// FailureRate and SlowCallRate are Failures/Calls and SlowCalls/Calls,
	// zero when Calls is.
	FailureRate, SlowCallRate float64
	// Rejections counts calls rejected, open or half-open; Opens counts
	// the times the breaker opened. Both since construction or Reset.
	Rejections, Opens uint64
	// OpenTimeout is the timeout of the current or last open episode.
	OpenTimeout time.Duration
	// HalfOpenSuccesses counts the successful trials of the current
	// half-open period, and TrialsInFlight its trials not yet done; both
	// are zero in other states.
	HalfOpenSuccesses, TrialsInFlight int
	// TimeIn is the time spent in each state, indexed by State (the
	// current state's time counted up to the call of Metrics), on the
	// breaker's clock since construction or Reset. It is kept by the entry
	// actions of Definition; a definition without them keeps none.
	TimeIn [3]time.Duration
}

// Metrics returns the breaker's state and counts. It takes no lock of the
// Instance, so callbacks and observers may call it.
func (b *Breaker) Metrics() Metrics {
	s, g := b.inst.StateGeneration()
	c := b.windowCounts(b.clock)
	m := Metrics{
		State: s, Generation: g,
		Calls: c.calls, Failures: c.failures, SlowCalls: c.slows,
		FailureRate: c.failureRate(), SlowCallRate: c.slowRate(),
		Rejections: b.rejections.Load(), Opens: b.opens.Load(),
		OpenTimeout: time.Duration(b.openTimeout.Load()),
	}
	for i := range m.TimeIn {
		m.TimeIn[i] = time.Duration(b.timeIn[i].Load())
	}
	if int(s) < len(m.TimeIn) {
		m.TimeIn[s] += max(b.since()-time.Duration(b.stateSince.Load()), 0)
	}
	if s == StateHalfOpen {
		m.HalfOpenSuccesses = int(b.halfOpenSuccesses.Load())
		b.trialMu.Lock()
		if b.trialGen == g {
			m.TrialsInFlight = b.trials
		}
		b.trialMu.Unlock()
	}
	return m
}

// callbacks delivers OnOpen, OnClose and OnHalfOpen as an observer of
// the Instance: records arrive after its lock is released, one at a time,
// in transition order.
type callbacks struct{ b *Breaker }

// Observe calls the callback of the state a record's transition entered,
// when it changed the state.
func (o callbacks) Observe(r engine.Record) {
	if r.Transition < 0 || r.From == r.To {
		return
	}
	from, fok := o.b.stateOf(r.From)
	to, tok := o.b.stateOf(r.To)
	if !fok || !tok {
		return
	}
	var fn func(from, to State)
	switch to {
	case StateOpen:
		fn = o.b.cfg.onOpen
	case StateClosed:
		fn = o.b.cfg.onClose
	case StateHalfOpen:
		fn = o.b.cfg.onHalfOpen
	}
	if fn != nil {
		fn(from, to)
	}
}

func (b *Breaker) stateOf(label string) (State, bool) {
	for _, l := range b.labels {
		if l.label == label {
			return l.state, true
		}
	}
	return 0, false
}
