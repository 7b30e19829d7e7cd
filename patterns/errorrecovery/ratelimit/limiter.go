package ratelimit

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"github.com/statecraft/statecraft/transitions"
)

// Limiter is a rate limiter: a shared engine.Instance of the machine
// Definition returns (Available, Limited) that hands out permits at a
// configured rate. Permits are time-based: a permit is spent when it is
// given and nobody gives it back, so a call that fails, or a wait that
// its context ends, still used one.
//
// A Limiter is safe for concurrent use and must not be copied (go vet's
// copylocks check reports a copy). Make one with New; the zero Limiter
// is not usable.
//
// # The permit word
//
// What has been handed out is one atomic word: in ModeSmooth the time at
// which the permits given so far are paid off (the theoretical arrival
// time of the generic cell rate algorithm), in ModeBursty the number of
// permits given since the limiter's start, counted in windows. A permit
// is taken by one compare-and-swap of that word, against a reading of
// the clock taken once per call. While the limiter is Available and a
// permit is free, that is all a call does: no lock, no allocation, no
// event; while it is Limited and the next permit is further off than the
// call may wait, the call is refused with no more. Those are the two
// cases in which the definition's edge is internal and changes nothing
// but the word. Every other call fires EventAcquire, whose guards and
// action judge it under the Instance's lock, so that every change of
// state is a transition of the definition.
type Limiter struct {
	_ noCopy

	// Set at construction, read-only after; read by every call.
	inst     *engine.Instance[State, Event, *Limiter]
	clock    engine.Clock
	origin   time.Time // the clock's time at construction: times are ns since it
	cfg      Config    // resolved
	bursty   bool
	interval int64 // ModeSmooth: ns between permits
	tol      int64 // ModeSmooth: (Burst-1)*interval, the bucket's depth beyond one permit
	period   int64 // ModeBursty: the window, ns
	permits  int64 // ModeBursty: permits per window
	fast     bool  // the definition lets admit decide what its internal edges would (see New)
	mono     bool  // the clock is engine.RealClock: read the monotonic clock alone (see now)

	_    [64]byte
	word atomic.Int64 // the permit word (see above); moved only by compare-and-swap
	_    [64]byte

	permitted, waited, rejected, cancelled atomic.Uint64
}

// noCopy makes go vet's copylocks check report a copy of the struct that
// holds it, as sync.Mutex does; it takes no space.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New returns an Available Limiter for cfg, or the *setup.ConfigError
// (errorrecovery.ConfigError) of the first invalid field. Its first
// window, or its full bucket, starts now on its clock. Of the options it
// reads:
//
//   - engine.WithClock: the clock permits are timed on and waits sleep
//     on; the real one by default. On an enginetest.Clock a Limited
//     limiter becomes Available the moment Advance reaches its next
//     permit, and a waiting call sleeps on the clock (BlockUntilWaiters
//     counts it).
//   - engine.WithObserver: an observer of the limiter's Instance; it sees
//     every EventAcquire and timer step, not the permits taken on the
//     lock-free path.
//   - engine.WithDefinition: a definition to run instead of Definition(),
//     such as a variant built from DefinitionBuilder, of the types
//     *fsm.Definition[State, Event, *Limiter]. Its steps must commit
//     regardless of the caller's context. The lock-free path (see
//     Limiter) is used only when its acquire transitions are the
//     default's: same order, targets, guards (the default's guard values
//     themselves) and actions; with any other, every call fires.
func New(cfg Config, opts ...engine.Option) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, err := setup.Read[State, Event, *Limiter](configName, Definition, opts)
	if err != nil {
		return nil, err
	}
	if !o.Def.CommitsRegardless() {
		return nil, setup.Err(configName, "Definition", o.Def.Name(), "must commit regardless of the caller's context (fsm.Builder.CommitRegardless): its steps spend permits")
	}
	cfg = cfg.resolved()
	l := &Limiter{clock: o.Clock, origin: o.Clock.Now(), cfg: cfg, bursty: cfg.Mode == ModeBursty}
	if l.bursty {
		l.period, l.permits = int64(cfg.Period), int64(cfg.Permits)
	} else {
		l.interval = int64(cfg.Period) / int64(cfg.Permits)
		l.tol = int64(cfg.Burst-1) * l.interval
	}
	l.fast = decidesLockFree(o.Def)
	_, l.mono = o.Clock.(engine.RealClock)
	inst, err := engine.NewInstance(o.Def, l, o.EngineOptions()...)
	if err != nil {
		return nil, err
	}
	l.inst = inst
	return l, nil
}

// decidesLockFree reports whether def's acquire transitions are the
// default's (same order, targets, guards and actions), so that the
// lock-free path may decide the calls on which they change nothing.
func decidesLockFree(def *fsm.Definition[State, Event, *Limiter]) bool {
	acquires := func(d *fsm.Definition[State, Event, *Limiter]) []transitions.Spec[State, Event, *Limiter] {
		var ts []transitions.Spec[State, Event, *Limiter]
		for _, t := range d.Transitions() {
			if t.Event == EventAcquire && !t.Delayed {
				ts = append(ts, t)
			}
		}
		return ts
	}
	got, want := acquires(def), acquires(Definition())
	if len(got) != len(want) {
		return false
	}
	for i, t := range got {
		w := want[i]
		if t.From != w.From || t.To != w.To || t.Internal != w.Internal || !t.Guard.Same(w.Guard) || len(t.Actions) != len(w.Actions) {
			return false
		}
		for k, a := range t.Actions {
			if a.Name != w.Actions[k].Name {
				return false
			}
		}
	}
	return true
}

// plan works out, from the permit word w at now (both ns since the
// origin), when the next permit is due (at; at <= now when one is free)
// and the word once it is taken.
func (l *Limiter) plan(w, now int64) (at, next int64) {
	if l.bursty {
		slot := max(w, now/l.period*l.permits) // permits of past windows are lost
		return max(slot/l.permits*l.period, now), slot + 1
	}
	return max(w-l.tol, now), max(w, now) + l.interval
}

// take spends the next permit if it is due within maxWait of now (any
// wait when maxWait is negative), and reports when it is due, the wait,
// and whether it was taken.
func (l *Limiter) take(now int64, maxWait time.Duration) (at int64, wait time.Duration, ok bool) {
	for {
		w := l.word.Load()
		at, next := l.plan(w, now)
		wait = time.Duration(at - now)
		if maxWait >= 0 && wait > maxWait {
			return at, wait, false
		}
		if l.word.CompareAndSwap(w, next) {
			return at, wait, true
		}
	}
}

// sinceOrigin is t in ns since the limiter's origin; never negative, so
// a clock set back cannot give a permit before the limiter began.
func (l *Limiter) sinceOrigin(t time.Time) int64 { return max(int64(t.Sub(l.origin)), 0) }

// now is the clock's time in ns since the origin. On the real clock it
// is time.Since, which reads the monotonic clock alone: the limiter needs
// no wall time, and time.Now's reading of both costs about twice as much.
func (l *Limiter) now() int64 {
	if l.mono {
		return max(int64(time.Since(l.origin)), 0)
	}
	return l.sinceOrigin(l.clock.Now())
}

// verdict is what the lock-free path decided for a call.
type verdict uint8

const (
	undecided verdict = iota // the machine must judge the call: fire EventAcquire
	granted                  // a free permit was taken
	refused                  // Limited, and the next permit is further off than the call may wait
)

// admit is the lock-free path. It reads the clock once and decides the
// two cases in which the machine would change nothing: while Available, a
// permit free now is taken (the internal "permit free" edge); while
// Limited, a call whose permit is further off than maxWait (any wait
// allowed when negative) is refused (the internal edge that rejects). It
// reports the permit's time and the wait, in ns since the origin.
func (l *Limiter) admit(maxWait time.Duration) (at int64, wait time.Duration, v verdict) {
	if !l.fast {
		return 0, 0, undecided
	}
	now := l.now()
	limited := l.inst.State() != StateAvailable
	for {
		w := l.word.Load()
		at, next := l.plan(w, now)
		wait = time.Duration(at - now)
		switch {
		case limited && maxWait >= 0 && wait > maxWait:
			l.rejected.Add(1)
			return at, wait, refused
		case limited || wait > 0:
			return at, wait, undecided
		}
		if l.word.CompareAndSwap(w, next) {
			l.permitted.Add(1)
			return at, 0, granted
		}
	}
}

// acquire is the slow path: EventAcquire, judged by the machine.
func (l *Limiter) acquire(maxWait time.Duration) (at int64, wait time.Duration, ok bool) {
	c := callPool.Get().(*call)
	c.maxWait = maxWait
	_, _ = engine.FireWith(context.Background(), l.inst, EventAcquire, c)
	r := *c
	*c = call{}
	callPool.Put(c)
	if !r.taken { // a definition that does not take on this step: no permit
		now := l.now()
		at, _ := l.plan(l.word.Load(), now)
		r.at, r.wait = at, time.Duration(at-now)
	}
	switch {
	case !r.granted:
		l.rejected.Add(1)
	case r.wait > 0:
		l.waited.Add(1)
	default:
		l.permitted.Add(1)
	}
	return r.at, r.wait, r.granted
}

// Allow reports whether a permit is free now, and takes it if so. It
// never waits, whatever MaxWait says, and allocates nothing. While the
// limiter is Available with a permit free, it is one reading of the
// clock and one compare-and-swap; while it is Limited with none free, a
// reading of the clock and two atomic loads; otherwise it fires
// EventAcquire.
func (l *Limiter) Allow() bool {
	if _, _, v := l.admit(0); v != undecided {
		return v == granted
	}
	_, _, ok := l.acquire(0)
	return ok
}

// Reservation is a permit given by Reserve: its time on the limiter's
// clock, and the wait from the moment it was given until then.
type Reservation struct {
	at    time.Time
	delay time.Duration
}

// Time returns when the permit is due, on the limiter's clock.
func (r Reservation) Time() time.Time { return r.at }

// Delay returns how long the caller had to wait for the permit, as of
// Reserve: zero for a permit free at once, at most MaxWait otherwise.
func (r Reservation) Delay() time.Duration { return r.delay }

// Reserve takes the next permit if it is due within MaxWait, without
// waiting for it: the caller acts at Reservation.Time (or after
// Reservation.Delay), and the per-call machine of package errorrecovery
// sleeps until then on its own clock and deadline. A permit due later
// than MaxWait is not taken, and Reserve returns an *Error of
// ReasonLimited (errors.Is ErrLimited) whose RetryAfter tells when it is
// due. A reservation cannot be given back. Reserve allocates only the
// error of a rejection.
func (l *Limiter) Reserve() (Reservation, error) { return l.reserve(l.cfg.MaxWait) }

// ReserveBefore is Reserve for a caller that must act before deadline:
// the permit must be due within MaxWait and before deadline, so a caller
// with a deadline is never given a permit it cannot use. A zero deadline
// is none: ReserveBefore is then Reserve. It is the admission call of
// package errorrecovery's per-call machine, which passes the execution's
// overall deadline. With a deadline and a MaxWait other than zero, it
// reads the clock once more than Reserve; it allocates only the error of
// a rejection.
func (l *Limiter) ReserveBefore(deadline time.Time) (Reservation, error) {
	return l.reserve(l.boundBy(deadline))
}

// boundBy returns MaxWait cut to the time left before deadline (none when
// zero): the permit must be due before it, since at the deadline the
// caller's time is up.
func (l *Limiter) boundBy(deadline time.Time) time.Duration {
	maxWait := l.cfg.MaxWait
	if !deadline.IsZero() && maxWait != 0 {
		if left := max(deadline.Sub(l.clock.Now())-1, 0); maxWait < 0 || left < maxWait {
			maxWait = left
		}
	}
	return maxWait
}

// reserve is Reserve with a bound on the wait: maxWait, none when
// negative.
func (l *Limiter) reserve(maxWait time.Duration) (Reservation, error) {
	at, wait, v := l.admit(maxWait)
	ok := v == granted
	switch v {
	case granted:
		return Reservation{at: l.origin.Add(time.Duration(at))}, nil
	case undecided:
		at, wait, ok = l.acquire(maxWait)
	}
	if !ok {
		return Reservation{}, &Error{Reason: ReasonLimited, Wait: wait, MaxWait: maxWait}
	}
	return Reservation{at: l.origin.Add(time.Duration(at)), delay: wait}, nil
}

// Wait takes a permit as Reserve does and sleeps on the limiter's clock
// until it is due. It returns nil once the caller may go on; an *Error of
// ReasonLimited at once, nothing spent, when the permit is further off
// than MaxWait or not due before ctx's deadline (as x/time/rate's Wait; the
// deadline is read as a time on the limiter's clock, which it is for
// contexts made by engine.WithDeadline on that clock); and an *Error of
// ReasonCancelled, unwrapping to ctx's error, when ctx has ended before
// the call, in which case no permit is taken, or while it waits, in which
// case its permit is spent all the same.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		l.cancelled.Add(1)
		return &Error{Reason: ReasonCancelled, MaxWait: l.cfg.MaxWait, Err: err}
	}
	dl, _ := ctx.Deadline() // the permit must be due before it: at the deadline the context has ended
	r, err := l.reserve(l.boundBy(dl))
	if err != nil || r.delay <= 0 {
		return err
	}
	if err := engine.SleepUntil(l.clock, ctx, r.at); err != nil {
		l.cancelled.Add(1)
		left := max(r.at.Sub(l.clock.Now()), 0)
		return &Error{Reason: ReasonCancelled, Wait: left, MaxWait: l.cfg.MaxWait, Err: err}
	}
	return nil
}

// Protect runs fn once the limiter gives it a permit (Wait), and returns
// fn's error unchanged, or the limiter's *Error when fn did not run. fn
// runs in the caller's goroutine with ctx.
func (l *Limiter) Protect(ctx context.Context, fn func(context.Context) error) error {
	if err := l.Wait(ctx); err != nil {
		return err
	}
	return fn(ctx)
}

// NextPermit reports how long from now, on the limiter's clock, until a
// permit is free: zero when one is free now. It takes nothing and no
// lock, and promises nothing: another call may take that permit first.
func (l *Limiter) NextPermit() time.Duration {
	now := l.now()
	at, _ := l.plan(l.word.Load(), now)
	return time.Duration(at - now)
}

// State reports the limiter's state, from one atomic load of the
// Instance's state word. It takes no lock and changes nothing.
func (l *Limiter) State() State { return l.inst.State() }

// Definition returns the definition the limiter runs.
func (l *Limiter) Definition() *fsm.Definition[State, Event, *Limiter] { return l.inst.Definition() }

// Config returns the config the limiter runs with, resolved (see
// Config.Resolve).
func (l *Limiter) Config() Config { return l.cfg }

// Close stops the limiter's pending timer. Use it when discarding a
// limiter on a real clock. Afterwards calls are still limited, but a
// Limited limiter becomes Available only when a call finds a permit free.
func (l *Limiter) Close() { l.inst.Close() }

// Metrics are a limiter's state and counters, each counter read
// atomically, one after another.
type Metrics struct {
	// State is the limiter's state.
	State State
	// Permitted counts permits given at once; Waited, permits given with
	// a wait (Reserve, Wait and Protect with a MaxWait). A permit is
	// counted when it is given, so a wait its context ends is counted
	// here and in Cancelled.
	Permitted, Waited uint64
	// Rejected counts calls given no permit: none due within MaxWait
	// (none free at once, for Allow).
	Rejected uint64
	// Cancelled counts calls of Wait and Protect whose context ended
	// before their permit was due, or before they asked.
	Cancelled uint64
}

// Metrics returns the limiter's state and counters. It takes no lock.
func (l *Limiter) Metrics() Metrics {
	return Metrics{
		State:     l.inst.State(),
		Permitted: l.permitted.Load(),
		Waited:    l.waited.Load(),
		Rejected:  l.rejected.Load(),
		Cancelled: l.cancelled.Load(),
	}
}
