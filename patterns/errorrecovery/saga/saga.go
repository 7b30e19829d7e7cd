package saga

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// Saga runs a sequence of steps, each a forward action and its
// compensation, as a Run of its generated machine (Definition): Step1 …
// Stepn → Done, or, when a step fails, Compensatingk … → Compensated |
// CompensationFailed, undoing the steps that took effect in reverse
// order. There is no loop beside the machine: each step and each
// compensation is a choice state, and the outcome is the event it leaves
// by.
//
// Every action is called with an idempotency key derived from the run's
// id, the step's name and the phase (IdempotencyKey), so an action called
// again after a crash or by a retry can make its effect happen once per
// key. With Config.SaveState, the saga journals each action before and
// after it, and Recover finishes what a crashed run left owed.
//
// T is the saga's state, given to every action; forward steps may change
// it. It and each step's output must encode as JSON: that is how the
// journal keeps them, and how each compensation receives the output of the
// step it undoes, in a run and in a recovery alike.
//
// A Saga is safe for concurrent use; each Run is independent.
type Saga[T any] struct {
	name   string
	steps  []Step[T]
	cfg    Config
	clock  engine.Clock
	def    *fsm.Definition[State, Event, RunData[T]]
	runner *engine.Runner[State, Event, RunData[T]]
	opts   []engine.Option // the runner's
	stats  sagaStats
}

// New returns a saga named name (the name Recover finds it by) with
// the given steps, in order, or an *errorrecovery.ConfigError naming what
// is invalid. Of opts, engine.WithClock sets the clock the saga timeout
// and its journal records' times run on (tests pass an enginetest.Clock)
// and engine.WithObserver watches every run and recovery.
func New[T any](name string, cfg Config, steps []Step[T], opts ...engine.Option) (*Saga[T], error) {
	const cname = "Saga"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, configErr(cname, "name", `""`, "must not be empty")
	}
	if len(steps) == 0 {
		return nil, configErr(cname, "steps", 0, "a saga needs at least one step")
	}
	s := &Saga[T]{name: name, cfg: cfg, steps: slices.Clone(steps)}
	for i, st := range s.steps {
		field := fmt.Sprintf("steps[%d]", i)
		switch {
		case st.name == "":
			return nil, configErr(cname, field, `""`, "a step needs a name")
		case s.stepIndex(st.name) != i:
			return nil, configErr(cname, field, st.name, "another step has this name")
		case st.do == nil:
			return nil, configErr(cname, field, st.name, "the step has no action")
		}
	}
	for _, step := range slices.Sorted(maps.Keys(cfg.Compensation.CompensationActions)) {
		i := s.stepIndex(step)
		if i < 0 {
			return nil, configErr("CompensationConfig", "CompensationActions", step, "names no step of saga "+name)
		}
		if s.steps[i].undo != nil {
			return nil, configErr("CompensationConfig", "CompensationActions", step, "the step has its own compensation")
		}
		s.steps[i].raw = cfg.Compensation.CompensationActions[step]
	}
	o := engine.SettingsOf(opts...)
	s.clock = o.Clock
	def, err := s.buildDefinition()
	if err != nil {
		return nil, err
	}
	s.def = def
	// One Fire runs a whole run: a choice state per step and per
	// compensation, and the event out of Start.
	eopts := []engine.Option{engine.WithClock(s.clock), engine.WithMaxSteps(2*len(s.steps) + 4)}
	if o.Observer != nil {
		eopts = append(eopts, engine.WithObserver(o.Observer))
	}
	s.opts = eopts
	s.runner = engine.NewRunner(def, eopts...)
	return s, nil
}

// Name returns the saga's name.
func (s *Saga[T]) Name() string { return s.name }

// Definition returns the saga's generated machine.
func (s *Saga[T]) Definition() *fsm.Definition[State, Event, RunData[T]] { return s.def }

// Run runs the saga once, as run id (unique within the journal; it makes
// the idempotency keys), from state, and returns the state as the steps
// left it with:
//
//   - nil when every step succeeded (state Done);
//   - an *Error when a step failed, the saga timed out or ctx ended:
//     the steps that took effect have been compensated, last first, each
//     attempted even when another failed. It matches (errors.Is) the
//     step's failure (a *StepError, or a *TimeoutError matching
//     ErrTimeout) and each compensation's failure, and
//     ErrCompensationFailed when one failed (state CompensationFailed,
//     with Owed listing what the journal still holds owed);
//   - a *JournalError when the journal refused the saga's first record
//     (ErrExists for an id it holds): no step ran;
//   - a *JournalError matching ErrLeaseLost when the journal is a
//     LeasedJournal that no longer leases the saga to this process: the
//     run stopped before its next side effect, and the replica that
//     claimed the saga finishes it.
//
// Compensations run with ctx's values but not its cancellation: a saga
// whose caller gave up is still rolled back. A panic in an action ends the
// run where it is, as a crash would (the journal keeps the saga for
// Recover), and goes on in the caller's goroutine with its original value.
func (s *Saga[T]) Run(ctx context.Context, id string, state T) (T, error) {
	return s.run(ctx, id, state, s.runner, nil)
}

// run is Run on runner, collecting the steps of each step's protected
// call into nested[step] when nested is not nil (see Trace).
func (s *Saga[T]) run(ctx context.Context, id string, state T, runner *engine.Runner[State, Event, RunData[T]], nested [][]engine.Record) (T, error) {
	if id == "" {
		return state, configErr("Saga.Run", "id", `""`, "must not be empty")
	}
	// Compensations and the journal's bookkeeping run with ctx's values
	// but not its cancellation; the machine itself commits regardless.
	undoCtx := context.WithoutCancel(ctx)
	stepCtx, cancel := ctx, context.CancelFunc(func() {})
	var deadline time.Time
	if t := s.cfg.timeout(); t > 0 {
		deadline = s.clock.Now().Add(t)
		stepCtx, cancel = engine.WithDeadline(ctx, s.clock, deadline)
	}
	defer cancel()
	s.stats.runs.Add(1)
	run, err := runner.Start(ctx, RunData[T]{})
	if err == nil {
		*run.Data() = RunData[T]{
			id: id, state: state, journal: s.cfg.Journal,
			stepCtx: stepCtx, undoCtx: undoCtx, deadline: deadline,
			steps: make([]sagaStepRun, len(s.steps)), nested: nested,
		}
		_, err = run.Fire(ctx, EventBegin)
	}
	state, _, final, err := s.finish(run, err)
	switch {
	case final != nil && err != nil:
		final.Journal = append(final.Journal, err)
		err = final
	case final != nil:
		err = final
	}
	s.stats.ended(err)
	return state, err
}

// finish reads a run's outcome, releases it (and the saga's lease, if the
// run held one and did not complete the saga), and re-raises a panic from
// an action. err is Fire's: an action error from the journal writes of the
// transitions out of Start or into a final state, or from a journal write
// that found the lease lost, is unwrapped to its *JournalError.
func (s *Saga[T]) finish(run engine.Run[State, Event, RunData[T]], err error) (T, State, *Error, error) {
	d := run.Data()
	state, final, at := d.state, d.final, run.State()
	var relErr error
	if d.held && !d.completed {
		if rerr := sagaRelease(d.undoCtx, d.journal, d.id); rerr != nil {
			relErr = &JournalError{Saga: s.name, ID: d.id, Op: "release", Err: rerr}
		}
	}
	run.Release()
	if pe, ok := errors.AsType[*engine.PanicError](err); ok {
		panic(pe.Value)
	}
	if ae, ok := errors.AsType[*engine.ActionError](err); ok {
		err = ae.Err
	}
	if relErr != nil {
		if final != nil {
			final.Journal = append(final.Journal, relErr)
		} else {
			err = errors.Join(err, relErr)
		}
	}
	return state, at, final, err
}

// IdempotencyKey returns the key of an action of a saga run: derived only
// from the run's id, the step's name and the phase, so a call after a
// crash or a retry gets the same key. It is 32 lowercase hex digits.
func IdempotencyKey(sagaID, step string, phase Phase) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, part := range [...]string{"statecraft saga", sagaID, step, phase.String()} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// RunData is the data of one run (or recovery) of a saga, as its
// machine's actions see it. Its fields are the saga's business.
type RunData[T any] struct {
	id       string
	state    T
	journal  Journal         // nil when nothing is recorded
	stepCtx  context.Context // forward actions: the caller's, bounded by the saga timeout
	undoCtx  context.Context // compensations and journal writes: never cancelled
	deadline time.Time       // the saga timeout's deadline; zero when none

	held      bool // the journal holds the saga for this run: its first record was written, or Recover claimed it
	completed bool // the journal marked the saga complete

	steps       []sagaStepRun
	cause       error        // why the saga compensates
	undoErrs    []*StepError // compensations (and resolves) that failed
	journalErrs []error      // journal writes that failed while compensating
	final       *Error       // set on entry to Compensated or CompensationFailed

	nested [][]engine.Record // Trace: the steps of each step's protected call
}

// ID returns the run's id.
func (d *RunData[T]) ID() string { return d.id }

// Cause returns why the run is compensating, or nil.
func (d *RunData[T]) Cause() error { return d.cause }

// sagaStatus is what the run knows of one action of a step.
type sagaStatus uint8

const (
	sagaNone      sagaStatus = iota // not started
	sagaStarted                     // started, outcome unknown
	sagaSucceeded                   // done
	sagaFailed                      // failed, no effect (forward) or still owed (compensate)
)

type sagaStepRun struct {
	fwd, comp sagaStatus
	out       json.RawMessage // the forward action's output
}

// owed reports whether the step's compensation is owed: its action took
// effect (or may have) and it has not been undone.
func (r *sagaStepRun) owed() bool {
	return (r.fwd == sagaSucceeded || r.fwd == sagaStarted) && r.comp != sagaSucceeded
}

func (s *Saga[T]) stepIndex(name string) int {
	return slices.IndexFunc(s.steps, func(st Step[T]) bool { return st.name == name })
}

func (s *Saga[T]) stepNames() []string {
	names := make([]string, len(s.steps))
	for i, st := range s.steps {
		names[i] = st.name
	}
	return names
}

func (s *Saga[T]) call(d *RunData[T], step string, phase Phase) Call[T] {
	return Call[T]{Saga: s.name, ID: d.id, Step: step, Phase: phase, Key: IdempotencyKey(d.id, step, phase), State: &d.state}
}
