package errorrecovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// Running the per-call machine that call.go declares: one execution,
// traced or not, and what is given back when one is abandoned.

// execute is one execution: start a run, fire Begin, let the run wait out
// its delayed transitions, and read the outcome from its final state.
func (x *executor[T]) execute(ctx context.Context, fn func(context.Context) (T, error), runner *engine.Runner[callState, callEvent, execution[T]]) (T, error) {
	return x.executeInto(ctx, fn, runner, nil)
}

// executeInto is execute, filling out (when not nil) with where the result
// came from.
//
// The machine commits regardless of the caller's context (see build): the
// states consult the context themselves (d.ctx.parent), so a caller who
// gives up mid-step still has the machine take its way out, through the
// states that give back the bulkhead slot and the breaker permit, instead
// of being refused by the engine halfway. Only a backoff's sleep ends with
// the context, and the Backoff state then leaves by EventPermanent. A
// caller whose context has already ended gets its error at once, with
// nothing run or counted.
func (x *executor[T]) executeInto(ctx context.Context, fn func(context.Context) (T, error), runner *engine.Runner[callState, callEvent, execution[T]], out *Result[T]) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		if out != nil {
			*out = Result[T]{}
		}
		return zero, err
	}
	run, _ := runner.Begin(ctx)
	d := run.Data()
	d.x, d.fn = x, fn
	if d.ctx == nil {
		d.ctx = new(callCtx)
	}
	d.ctx.parent, d.ctx.clock, d.ctx.timers = ctx, x.clock, x.timers
	d.cc = d.ctx
	if x.comp != nil {
		d.undo = &undoList{actions: x.comp.CompensationActions}
		d.ctx.undo = d.undo
	}
	if x.deadline.Timeout > 0 || x.deadline.AttemptTimeout > 0 || (x.stats != nil && x.stats.timing) {
		d.start = x.startTime() // later readings are of the monotonic clock alone, since d.start (elapsed)
		if x.deadline.Timeout > 0 {
			d.deadline = d.start.after(x.deadline.Timeout)
		}
	}
	_, err := run.Fire(ctx, eventBegin)
	if err == nil && !run.Done() {
		if err = run.Wait(ctx); errors.Is(err, engine.ErrNotTransitioned) {
			// The caller gave up during a backoff: the machine records it.
			d.err = ctx.Err()
			_, err = run.Fire(ctx, eventPermanent)
		}
	}
	if d.undo != nil {
		d.undo.take() // settled: registrations from now on are too late
	}
	res, source, final, walked := d.result, d.source, d.final, d.walked
	met := final // the error met on the way, which a fallback may answer
	var pe *engine.PanicError
	var panicked bool
	if err != nil {
		pe, panicked = errors.AsType[*engine.PanicError](err)
	}
	switch s := run.State(); {
	case panicked:
		x.abandon(d)
		final = errPanicked
	case !run.Done():
		// Unreachable while the machine accepts every outcome its states
		// can meet; should it not, nothing stays held.
		x.abandon(d)
		final = fmt.Errorf("errorrecovery: %s stopped in state %v: %w", x.name, s, cmp.Or(err, final, d.err, errNoOutcome))
	case (s == stateDone && !d.undone) || s == stateRecovered:
		final = nil // a fallback answered the error met on the way
	case final == nil:
		final = cmp.Or(err, d.err, errNoOutcome)
	}
	if final != nil && !isExhausted(final) {
		// A value or an error: only the last result of retries that ran
		// out comes back with its *ExhaustedError.
		var zero T
		res = zero
		source = SourceNone
	}
	if x.stats != nil {
		var took time.Duration
		if x.stats.timing && !d.start.none() {
			took = x.elapsed(d)
		}
		x.stats.record(source, took, final, met)
	}
	if out != nil {
		out.Source, out.Attempts = source, d.attempt+d.hedges
		if source == SourceCache || source == SourceStaleCache || source == SourceFallbackCache {
			out.Age = d.age
		}
	}
	d.cc.end() // already ended, unless the function panicked
	if !walked {
		// Nothing outside holds the execution: recycle it.
		run.Recycle(recycle[T])
	}
	if panicked {
		panic(pe.Value)
	}
	return res, final
}

// recycle resets an execution's data for the next execution the pooled
// state starts: it keeps the first context unless it was seen (something
// outside may still hold a seen one; see callCtx), and HEDGE's shared
// state once no attempt's goroutine holds it (hedging.idle).
func recycle[T any](d *execution[T]) {
	c, h := d.ctx, d.idleHedge
	if d.hedge != nil {
		// Ended by its last round (judge), no state's action released it.
		if d.hedge.closeRound(); d.hedge.idle() {
			h = d.hedge
		}
	}
	*d = execution[T]{}
	d.idleHedge = h
	if c != nil && !c.seen.Load() {
		c.reset()
		d.ctx = c
	}
}

// startTime reads the clock for an execution's start; on the real clock,
// through the executor's anchor (deadlineTimers.start).
func (x *executor[T]) startTime() instant {
	if x.timers != nil {
		return x.timers.start()
	}
	return instantOf(x.clock.Now())
}

// elapsed is the time since d.start on the clock; on the real clock, from
// the monotonic clock alone (time.Since). d.start must have been read.
func (x *executor[T]) elapsed(d *execution[T]) time.Duration {
	return d.start.since(x.clock, d.ctx.timers != nil)
}

// passed reports whether d's overall deadline, if it has one, has passed.
func (x *executor[T]) passed(d *execution[T]) bool {
	return !d.deadline.none() && d.deadline.since(x.clock, d.ctx.timers != nil) >= 0
}

// now reads the clock for execution d. On the real clock, once d.start
// has been read, it reads the monotonic clock alone (time.Since), about
// half the cost of time.Now, which reads the wall clock too; comparisons
// with d's deadlines, which carry the monotonic reading of d.start, are
// the same as time.Now's would be.
func (x *executor[T]) now(d *execution[T]) time.Time {
	if d.ctx.timers != nil && !d.start.none() {
		return d.start.base.Add(time.Since(d.start.base))
	}
	return x.clock.Now()
}

// abandon releases what an execution holds when user code panicked (or
// the run was stranded): the breaker's permit (recorded as a failure), the
// adaptive limiter's (dropped: a panic's latency says nothing of the
// dependency), the bulkhead slot, a coalesced call's followers.
func (x *executor[T]) abandon(d *execution[T]) {
	if d.held {
		d.held = false
		d.permit.Abandon()
	}
	if d.limited {
		d.limited = false
		d.limit.Drop()
	}
	x.release(d, errPanicked)
}

// isExhausted reports whether err is an *ExhaustedError.
func isExhausted(err error) bool {
	_, ok := errors.AsType[*ExhaustedError](err)
	return ok
}

var errPanicked = errors.New("errorrecovery: the function panicked")

// errNoOutcome is what an execution that failed without an error of its
// own returns; the machine's states always set one.
var errNoOutcome = errors.New("errorrecovery: the execution ended without an outcome")

// trace runs one execution with an observer collecting its steps.
func (x *executor[T]) trace(ctx context.Context, fn func(context.Context) (T, error), out *Result[T]) (T, []engine.Record, error) {
	var recs []engine.Record
	obs := engine.ObserverFunc(func(rec engine.Record) { recs = append(recs, rec) })
	runner := engine.NewRunner(x.def, append(x.opts[:len(x.opts):len(x.opts)], engine.WithObserver(obs))...)
	res, err := x.executeInto(ctx, fn, runner, out)
	return res, recs, err
}
