package engine

import (
	"context"

	"github.com/statecraft/statecraft/internal/compiled"
)

// The stepping core's paths for hierarchical machines (compiled.Machine.Hier).
// A flat machine never reaches them: core.take, core.start and
// core.toErrorState test the flag once and keep their flat code.
//
// The machine stands in a leaf (core.cur). A transition declared on an
// ancestor of the leaf exits the active states from the leaf up to the
// edge's domain, innermost first, then enters the edge's precomputed path,
// outermost first, down to its destination leaf. Timers armed on states
// that stay active (the domain and above) survive; the others are dropped.

// takeHier is take for a hierarchical machine.
func (c *core[S, E, D]) takeHier(ctx context.Context, edge *compiled.Edge[S, E, D], rec *Record) (Result[S], error) {
	from := c.cur
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
	for s := from; s != edge.Domain; s = c.m.State(s).Parent {
		for _, a := range c.m.State(s).Exit {
			if err := c.call(ctx, a); err != nil {
				c.queue = c.queue[:mark]
				return c.fail(rec, res, c.actionErr(PhaseExit, s, edge, a.Name, err))
			}
		}
	}
	if err := c.ctxErr(ctx); err != nil {
		c.queue = c.queue[:mark]
		return c.fail(rec, res, &NotTransitionedError{Machine: c.m.Name, State: src.Label, Event: c.edgeLabel(edge), Err: err})
	}
	to := edge.Dest
	c.cur = to
	c.host.commit(from, to, edge.Domain)
	if rec != nil {
		for s := from; s != edge.Domain; s = c.m.State(s).Parent {
			rec.Exited = append(rec.Exited, c.label(s))
		}
		for _, s := range edge.Enter {
			rec.Entered = append(rec.Entered, c.label(int(s)))
		}
	}
	dst := c.m.State(to)
	res.To, res.Transition = dst.ID, edge.Decl
	// Entry actions outermost first; a failure skips the entry actions
	// that remain, but every state entered has its timers armed (unless
	// the error state takes over), as a flat target's are.
	var entryErr error
	for _, s := range edge.Enter {
		st := c.m.State(int(s))
		if entryErr == nil {
			for _, a := range st.Entry {
				if err := c.call(ctx, a); err != nil {
					entryErr = c.actionErr(PhaseEntry, int(s), edge, a.Name, err)
					break
				}
			}
			if entryErr != nil && c.toErrorState(ctx, to) {
				res.To = c.State()
				return c.done(rec, res, entryErr)
			}
		}
		if len(st.Delayed) > 0 {
			c.host.arm(int(s))
		}
	}
	if entryErr != nil {
		return c.done(rec, res, entryErr)
	}
	if dst.Choose == nil {
		return c.done(rec, res, nil)
	}
	return c.chooseNext(ctx, edge, rec, res, to)
}

// startHier is start for a hierarchical machine: the states of the start
// path are entered outermost first, each armed as it is entered.
func (c *core[S, E, D]) startHier(ctx context.Context) error {
	c.cur = c.m.Start
	c.steps = 0
	var err error
	for _, s := range c.m.StartPath {
		st := c.m.State(int(s))
		if err == nil {
			for _, a := range st.Entry {
				if aerr := c.call(ctx, a); aerr != nil {
					err = &ActionError{Machine: c.m.Name, Phase: PhaseEntry, State: st.Label, Action: a.Name, Err: aerr}
					break
				}
			}
		}
		if len(st.Delayed) > 0 {
			c.host.arm(int(s))
		}
	}
	st := c.m.State(c.cur)
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

// toErrorStateHier is toErrorState for a hierarchical machine. The states
// that do not contain the error state are left without their exit
// actions (the failed entry left them half entered, as in a flat machine);
// the error state's ancestors that are not active yet, the error state and
// its initial descendants are entered, outermost first.
func (c *core[S, E, D]) toErrorStateHier(ctx context.Context, from int) bool {
	e := c.m.ErrorState
	if c.m.Within(from, e) {
		return false
	}
	keep := c.m.State(e).Parent
	for keep >= 0 && !c.m.Within(from, keep) {
		keep = c.m.State(keep).Parent
	}
	dest := c.m.Drill(e)
	c.cur = dest
	c.host.commit(from, dest, keep)
	c.enterDown(ctx, keep, e)
	for s := c.m.State(e).InitialChild; s >= 0; s = c.m.State(s).InitialChild {
		c.enterOne(ctx, s)
	}
	return true
}

// enterDown enters s's ancestors below keep, outermost first, then s.
func (c *core[S, E, D]) enterDown(ctx context.Context, keep, s int) {
	if p := c.m.State(s).Parent; p != keep && p >= 0 {
		c.enterDown(ctx, keep, p)
	}
	c.enterOne(ctx, s)
}

// enterOne runs s's entry actions, stopping at the first failure (the
// error state's own failures are not routed anywhere), and arms its timers.
func (c *core[S, E, D]) enterOne(ctx context.Context, s int) {
	st := c.m.State(s)
	for _, a := range st.Entry {
		if c.call(ctx, a) != nil {
			break
		}
	}
	if len(st.Delayed) > 0 {
		c.host.arm(s)
	}
}
