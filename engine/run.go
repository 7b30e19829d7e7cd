package engine

import (
	"context"
	"runtime/debug"
	"sync"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/compiled"
	"github.com/statecraft/statecraft/states"
)

// Runner starts short-lived, single-owner executions (Runs) of one
// definition, such as one call through a retry policy. It holds what the
// runs share (definition, clock, observers) and recycles their state, so
// that a run allocates nothing once the Runner is warm.
//
// A Runner is safe for concurrent use; each Run it starts is not.
type Runner[S, E comparable, D any] struct {
	def  *fsm.Definition[S, E, D]
	m    *compiled.Machine[S, E, D] // def's tables
	cfg  config
	obs  Observer
	pool sync.Pool // of *runState; holds no channels or timers
}

// NewRunner returns a Runner of def.
func NewRunner[S, E comparable, D any](def *fsm.Definition[S, E, D], opts ...Option) *Runner[S, E, D] {
	r := &Runner[S, E, D]{def: def, m: compiled.Of[S, E, D](def), cfg: newConfig(opts)}
	r.obs = r.cfg.observer()
	return r
}

// Definition returns the definition the Runner runs.
func (r *Runner[S, E, D]) Definition() *fsm.Definition[S, E, D] { return r.def }

// Run is one execution of a definition, owned by one goroutine: it has no
// lock, keeps raised events in a buffer it reuses, and waits for its
// delayed transitions in its owner's goroutine (Wait). A Run is a small
// handle; copies of it refer to the same execution. After Release it must
// not be used.
type Run[S, E comparable, D any] struct {
	s *runState[S, E, D]
}

// runState is a Run's state. It is what user code sees as states.Machine,
// so it lives on the heap and is recycled through the Runner's pool.
type runState[S, E comparable, D any] struct {
	core    core[S, E, D]
	pending []pendingTimer // delayed transitions of the current visit
	runner  *Runner[S, E, D]
}

type pendingTimer struct {
	slot int
	at   time.Time // zero when due at once
}

// Start begins a run in the definition's initial state with the given
// data: it runs the initial state's entry actions and choice function and
// arms its delayed transitions. An error from those is returned with the
// Run, which must still be released.
func (r *Runner[S, E, D]) Start(ctx context.Context, data D) (Run[S, E, D], error) {
	return r.open(ctx, &data)
}

// Begin starts a run as Start does, with the data the recycled state
// holds instead of a copy of the caller's: D's zero value, but for what
// the Recycle that ended the state's last run kept. It spares copying a D
// in, and lets a run reuse what its predecessor kept (a buffer, an object
// only the run refers to).
func (r *Runner[S, E, D]) Begin(ctx context.Context) (Run[S, E, D], error) {
	return r.open(ctx, nil)
}

// open is Start (data set) and Begin (data nil): a recycled run state, or
// a new one, entered at the start state. A start with nothing to run
// (QuietStart) is the common case of a per-call machine, taken without a
// further call.
func (r *Runner[S, E, D]) open(ctx context.Context, data *D) (Run[S, E, D], error) {
	s, _ := r.pool.Get().(*runState[S, E, D])
	if s == nil {
		s = r.newState()
	}
	if data != nil {
		s.core.data = *data
	}
	s.core.cur = r.m.Start
	if r.m.QuietStart {
		return Run[S, E, D]{s}, nil
	}
	return r.enter(ctx, s)
}

// newState makes a run state.
func (r *Runner[S, E, D]) newState() *runState[S, E, D] {
	s := &runState[S, E, D]{runner: r}
	s.core = core[S, E, D]{m: r.m, plain: r.m.Plain(), host: (*runHost[S, E, D])(s), clock: r.cfg.clock, obs: r.obs, maxSteps: r.cfg.maxSteps}
	return s
}

// enter runs the start state's entry actions and choice function and arms
// its delayed transitions.
func (r *Runner[S, E, D]) enter(ctx context.Context, s *runState[S, E, D]) (Run[S, E, D], error) {
	err := s.core.start(ctx, s.core.cur)
	s.flush()
	return Run[S, E, D]{s}, err
}

// Fire processes event e to completion, as Instance.Fire does and with the
// same phases and errors, and returns what it did. In a final state it
// returns an *UnhandledError that also matches ErrFinished.
func (r Run[S, E, D]) Fire(ctx context.Context, e E) (Result[S], error) {
	c := &r.s.core
	var h *compiled.Hop[S]
	var ev int
	if c.plain.Lookup {
		// Events not read from a direct table: look e up.
		if ev = c.m.EventIndex(e); ev >= 0 {
			h = c.m.PlainHop(c.cur, ev)
		}
	} else {
		h, ev = c.plain.Hop(c.cur, e)
	}
	if h != nil && h.Dest >= 0 && c.obs == nil && (c.plain.Regardless || ctx.Err() == nil) {
		c.cur = int(h.Dest)
		return Result[S]{From: h.From, To: h.To, Transition: int(h.Decl)}, nil
	}
	return r.fire(ctx, e, ev)
}

// fire is Fire past the plain fast path; ev is e's index.
func (r Run[S, E, D]) fire(ctx context.Context, e E, ev int) (res Result[S], err error) {
	s := r.s
	c := &s.core
	if c.obs != nil {
		res, err := c.fireAt(ctx, e, ev)
		s.flush()
		return res, err
	}
	c.steps = 0
	res = Result[S]{From: c.State(), Transition: -1}
	first := true
	// choosing is the step whose target's choice function is running, nil
	// otherwise: the chain has one panic guard, not one per choice, and a
	// choice function that panics leaves choosing set for it to turn the
	// panic into the step's *ActionError, as an error it returned is.
	var choosing *compiled.Link[S, E, D]
	defer func() {
		if choosing == nil {
			return
		}
		if p := recover(); p != nil {
			res, err = r.choiceFailed(ctx, res, choosing, &PanicError{Value: p, Stack: debug.Stack()})
		}
	}()
	// Bare transitions (no user code but the target's choice function) are
	// taken here, following choice states from one to the next; anything
	// else goes to the general stepping core. The loop is bounded by the
	// step limit.
	for c.steps < c.maxSteps {
		if ev < 0 {
			break
		}
		l := c.m.BareLink(c.cur, ev)
		if l.Slot < 0 || c.ctxErr(ctx) != nil {
			break
		}
		c.steps++
		c.cur = int(l.Dest)
		if l.Flat {
			// A bare edge exits no state with timers: only a flat
			// machine's leftovers are cleared, a parent's timers stay.
			s.pending = s.pending[:0]
		}
		if first {
			res.Transition, first = int(l.Decl), false
		}
		if l.Choose == nil {
			if l.Enter {
				c.ev, c.hasEv = e, true
				err = c.enterLink(ctx, l.Slot)
				res.To = c.State() // the target, or the error state: before raised events move on
				if derr := c.drain(ctx); err == nil {
					err = derr
				}
				return res, err
			}
			res.To = l.To
			return res, nil
		}
		c.ev, c.hasEv = e, true
		choosing = l
		next, err := l.Choose(ctx, c)
		choosing = nil
		if err != nil {
			return r.choiceFailed(ctx, res, l, err)
		}
		if c.qhead < len(c.queue) {
			// The choice raised events: let the core process them in order.
			chained, err := c.event(ctx, next, false)
			if derr := c.drain(ctx); err == nil {
				err = derr
			}
			res.To = chained.To
			return res, err
		}
		if e, ev = next, c.m.EventSlot(next); ev == compiled.NoTable {
			ev = c.m.EventIndex(next)
		}
	}
	var chained Result[S]
	if c.steps >= c.maxSteps {
		err = &StepLimitError{Machine: c.m.Name, State: c.label(c.cur), Limit: c.maxSteps}
		chained.To = c.State()
	} else {
		chained, err = c.eventAt(ctx, e, ev, false)
		if derr := c.drain(ctx); err == nil {
			err = derr
		}
	}
	if first {
		return chained, err
	}
	res.To = chained.To
	return res, err
}

// choiceFailed ends fire's chain at step l, whose choice function
// returned err or panicked (err is then a *PanicError): the run goes to
// the definition's error state, if it has one, and the step's
// *ActionError is returned with res.
func (r Run[S, E, D]) choiceFailed(ctx context.Context, res Result[S], l *compiled.Link[S, E, D], err error) (Result[S], error) {
	c := &r.s.core
	dst := c.m.State(int(l.Dest))
	c.toErrorState(ctx, int(l.Dest))
	res.To = c.State()
	return res, &ActionError{Machine: c.m.Name, Phase: PhaseChoice, State: dst.Label, Event: c.m.Edge(int(l.Slot)).Trigger, Action: dst.ChooseName, Err: err}
}

// Wait takes the run's delayed transitions as they fall due, sleeping on
// the clock in the caller's goroutine, until the run is in a state with no
// pending delayed transition (a final state, or one that waits for an
// event). If ctx ends first, Wait returns a *NotTransitionedError matching
// ctx's error and the run stays where it is, its timers still pending. For
// a definition that commits regardless (fsm.Builder.CommitRegardless), ctx
// ends only the sleeping: a delayed transition that has fallen due is taken
// with the chain it leads to. A delayed transition whose guard fails is
// dropped and Wait goes on with the others.
func (r Run[S, E, D]) Wait(ctx context.Context) error {
	s := r.s
	c := &s.core
	for len(s.pending) > 0 {
		k := 0
		for j := 1; j < len(s.pending); j++ {
			if s.pending[j].at.Before(s.pending[k].at) {
				k = j
			}
		}
		p := s.pending[k]
		if !p.at.IsZero() {
			if err := SleepUntil(c.clock, ctx, p.at); err != nil {
				return &NotTransitionedError{Machine: c.m.Name, State: c.label(c.cur), Event: c.m.Edge(p.slot).Trigger, Err: err}
			}
		}
		if err := c.ctxErr(ctx); err != nil {
			// Leave the timer pending, as when ctx ends during the sleep.
			return &NotTransitionedError{Machine: c.m.Name, State: c.label(c.cur), Event: c.m.Edge(p.slot).Trigger, Err: err}
		}
		s.pending = append(s.pending[:k], s.pending[k+1:]...)
		c.steps = 0
		_, err := c.timer(ctx, p.slot)
		if derr := c.drain(ctx); err == nil {
			err = derr
		}
		s.flush()
		if err != nil {
			if u, ok := err.(*UnhandledError); ok && u.Guarded {
				continue
			}
			return err
		}
	}
	return nil
}

// State reports the run's current state.
func (r Run[S, E, D]) State() S { return r.s.core.State() }

// IsIn reports whether state s is active: it is the current state or, in a
// hierarchical machine, one of its ancestors.
func (r Run[S, E, D]) IsIn(s S) bool { return r.s.core.m.IsIn(r.s.core.cur, s) }

// Done reports whether the run is in a final state.
func (r Run[S, E, D]) Done() bool {
	return r.s.core.m.State(r.s.core.cur).Kind == states.Final
}

// Data returns the run's data. The pointer is valid until Release.
func (r Run[S, E, D]) Data() *D { return &r.s.core.data }

// Pending reports how many delayed transitions are armed in the current
// state.
func (r Run[S, E, D]) Pending() int { return len(r.s.pending) }

// Release ends the run and recycles its state. The Run, its Data pointer
// and any copy of either must not be used afterwards.
func (r Run[S, E, D]) Release() {
	var zero D
	r.s.core.data = zero
	r.recycle()
}

// Recycle ends the run as Release does, but resets its data with reset
// instead of zeroing it: reset may keep what the next run that Begin
// starts on the same state is to reuse, and must drop everything else
// (anything the next run must not see, anything the garbage collector is
// to have). The Run, its Data pointer and any copy of either must not be
// used afterwards.
func (r Run[S, E, D]) Recycle(reset func(*D)) {
	reset(&r.s.core.data)
	r.recycle()
}

func (r Run[S, E, D]) recycle() {
	s := r.s
	s.core.queue, s.core.qhead = s.core.queue[:0], 0
	s.pending = s.pending[:0]
	s.runner.pool.Put(s)
}

func (s *runState[S, E, D]) flush() {
	if s.core.obs != nil && len(s.core.records) > 0 {
		s.core.flush()
	}
}

func (s *runState[S, E, D]) arm(st int) {
	c := &s.core
	var now time.Time
	for _, slot := range c.m.State(st).Delayed {
		p := pendingTimer{slot: int(slot)}
		if d := c.delay(c.m.Edge(int(slot))); d > 0 {
			if now.IsZero() {
				now = c.clock.Now()
			}
			p.at = now.Add(d)
		}
		s.pending = append(s.pending, p)
	}
}

type runHost[S, E comparable, D any] runState[S, E, D]

func (h *runHost[S, E, D]) commit(from, to, keep int) {
	if keep < 0 {
		h.pending = h.pending[:0]
		return
	}
	m := h.core.m
	kept := h.pending[:0]
	for _, p := range h.pending {
		if m.Within(keep, m.Edge(p.slot).From) {
			kept = append(kept, p)
		}
	}
	h.pending = kept
}
func (h *runHost[S, E, D]) arm(st int) { (*runState[S, E, D])(h).arm(st) }
