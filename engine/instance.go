package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/compiled"
)

// Instance runs a definition as a shared, long-lived machine, such as a
// circuit breaker that every request consults.
//
// An Instance is safe for concurrent use and must not be copied. Events are
// processed one at a time, each to completion (run-to-completion): events
// raised by actions go to an internal queue that is emptied before the next
// Fire is processed. Observers are called after the lock is released, in
// transition order. State and Generation read one atomic word and take no
// lock.
type Instance[S, E comparable, D any] struct {
	// word holds the current state index (bits 0-30), the locked bit (31)
	// and the generation (bits 32-63). A plain transition (compiled.Edge.Plain)
	// commits by one compare-and-swap of the word while the locked bit is
	// clear; every other access sets the bit while it holds mu, so the two
	// paths exclude each other. State and Generation read it with no lock.
	word atomic.Uint64

	mu   sync.Mutex // guards the fields below and all of core
	core core[S, E, D]
	// seq numbers the timers armed; a timer that fires carries its number
	// and is ignored once it is no longer among armed (its state was left).
	seq    uint64
	armed  []armedTimer
	closed bool

	cfgCodec Codec                    // set at construction, read-only after
	def      *fsm.Definition[S, E, D] // likewise; core reads its tables

	obsMu sync.Mutex // held while records are delivered, so they arrive in order
}

const (
	lockedBit = 1 << 31
	stateMask = lockedBit - 1
)

type armedTimer struct {
	slot     int
	seq      uint64
	deadline time.Time
	t        Timer
}

// NewInstance returns an Instance of def in its initial state with the
// given data. It runs the initial state's entry actions and choice
// function, and arms its delayed transitions; an error from those is
// returned with the Instance, which is usable (the initial state is
// committed, as for any entry error).
func NewInstance[S, E comparable, D any](def *fsm.Definition[S, E, D], data D, opts ...Option) (*Instance[S, E, D], error) {
	cfg := newConfig(opts)
	m := compiled.Of[S, E, D](def)
	i := &Instance[S, E, D]{cfgCodec: cfg.codec, def: def}
	i.core = core[S, E, D]{m: m, plain: m.Plain(), host: (*instanceHost[S, E, D])(i), data: data,
		clock: cfg.clock, obs: cfg.observer(), maxSteps: cfg.maxSteps}
	i.word.Store(uint64(m.Start))
	i.lock()
	err := i.core.start(context.Background(), m.Start)
	return i, i.unlock(err)
}

// Fire processes event e to completion and returns what it did for this
// caller, with the events its actions raised processed too.
//
// A transition runs in this order: guards (in declaration order, the first
// that holds wins) → the transition's actions → the source's exit actions
// → a check of ctx → commit → the target's entry actions → arming the
// target's delayed transitions → the target's choice function, if it is a
// choice state. What an error leaves behind depends on where it happened:
//
//   - *UnhandledError (errors.Is ErrUnhandled): no transition for e, or no
//     guard held. Nothing changed.
//   - *ActionError in PhaseGuard, PhaseAction or PhaseExit, and
//     *NotTransitionedError (ctx was done, and the definition does not
//     commit regardless): nothing was committed; the
//     machine is in the source state and events raised by the failed step
//     are dropped. Actions that already ran are not undone.
//   - *ActionError in PhaseEntry or PhaseChoice: the target is committed.
//   - *StepLimitError: raised events or choice states ran past the bound;
//     the machine is wherever the last step left it and the queue is empty.
//
// A panic in user code is returned as an *ActionError wrapping a
// *PanicError; the Instance keeps working. When e is handled but an event
// raised meanwhile fails, Fire returns e's Result with that error.
//
// Fire must not be called from the Instance's own actions, guards or
// observers (use states.Machine.Raise); that deadlocks.
func (i *Instance[S, E, D]) Fire(ctx context.Context, e E) (Result[S], error) {
	c := &i.core
	w := i.word.Load()
	var h *compiled.Hop[S]
	var ev int
	if c.plain.Lookup {
		// Events not read from a direct table: look e up.
		if ev = c.m.EventIndex(e); ev >= 0 {
			h = c.m.PlainHop(int(uint32(w)&stateMask), ev)
		}
	} else {
		h, ev = c.plain.Hop(int(uint32(w)&stateMask), e)
	}
	if h != nil && h.Dest >= 0 && w&lockedBit == 0 && c.obs == nil && (c.plain.Regardless || ctx.Err() == nil) &&
		i.word.CompareAndSwap(w, (w>>32+1)<<32|uint64(h.Dest)) {
		return Result[S]{From: h.From, To: h.To, Transition: int(h.Decl)}, nil
	}
	i.lock()
	res, err := c.fireAt(ctx, e, ev)
	return res, i.unlock(err)
}

// FireIfGeneration is Fire, done only if the Instance is still in
// generation gen (see Generation) when its lock is taken. Work admitted in
// one generation reports its outcome this way, so that an outcome arriving
// after the machine has moved on is dropped instead of acting on a later
// state: the check and the event are one step, with no transition in
// between. When the generation has changed it does nothing and returns a
// Result with Transition -1 and ErrStale, which it does not allocate. It
// always takes the lock.
func (i *Instance[S, E, D]) FireIfGeneration(ctx context.Context, gen uint32, e E) (Result[S], error) {
	i.lock()
	if uint32(i.word.Load()>>32) != gen {
		s := i.core.State()
		return Result[S]{From: s, To: s, Transition: -1}, i.unlock(ErrStale)
	}
	res, err := i.core.fire(ctx, e)
	return res, i.unlock(err)
}

// lock takes mu and sets the locked bit, which stops the lock-free path,
// then reads the current state, which only this holder may now change.
func (i *Instance[S, E, D]) lock() {
	i.mu.Lock()
	w := i.word.Or(lockedBit)
	i.core.cur = int(uint32(w) & stateMask)
}

// unlock releases mu and delivers the records of the steps just taken, in
// order with those of other callers.
func (i *Instance[S, E, D]) unlock(err error) error {
	i.word.And(^uint64(lockedBit))
	if i.core.obs == nil || len(i.core.records) == 0 {
		i.mu.Unlock()
		return err
	}
	recs := i.core.records
	i.core.records = nil
	i.obsMu.Lock()
	i.mu.Unlock()
	// An observer that panics must not leave obsMu held: the panic reaches
	// the caller of Fire, and the Instance keeps working.
	defer i.obsMu.Unlock()
	for _, r := range recs {
		i.core.obs.Observe(r)
	}
	return err
}

// State reports the current state. It takes no lock. In a hierarchical
// machine it is the active leaf; IsIn also tells the states containing it.
func (i *Instance[S, E, D]) State() S {
	return i.core.m.ID(int(uint32(i.word.Load()) & stateMask))
}

// IsIn reports whether state s is active: it is the current state or, in a
// hierarchical machine, one of its ancestors. It takes no lock.
func (i *Instance[S, E, D]) IsIn(s S) bool {
	return i.core.m.IsIn(int(uint32(i.word.Load())&stateMask), s)
}

// Generation reports how many external transitions the Instance has taken,
// modulo 2^32. Work admitted in one generation can tell, when it ends,
// whether the machine has moved on meanwhile. It takes no lock.
func (i *Instance[S, E, D]) Generation() uint32 { return uint32(i.word.Load() >> 32) }

// StateGeneration reports the current state and generation, read together
// in one atomic load.
func (i *Instance[S, E, D]) StateGeneration() (S, uint32) {
	w := i.word.Load()
	return i.core.m.ID(int(uint32(w) & stateMask)), uint32(w >> 32)
}

// Definition returns the definition the Instance runs.
func (i *Instance[S, E, D]) Definition() *fsm.Definition[S, E, D] { return i.def }

// Do calls fn with the Instance's data under its lock, so fn sees and may
// change the data without racing with transitions. fn must not call Fire.
func (i *Instance[S, E, D]) Do(fn func(state S, data *D)) {
	i.lock()
	defer i.unlock(nil)
	fn(i.core.State(), &i.core.data)
}

// Close stops the Instance's pending timers; timers that fire later are
// ignored. Fire keeps working, but no timer is armed again.
func (i *Instance[S, E, D]) Close() {
	i.lock()
	defer i.unlock(nil)
	i.closed = true
	i.stopTimers()
}

// commit publishes a state change and a new generation. The lock must be
// held (the locked bit stays set).
func (i *Instance[S, E, D]) commit(from, to, keep int) {
	if len(i.armed) > 0 {
		if keep < 0 {
			i.stopTimers()
		} else {
			i.dropTimers(keep)
		}
	}
	w := i.word.Load()
	i.word.Store((w>>32+1)<<32 | lockedBit | uint64(to))
}

func (i *Instance[S, E, D]) stopTimers() {
	for k := range i.armed {
		if i.armed[k].t != nil {
			i.armed[k].t.Stop()
		}
		i.armed[k] = armedTimer{}
	}
	i.armed = i.armed[:0]
}

// dropTimers stops the timers of the states not within keep, which a
// transition of a hierarchical machine leaves, and keeps the others.
func (i *Instance[S, E, D]) dropTimers(keep int) {
	m := i.core.m
	kept := i.armed[:0]
	for _, a := range i.armed {
		if m.Within(keep, m.Edge(a.slot).From) {
			kept = append(kept, a)
		} else if a.t != nil {
			a.t.Stop()
		}
	}
	clear(i.armed[len(kept):])
	i.armed = kept
}

// arm starts the timers of state s's delayed transitions. mu must be held.
func (i *Instance[S, E, D]) arm(s int) {
	if i.closed {
		return
	}
	c := &i.core
	now := c.clock.Now()
	for _, slot := range c.m.State(s).Delayed {
		d := c.delay(c.m.Edge(int(slot)))
		i.armAt(int(slot), now.Add(d))
	}
}

func (i *Instance[S, E, D]) armAt(slot int, deadline time.Time) {
	i.seq++
	seq := i.seq
	t := AfterFuncAt(i.core.clock, deadline, func() { i.onTimer(slot, seq) })
	i.armed = append(i.armed, armedTimer{slot: slot, seq: seq, deadline: deadline, t: t})
}

// onTimer takes a delayed transition whose timer fell due, unless its
// state was left since it was armed.
func (i *Instance[S, E, D]) onTimer(slot int, seq uint64) {
	i.lock()
	if i.closed || !i.disarm(seq) {
		i.unlock(nil)
		return
	}
	c := &i.core
	c.steps = 0
	_, err := c.timer(context.Background(), slot)
	if derr := c.drain(context.Background()); err == nil {
		err = derr
	}
	_ = i.unlock(err) // timer errors reach observers through Record.Err
}

// disarm removes the timer numbered seq from armed and reports whether it
// was there (false: its state was left, or it was stopped).
func (i *Instance[S, E, D]) disarm(seq uint64) bool {
	for k := range i.armed {
		if i.armed[k].seq == seq {
			i.armed = append(i.armed[:k], i.armed[k+1:]...)
			return true
		}
	}
	return false
}

// instanceHost adapts *Instance to host without exporting the methods.
type instanceHost[S, E comparable, D any] Instance[S, E, D]

func (h *instanceHost[S, E, D]) commit(from, to, keep int) {
	(*Instance[S, E, D])(h).commit(from, to, keep)
}
func (h *instanceHost[S, E, D]) arm(s int) { (*Instance[S, E, D])(h).arm(s) }
