package errorrecovery

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/statecraft/statecraft/engine"
)

// UndoFunc undoes one effect of a protected function: it is given the
// key the effect was registered with, so that a top-level function can
// serve every call without a closure, and so that an undo run again (by
// CompensationConfig.CompensationRetry) undoes the effect once per key.
type UndoFunc func(ctx context.Context, key string) error

// AddCompensation registers, from inside a function that a workflow with
// COMPENSATE runs, the undo of an effect that has just taken place: name
// names the action (as CompensationConfig.CompensationOrder and the
// errors name it), key is its idempotency key, and undo undoes it. A nil
// undo means CompensationConfig.CompensationActions[name].
//
// If the execution ends in failure (its retries and its fallback
// exhausted, a permanent error, a rejection, a deadline, or the caller
// giving up), the workflow's machine enters Compensate and runs every
// registered undo, the latest first (or in CompensationOrder); if it ends
// in success, or a fallback answers it, the undos are dropped. An effect
// of an attempt that failed is the function's to undo or to register:
// registering it means "undo this if the call fails in the end", whatever
// attempt made it.
//
// AddCompensation returns ErrNotCompensating when ctx is not the context
// of an execution of a workflow with COMPENSATE, or its execution has
// already settled (a goroutine the function left behind registers too
// late), and an error matching ErrUnknownCompensation when undo is nil and
// no compensation action has that name. It is safe to call from
// goroutines the function starts, and costs no allocation for the first
// four registrations of an execution, at most one for each after them.
func AddCompensation(ctx context.Context, name, key string, undo UndoFunc) error {
	c, ok := ctx.Value(attemptKey{}).(*callCtx)
	if !ok || c.undo == nil {
		return ErrNotCompensating
	}
	return c.undo.add(name, key, undo)
}

// Errors of COMPENSATE in a workflow.
var (
	// ErrNotCompensating: AddCompensation was given a context that is not
	// an execution's of a workflow with COMPENSATE, or one whose execution
	// has settled.
	ErrNotCompensating = errors.New("errorrecovery: not in an execution that compensates")
	// ErrUnknownCompensation: AddCompensation was given a nil undo and a
	// name that CompensationConfig.CompensationActions does not hold.
	ErrUnknownCompensation = errors.New("errorrecovery: no compensation action of that name")
	// ErrCompensationFailed: an undo failed (or panicked, or timed out);
	// matched by each *UndoError and by a *CompensationError with one.
	ErrCompensationFailed = errors.New("errorrecovery: compensation failed")
)

// undoAction is one registered undo.
type undoAction struct {
	name, key string
	undo      UndoFunc
}

// undoList is the undos one execution registered. It is made per
// execution of a workflow with COMPENSATE (one allocation), never pooled:
// a goroutine the function left behind may still hold it, and then finds
// it closed.
type undoList struct {
	actions map[string]CompensationFunc // CompensationConfig.CompensationActions

	mu     sync.Mutex // guards the fields below
	closed bool       // the execution settled: no more registrations
	list   []undoAction
	buf    [4]undoAction // list's first backing array
}

func (u *undoList) add(name, key string, undo UndoFunc) error {
	if undo == nil {
		if _, ok := u.actions[name]; !ok {
			return fmt.Errorf("%w: %q", ErrUnknownCompensation, name)
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return ErrNotCompensating
	}
	if u.list == nil {
		u.list = u.buf[:0]
	}
	u.list = append(u.list, undoAction{name: name, key: key, undo: undo})
	return nil
}

// take closes u and returns what was registered.
func (u *undoList) take() []undoAction {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	list := u.list
	u.list = nil
	return list
}

// ordered returns list in the order its compensations run: reverse order
// of registration, then stably by the rank of each name in order.
func ordered(list []undoAction, order []string) []undoAction {
	out := slices.Clone(list)
	slices.Reverse(out)
	if len(order) > 0 {
		rank := func(a undoAction) int {
			if i := slices.Index(order, a.name); i >= 0 {
				return i
			}
			return len(order)
		}
		slices.SortStableFunc(out, func(a, b undoAction) int { return rank(a) - rank(b) })
	}
	return out
}

// compensate is the Compensate state: the execution failed, so give back
// what the layers inside hold (the bulkhead slot: compensate lies outside
// it) and run every registered undo, each with its own timeout on the
// clock and the caller's values but not its cancellation, each attempted
// even when another failed or panicked.
func (x *executor[T]) compensate(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	if d.final == nil {
		d.final = d.err
	}
	d.source = SourceNone
	x.release(d, d.final)
	if d.undo == nil {
		return eventNotOwed, nil
	}
	list := d.undo.take()
	if len(list) == 0 {
		return eventNotOwed, nil
	}
	cfg := x.comp
	if cfg.OnCompensationStart != nil {
		cfg.OnCompensationStart(x.name, d.final)
	}
	e := &CompensationError{Workflow: x.name, Cause: d.final}
	base := context.WithoutCancel(d.ctx.parent)
	for _, a := range ordered(list, cfg.CompensationOrder) {
		if err := x.undo(base, a); err != nil {
			e.Failed = append(e.Failed, &UndoError{Workflow: x.name, Name: a.name, Key: a.key, Err: err})
		} else {
			e.Compensated = append(e.Compensated, a.name)
		}
	}
	if x.stats.counting() {
		x.stats.compensations.Add(int64(len(e.Compensated)))
		x.stats.compensationsFailed.Add(int64(len(e.Failed)))
	}
	d.final = e
	if cfg.OnCompensationComplete != nil {
		cfg.OnCompensationComplete(x.name, e)
	}
	if len(e.Failed) > 0 {
		return eventUndoFailed, nil
	}
	d.undone = true // Done, with the *CompensationError as its result
	return eventUndone, nil
}

// undo runs one undo within its timeout, through CompensationRetry when
// one is set, and turns a panic into an *engine.PanicError.
func (x *executor[T]) undo(base context.Context, a undoAction) (err error) {
	ctx, cancel := base, context.CancelFunc(func() {})
	if t := x.comp.timeout(); t > 0 {
		ctx, cancel = engine.WithTimeout(base, x.clock, t)
	}
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = &engine.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	run := func(ctx context.Context) error {
		if a.undo != nil {
			return a.undo(ctx, a.key)
		}
		return x.comp.CompensationActions[a.name](ctx, Compensation{Saga: x.name, Step: a.name, Key: a.key})
	}
	if p := x.comp.CompensationRetry; p != nil {
		return p.Protect(ctx, run)
	}
	return run(ctx)
}

// CompensationError is the error of an execution of a workflow with
// COMPENSATE that failed and ran undos: it says what failed (Cause), what
// was undone and what could not be. errors.Is and errors.As see the
// cause (an *ExhaustedError, a *TimeoutError, a rejection...) and each
// failed undo's *UndoError; it matches ErrCompensationFailed when an undo
// failed. An execution that failed with nothing registered returns its
// cause alone.
type CompensationError struct {
	// Workflow is the workflow's name.
	Workflow string
	// Cause is the error the execution failed with.
	Cause error
	// Compensated names the actions undone, in the order they ran.
	Compensated []string
	// Failed are the undos that failed, in the order they ran; their
	// effects may remain.
	Failed []*UndoError
}

// Error names the cause, then what was undone and what was not.
func (e *CompensationError) Error() string {
	s := fmt.Sprintf("errorrecovery: %s failed: %v; compensated %d of %d", e.Workflow, e.Cause, len(e.Compensated), len(e.Compensated)+len(e.Failed))
	if len(e.Compensated) > 0 {
		s += fmt.Sprintf(" %q", e.Compensated)
	}
	for _, f := range e.Failed {
		s += fmt.Sprintf("; compensating %q: %v", f.Name, f.Err)
	}
	return s
}

// Unwrap returns the cause and each failed undo.
func (e *CompensationError) Unwrap() []error {
	errs := make([]error, 0, 1+len(e.Failed))
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	for _, f := range e.Failed {
		errs = append(errs, f)
	}
	return errs
}

// Is matches ErrCompensationFailed when an undo failed.
func (e *CompensationError) Is(target error) bool {
	return target == ErrCompensationFailed && len(e.Failed) > 0
}

// UndoError reports an undo that failed: its error, an *engine.PanicError
// when it panicked, or the context's error when its timeout passed. It
// unwraps to that error and matches ErrCompensationFailed.
type UndoError struct {
	// Workflow is the workflow's name.
	Workflow string
	// Name and Key are the action's, as AddCompensation registered it.
	Name, Key string
	// Err is the undo's error.
	Err error
}

// Error names the workflow, the action and its key.
func (e *UndoError) Error() string {
	return fmt.Sprintf("errorrecovery: %s: compensating %q (key %q): %v", e.Workflow, e.Name, e.Key, e.Err)
}

// Unwrap returns the undo's error.
func (e *UndoError) Unwrap() error { return e.Err }

// Is matches ErrCompensationFailed.
func (e *UndoError) Is(target error) bool { return target == ErrCompensationFailed }
