package engine

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/statecraft/statecraft/internal/compiled"
	"github.com/statecraft/statecraft/states"
)

// Result is what one Fire did for its caller: the transition its event took.
type Result[S comparable] struct {
	// From is the state the event was processed in.
	From S
	// To is the state the machine came to rest in. Choice states are left
	// at once, so when the transition entered a choice state To is where
	// the choice (or chain of choices) led.
	To S
	// Transition is the declaration index (fsm.Definition.Transitions) of
	// the transition the event took, or -1 when it took none.
	Transition int
}

// host is what a driver adds to the shared stepping core: publishing a
// committed state and arming the timers of a state entered.
type host interface {
	// commit publishes the move from leaf from to leaf to. The timers of
	// the states left are dropped: all of them when keep is negative (a
	// flat machine), else those of states not within keep.
	commit(from, to, keep int)
	arm(state int)
}

// core is the stepping logic both drivers share: choosing a transition,
// running its phases in order, choice states and raised events. It is not
// safe for concurrent use; Instance serialises calls with its mutex and a
// Run has a single owner. core is also the states.Machine that user code
// sees.
type core[S, E comparable, D any] struct {
	m        *compiled.Machine[S, E, D] // the definition's tables (compiled.Of)
	plain    compiled.Plain[S, E]       // m.Plain(), for Fire's lock-free path
	host     host
	data     D
	clock    Clock
	obs      Observer
	maxSteps int

	cur int // current state index

	// The step in progress, for the states.Machine methods.
	ev      E
	hasEv   bool
	steps   int
	queue   []E // raised events; queue[qhead:] are pending
	qhead   int
	records []Record // made for obs during a step, delivered by the host
	// arg is the argument of the step in progress (FireWith): a pointer
	// of the caller's, nil when there is none. Read through ArgOf.
	arg any
}

var _ states.Machine[int, int, int] = (*core[int, int, int])(nil)

func (c *core[S, E, D]) State() S           { return c.m.State(c.cur).ID }
func (c *core[S, E, D]) Event() (E, bool)   { return c.ev, c.hasEv }
func (c *core[S, E, D]) Data() *D           { return &c.data }
func (c *core[S, E, D]) Raise(e E)          { c.queue = append(c.queue, e) }
func (c *core[S, E, D]) Now() time.Time     { return c.clock.Now() }
func (c *core[S, E, D]) label(s int) string { return c.m.State(s).Label }

// ctxErr is ctx's error as the check before a commit sees it: nil for a
// definition whose steps commit regardless (fsm.Builder.CommitRegardless).
func (c *core[S, E, D]) ctxErr(ctx context.Context) error {
	if c.m.CommitRegardless {
		return nil
	}
	return ctx.Err()
}

// fire processes the caller's event, then the events raised while doing
// so, within the step bound. The Result is the caller's own; an error from
// a raised event is returned beside it.
func (c *core[S, E, D]) fire(ctx context.Context, e E) (Result[S], error) {
	return c.fireAt(ctx, e, c.m.EventIndex(e))
}

// fireAt is fire for a caller that has looked e up already: ev is its
// index (EventIndex).
func (c *core[S, E, D]) fireAt(ctx context.Context, e E, ev int) (Result[S], error) {
	c.steps = 0
	res, err := c.eventAt(ctx, e, ev, false)
	if derr := c.drain(ctx); err == nil {
		err = derr
	}
	return res, err
}

// start puts the machine in state s without a transition (a driver
// starting or a snapshot restoring): s's entry actions run, its delayed
// transitions are armed, and a choice state's function chooses the first
// event; events raised meanwhile are processed.
func (c *core[S, E, D]) start(ctx context.Context, s int) error {
	if c.m.Hier {
		return c.startHier(ctx)
	}
	c.cur = s
	c.steps = 0
	st := c.m.State(s)
	var err error
	for _, a := range st.Entry {
		if err = c.call(ctx, a); err != nil {
			err = &ActionError{Machine: c.m.Name, Phase: PhaseEntry, State: st.Label, Action: a.Name, Err: err}
			break
		}
	}
	if len(st.Delayed) > 0 {
		c.host.arm(s)
	}
	if err == nil && st.Choose != nil {
		next, cerr := c.choose(ctx, st.Choose)
		if cerr != nil {
			err = &ActionError{Machine: c.m.Name, Phase: PhaseChoice, State: st.Label, Action: st.ChooseName, Err: cerr}
		} else {
			_, err = c.event(ctx, next, false)
		}
	}
	if derr := c.drain(ctx); err == nil {
		err = derr
	}
	return err
}

// enterLink runs the entry actions of the states that the transition at
// slot (a compiled.Link with Enter set) has entered, once the caller has
// committed it, as take and takeHier do: outermost state first, each
// state's actions in order. Such a transition has no guard, no action,
// exits no state with user code or timers and enters none with timers,
// so its entry actions are all that is left of it. The first that fails
// ends the step with its *ActionError, in the error state if the
// machine has one that is not the target (or, hierarchical, does not
// hold it).
func (c *core[S, E, D]) enterLink(ctx context.Context, slot int32) error {
	edge := c.m.Edge(int(slot))
	to := c.cur
	entered := edge.Enter
	if !c.m.Hier {
		entered = []int32{int32(to)} // a flat edge's Enter is nil: the target alone
	}
	for _, s := range entered {
		for _, a := range c.m.State(int(s)).Entry {
			if err := c.call(ctx, a); err != nil {
				err = c.actionErr(PhaseEntry, int(s), edge, a.Name, err)
				c.toErrorState(ctx, to)
				return err
			}
		}
	}
	return nil
}

// drain processes raised events in order until none is left.
func (c *core[S, E, D]) drain(ctx context.Context) error {
	var first error
	for c.qhead < len(c.queue) {
		if c.steps >= c.maxSteps {
			c.queue, c.qhead = c.queue[:0], 0
			return &StepLimitError{Machine: c.m.Name, State: c.label(c.cur), Limit: c.maxSteps}
		}
		e := c.queue[c.qhead]
		c.qhead++
		if _, err := c.event(ctx, e, true); err != nil && first == nil {
			first = err
		}
	}
	c.queue, c.qhead = c.queue[:0], 0
	return first
}

// event processes one event in the current state.
func (c *core[S, E, D]) event(ctx context.Context, e E, raised bool) (Result[S], error) {
	return c.eventAt(ctx, e, c.m.EventIndex(e), raised)
}

// eventAt is event for a caller that has looked e up already: ev is its
// index (EventIndex).
func (c *core[S, E, D]) eventAt(ctx context.Context, e E, ev int, raised bool) (Result[S], error) {
	from := c.cur
	c.ev, c.hasEv = e, true
	c.steps++
	var cands []compiled.Edge[S, E, D]
	if ev >= 0 {
		cands = c.m.Candidates(from, ev)
	}
	var rec *Record
	if c.obs != nil {
		rec = c.record(from, c.evLabel(e, ev), false, raised)
	}
	for k := range cands {
		edge := &cands[k]
		if edge.Guard != nil {
			held, err := c.guard(edge, rec)
			if err != nil {
				return c.fail(rec, Result[S]{From: c.State(), To: c.State(), Transition: -1}, err)
			}
			if !held {
				continue
			}
		}
		return c.take(ctx, edge, rec)
	}
	st := c.m.State(from)
	err := &UnhandledError{Machine: c.m.Name, State: st.Label, Event: c.evLabel(e, ev), Guarded: len(cands) > 0, Final: st.Kind == states.Final}
	return c.fail(rec, Result[S]{From: st.ID, To: st.ID, Transition: -1}, err)
}

// timer processes the delayed transition at edge slot, whose timer fell due.
func (c *core[S, E, D]) timer(ctx context.Context, slot int) (Result[S], error) {
	edge := c.m.Edge(slot)
	var zero E
	c.ev, c.hasEv = zero, false
	c.steps++
	var rec *Record
	if c.obs != nil {
		rec = c.record(c.cur, edge.Trigger, true, false)
	}
	if edge.Guard != nil {
		held, err := c.guard(edge, rec)
		if err == nil && !held {
			err = &UnhandledError{Machine: c.m.Name, State: c.label(c.cur), Event: edge.Trigger, Guarded: true}
		}
		if err != nil {
			id := c.State()
			return c.fail(rec, Result[S]{From: id, To: id, Transition: -1}, err)
		}
	}
	return c.take(ctx, edge, rec)
}

// take runs a chosen transition: actions, exit, context check, commit,
// entry, timers, then a choice state's function.
func (c *core[S, E, D]) take(ctx context.Context, edge *compiled.Edge[S, E, D], rec *Record) (Result[S], error) {
	if c.m.Hier {
		return c.takeHier(ctx, edge, rec)
	}
	from := edge.From
	src := c.m.State(from)
	res := Result[S]{From: src.ID, To: src.ID, Transition: -1}
	mark := len(c.queue)
	for _, a := range edge.Actions {
		if err := c.call(ctx, a); err != nil {
			c.queue = c.queue[:mark]
			return c.fail(rec, res, c.actionErr(PhaseAction, from, edge, a.Name, err))
		}
	}
	if edge.Internal {
		res.Transition = edge.Decl
		return c.done(rec, res, nil)
	}
	for _, a := range src.Exit {
		if err := c.call(ctx, a); err != nil {
			c.queue = c.queue[:mark]
			return c.fail(rec, res, c.actionErr(PhaseExit, from, edge, a.Name, err))
		}
	}
	if err := c.ctxErr(ctx); err != nil {
		c.queue = c.queue[:mark]
		return c.fail(rec, res, &NotTransitionedError{Machine: c.m.Name, State: src.Label, Event: c.edgeLabel(edge), Err: err})
	}
	to := edge.To
	c.cur = to
	c.host.commit(from, to, -1)
	dst := c.m.State(to)
	res.To, res.Transition = dst.ID, edge.Decl
	var entryErr error
	for _, a := range dst.Entry {
		if err := c.call(ctx, a); err != nil {
			entryErr = c.actionErr(PhaseEntry, to, edge, a.Name, err)
			break
		}
	}
	if len(dst.Delayed) > 0 && entryErr == nil {
		c.host.arm(to)
	}
	if entryErr != nil {
		if c.toErrorState(ctx, to) {
			res.To = c.State()
		} else if len(dst.Delayed) > 0 {
			c.host.arm(to)
		}
		return c.done(rec, res, entryErr)
	}
	if dst.Choose == nil {
		return c.done(rec, res, nil)
	}
	return c.chooseNext(ctx, edge, rec, res, to)
}

// chooseNext ends a transition into the choice state to (flat and
// hierarchical machines alike): it runs the choice function, records the
// step, and takes the event the function returned.
func (c *core[S, E, D]) chooseNext(ctx context.Context, edge *compiled.Edge[S, E, D], rec *Record, res Result[S], to int) (Result[S], error) {
	dst := c.m.State(to)
	next, err := c.choose(ctx, dst.Choose)
	if err != nil {
		if c.toErrorState(ctx, to) {
			res.To = c.State()
		}
		return c.done(rec, res, c.actionErr(PhaseChoice, to, edge, dst.ChooseName, err))
	}
	c.done(rec, res, nil)
	if c.steps >= c.maxSteps {
		return res, &StepLimitError{Machine: c.m.Name, State: dst.Label, Limit: c.maxSteps}
	}
	chained, err := c.event(ctx, next, false)
	res.To = chained.To
	return res, err
}

// toErrorState moves the machine from state from, whose entry failed, to
// the definition's error state, if it declares one and from is not it. The
// error state's entry actions run and its timers are armed; a failure of
// its own entry actions is not routed anywhere else. It reports whether it
// moved.
func (c *core[S, E, D]) toErrorState(ctx context.Context, from int) bool {
	e := c.m.ErrorState
	if e < 0 || e == from {
		return false
	}
	if c.m.Hier {
		return c.toErrorStateHier(ctx, from)
	}
	c.cur = e
	c.host.commit(from, e, -1)
	st := c.m.State(e)
	for _, a := range st.Entry {
		if c.call(ctx, a) != nil {
			break
		}
	}
	if len(st.Delayed) > 0 {
		c.host.arm(e)
	}
	return true
}

func (c *core[S, E, D]) fail(rec *Record, res Result[S], err error) (Result[S], error) {
	return c.done(rec, res, err)
}

func (c *core[S, E, D]) done(rec *Record, res Result[S], err error) (Result[S], error) {
	if rec != nil {
		rec.Transition = res.Transition
		rec.To = c.label(c.cur)
		rec.Err = err
		rec.Duration = c.clock.Now().Sub(rec.Time)
	}
	return res, err
}

// record starts an observer record; only called when an observer is set.
func (c *core[S, E, D]) record(from int, event string, delayed, raised bool) *Record {
	c.records = append(c.records, Record{
		Machine: c.m.Name, Time: c.clock.Now(), From: c.label(from),
		Event: event, Delayed: delayed, Raised: raised, Transition: -1,
	})
	return &c.records[len(c.records)-1]
}

// flush hands the records of the finished steps to the observer.
func (c *core[S, E, D]) flush() {
	for i := range c.records {
		c.obs.Observe(c.records[i])
		c.records[i] = Record{}
	}
	c.records = c.records[:0]
}

func (c *core[S, E, D]) evLabel(e E, ev int) string {
	if ev >= 0 {
		return c.m.EventLabels[ev]
	}
	return labelOf(e)
}

func (c *core[S, E, D]) edgeLabel(edge *compiled.Edge[S, E, D]) string { return edge.Trigger }

func (c *core[S, E, D]) actionErr(p Phase, state int, edge *compiled.Edge[S, E, D], name string, err error) error {
	return &ActionError{Machine: c.m.Name, Phase: p, State: c.label(state), Event: c.edgeLabel(edge), Action: name, Err: err}
}

// guard evaluates a guard, turning a panic into an *ActionError.
//
// guard, call and choose recover only when the user's function did not
// return (returned is still false): calling recover costs a few
// nanoseconds on every step, and these run on every step.
func (c *core[S, E, D]) guard(edge *compiled.Edge[S, E, D], rec *Record) (held bool, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			err = c.actionErr(PhaseGuard, edge.From, edge, edge.GuardName, &PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	held = edge.Guard(c)
	returned = true
	if rec != nil {
		rec.Guards = append(rec.Guards, GuardOutcome{Transition: edge.Decl, Guard: edge.GuardName, Held: held})
	}
	return held, nil
}

// call runs an action, turning a panic into a *PanicError.
func (c *core[S, E, D]) call(ctx context.Context, a states.Action[S, E, D]) (err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	err = a.Fn(ctx, c)
	returned = true
	return err
}

// choose runs a choice function, turning a panic into a *PanicError.
func (c *core[S, E, D]) choose(ctx context.Context, fn states.ChoiceFunc[S, E, D]) (e E, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	e, err = fn(ctx, c)
	returned = true
	return e, err
}

// delay computes the delay of a delayed transition as its state is entered.
func (c *core[S, E, D]) delay(edge *compiled.Edge[S, E, D]) time.Duration {
	d := edge.After
	if edge.AfterFn != nil {
		d = edge.AfterFn(c)
	}
	return max(d, 0)
}
