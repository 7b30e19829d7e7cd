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
	"github.com/statecraft/statecraft/patterns/errorrecovery"
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
}

// Step is one step of a saga: a named forward action, its
// compensation (if any), and how they are protected and resolved. Make
// one with NewStep.
type Step[T any] struct {
	name    string
	do      func(ctx context.Context, c Call[T]) (any, error)
	undo    func(ctx context.Context, c Call[T], out json.RawMessage) error
	raw     errorrecovery.CompensationFunc // from CompensationConfig.CompensationActions
	resolve ResolveFunc[T]
	protect errorrecovery.Protector
}

// Call is what an action of a saga is given.
type Call[T any] struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// Step is the step's name.
	Step string
	// Phase says whether this is the step's action or its compensation.
	Phase Phase
	// Key is the action's idempotency key: the same for every call of
	// this action in this run, retries and recoveries included.
	Key string
	// State is the saga's state. A forward action may change it; the
	// change is journaled with the step's outcome. It is valid only during
	// the call.
	State *T
}

// ResolveFunc decides what became of a step whose action started but
// whose outcome the journal does not know (the process died meanwhile):
// whether it took effect, and if so its output (encoded as JSON and given
// to the compensation). It is called with the forward action's key, and
// typically asks the service the step called. An error leaves the question
// open: the compensation stays owed and the saga ends CompensationFailed,
// so the next Recover asks again.
type ResolveFunc[T any] func(ctx context.Context, c Call[T]) (applied bool, output any, err error)

// NewStep returns a step named name (unique within its saga) whose
// action is do and compensation undo. do's output is journaled as JSON and
// decoded for undo, which receives it with its own idempotency key. A nil
// undo means the step needs no compensation, or that
// errorrecovery.CompensationConfig.CompensationActions supplies it.
//
// do must either take effect and return nil, or return an error and take
// no effect (an action that may half-happen is made idempotent with its
// key, or protected by a retry).
func NewStep[T, O any](name string, do func(ctx context.Context, c Call[T]) (O, error), undo func(ctx context.Context, c Call[T], out O) error) Step[T] {
	st := Step[T]{name: name}
	if do != nil {
		st.do = func(ctx context.Context, c Call[T]) (any, error) { return do(ctx, c) }
	}
	if undo != nil {
		st.undo = func(ctx context.Context, c Call[T], raw json.RawMessage) error {
			var out O
			if len(raw) > 0 {
				if err := json.Unmarshal(raw, &out); err != nil {
					return &JournalError{Saga: c.Saga, ID: c.ID, Step: c.Step, Phase: c.Phase, Op: "decode output", Err: err}
				}
			}
			return undo(ctx, c, out)
		}
	}
	return st
}

// Name returns the step's name.
func (st Step[T]) Name() string { return st.name }

// ProtectedBy returns a copy of the step whose action runs through p (an
// errorrecovery.Workflow, RetryExecutor or DeadlineExecutor). Every
// attempt gets the same key.
func (st Step[T]) ProtectedBy(p errorrecovery.Protector) Step[T] {
	st.protect = p
	return st
}

// ResolvedBy returns a copy of the step that asks fn, during Recover,
// whether the step took effect when its outcome is unknown. Without it
// such a step is treated as done and compensated, with the zero output.
// A step with no compensation is never asked: whether it took effect or
// not, there is nothing to undo.
func (st Step[T]) ResolvedBy(fn ResolveFunc[T]) Step[T] {
	st.resolve = fn
	return st
}

func (st *Step[T]) hasUndo() bool { return st.undo != nil || st.raw != nil }

// runUndo calls the step's compensation, typed or untyped.
func (st *Step[T]) runUndo(ctx context.Context, c Call[T], out json.RawMessage) error {
	if st.undo != nil {
		return st.undo(ctx, c, out)
	}
	state, err := json.Marshal(c.State)
	if err != nil {
		return &JournalError{Saga: c.Saga, ID: c.ID, Step: c.Step, Phase: c.Phase, Op: "encode state", Err: err}
	}
	if len(out) == 0 {
		out = json.RawMessage("null")
	}
	return st.raw(ctx, errorrecovery.Compensation{Saga: c.Saga, ID: c.ID, Step: c.Step, Key: c.Key, Output: out, State: state})
}

// New returns a saga named name (the name Recover finds it by) with
// the given steps, in order, or an *errorrecovery.ConfigError naming what
// is invalid. WithClock sets the clock the saga timeout runs on and
// WithObserver watches every run.
func New[T any](name string, cfg Config, steps []Step[T], opts ...Option) (*Saga[T], error) {
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
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s.clock = o.clock
	if s.clock == nil {
		s.clock = engine.RealClock{}
	}
	def, err := s.buildDefinition()
	if err != nil {
		return nil, err
	}
	s.def = def
	// One Fire runs a whole run: a choice state per step and per
	// compensation, and the event out of Start.
	eopts := []engine.Option{engine.WithClock(s.clock), engine.WithMaxSteps(2*len(s.steps) + 4)}
	if o.observer != nil {
		eopts = append(eopts, engine.WithObserver(o.observer))
	}
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
	if id == "" {
		return state, configErr("Saga.Run", "id", `""`, "must not be empty")
	}
	// Compensations and the journal's bookkeeping run with ctx's values
	// but not its cancellation; the machine itself commits regardless.
	undoCtx := context.WithoutCancel(ctx)
	stepCtx, cancel := ctx, context.CancelFunc(func() {})
	var deadline time.Time
	if s.cfg.Timeout > 0 {
		deadline = s.clock.Now().Add(s.cfg.Timeout)
		stepCtx, cancel = engine.WithDeadline(ctx, s.clock, deadline)
	}
	defer cancel()
	run, err := s.runner.Start(ctx, RunData[T]{})
	if err == nil {
		*run.Data() = RunData[T]{
			id: id, state: state, journal: s.cfg.Journal,
			stepCtx: stepCtx, undoCtx: undoCtx, deadline: deadline,
			steps: make([]sagaStepRun, len(s.steps)),
		}
		_, err = run.Fire(ctx, EventBegin)
	}
	state, _, final, err := s.finish(run, err)
	switch {
	case final != nil && err != nil:
		final.Journal = append(final.Journal, err)
		return state, final
	case final != nil:
		return state, final
	}
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

// record appends rec to the run's journal, if it has one.
func (s *Saga[T]) record(d *RunData[T], rec Record, phase Phase) error {
	if d.journal == nil {
		return nil
	}
	rec.SagaID, rec.Time = d.id, s.clock.Now()
	if err := d.journal.Append(d.undoCtx, rec); err != nil {
		return &JournalError{Saga: s.name, ID: d.id, Step: rec.Step, Phase: phase, Op: rec.Kind.String(), Err: err}
	}
	return nil
}

func (s *Saga[T]) timedOut(d *RunData[T]) bool {
	return !d.deadline.IsZero() && !s.clock.Now().Before(d.deadline)
}

// recordBegin is the action of Start → Step1: the saga's first record.
// If it fails, the run stays in Start and no step runs.
func (s *Saga[T]) recordBegin(_ context.Context, m sagaMachine[T]) error {
	d := m.Data()
	if d.journal == nil {
		return nil
	}
	state, err := json.Marshal(&d.state)
	if err != nil {
		return &JournalError{Saga: s.name, ID: d.id, Op: "encode state", Err: err}
	}
	if err := s.record(d, Record{Kind: RecordBegun, Saga: s.name, Steps: s.stepNames(), State: state}, 0); err != nil {
		return err
	}
	d.held = true
	return nil
}

// forward is the choice function of Stepi: journal, run the step's
// action, journal its outcome, and leave by it. A journal write that finds
// the saga's lease lost is its error: the run stops here.
func (s *Saga[T]) forward(_ context.Context, m sagaMachine[T]) (Event, error) {
	d := m.Data()
	i := m.State().Step
	st, r := &s.steps[i-1], &d.steps[i-1]
	call := s.call(d, st.name, PhaseForward)
	stepErr := func(err error) error {
		return &StepError{Saga: s.name, ID: d.id, Step: st.name, Phase: PhaseForward, Key: call.Key, Err: err}
	}
	if s.timedOut(d) {
		d.cause = &TimeoutError{Saga: s.name, ID: d.id, Step: st.name, Timeout: s.cfg.Timeout}
		return EventTimedOut, nil
	}
	if err := d.stepCtx.Err(); err != nil {
		d.cause = stepErr(err)
		return EventStepFailed, nil
	}
	if err := s.record(d, Record{Kind: RecordStepStarted, Step: st.name, Key: call.Key}, PhaseForward); err != nil {
		if leaseLost(err) {
			return 0, err
		}
		d.cause = stepErr(err)
		return EventStepFailed, nil
	}
	r.fwd = sagaStarted
	var out any
	act := func(ctx context.Context) error {
		var err error
		out, err = st.do(ctx, call)
		return err
	}
	var err error
	if st.protect != nil {
		err = st.protect.Protect(d.stepCtx, act)
	} else {
		err = act(d.stepCtx)
	}
	if err != nil {
		r.fwd = sagaFailed
		if jerr := s.record(d, Record{Kind: RecordStepFailed, Step: st.name, Err: err.Error()}, PhaseForward); leaseLost(jerr) {
			return 0, jerr
		} else if jerr != nil {
			d.journalErrs = append(d.journalErrs, jerr)
		}
		if s.timedOut(d) {
			d.cause = &TimeoutError{Saga: s.name, ID: d.id, Step: st.name, Timeout: s.cfg.Timeout, Err: err}
			return EventTimedOut, nil
		}
		d.cause = stepErr(err)
		return EventStepFailed, nil
	}
	r.fwd = sagaSucceeded
	raw, err := json.Marshal(out)
	if err != nil {
		d.cause = stepErr(&JournalError{Saga: s.name, ID: d.id, Step: st.name, Phase: PhaseForward, Op: "encode output", Err: err})
		return EventUnrecorded, nil
	}
	r.out = raw
	if d.journal != nil {
		state, err := json.Marshal(&d.state)
		if err != nil {
			err = &JournalError{Saga: s.name, ID: d.id, Step: st.name, Phase: PhaseForward, Op: "encode state", Err: err}
		} else {
			err = s.record(d, Record{Kind: RecordStepDone, Step: st.name, Output: raw, State: state}, PhaseForward)
		}
		if leaseLost(err) {
			return 0, err
		}
		if err != nil {
			d.cause = stepErr(err)
			return EventUnrecorded, nil
		}
	}
	return EventStepDone, nil
}

// onCompensationStart is the action of every transition that starts
// compensating.
func (s *Saga[T]) onCompensationStart(_ context.Context, m sagaMachine[T]) error {
	if s.cfg.Compensation.OnCompensationStart != nil {
		d := m.Data()
		s.cfg.Compensation.OnCompensationStart(d.id, d.cause)
	}
	return nil
}

// compensate is the choice function of Compensatingi: undo step i if that
// is owed, journaling before and after. Journal errors are collected and
// the compensation runs anyway, except with a LeasedJournal: there a write
// that finds the lease lost, or a failed write before the compensation
// (the lease could not be confirmed), is its error, and the run stops
// here, before the compensation if it had not started.
func (s *Saga[T]) compensate(_ context.Context, m sagaMachine[T]) (Event, error) {
	d := m.Data()
	i := m.State().Step
	st, r := &s.steps[i-1], &d.steps[i-1]
	if r.fwd == sagaStarted && st.resolve != nil {
		if ev, settled, err := s.resolve(d, st, r); err != nil || settled {
			return ev, err
		}
	}
	if !r.owed() {
		return EventNotOwed, nil
	}
	call := s.call(d, st.name, PhaseCompensate)
	if err := s.record(d, Record{Kind: RecordCompensationStarted, Step: st.name, Key: call.Key}, PhaseCompensate); err != nil {
		if _, leased := d.journal.(LeasedJournal); leased || leaseLost(err) {
			return 0, err
		}
		d.journalErrs = append(d.journalErrs, err)
	}
	r.comp = sagaStarted
	act := func(ctx context.Context) error { return st.runUndo(ctx, call, r.out) }
	var err error
	if p := s.cfg.Compensation.CompensationRetry; p != nil {
		err = p.Protect(d.undoCtx, act)
	} else {
		err = act(d.undoCtx)
	}
	if err != nil {
		r.comp = sagaFailed
		if jerr := s.record(d, Record{Kind: RecordCompensationFailed, Step: st.name, Err: err.Error()}, PhaseCompensate); leaseLost(jerr) {
			return 0, jerr
		} else if jerr != nil {
			d.journalErrs = append(d.journalErrs, jerr)
		}
		d.undoErrs = append(d.undoErrs, &StepError{Saga: s.name, ID: d.id, Step: st.name, Phase: PhaseCompensate, Key: call.Key, Err: err})
		return EventUndoFailed, nil
	}
	r.comp = sagaSucceeded
	if err := s.record(d, Record{Kind: RecordCompensationDone, Step: st.name}, PhaseCompensate); leaseLost(err) {
		return 0, err
	} else if err != nil {
		d.journalErrs = append(d.journalErrs, err)
	}
	return EventUndone, nil
}

// resolve asks the step's resolve hook what became of an action whose
// outcome is unknown, and journals the answer. It reports the event to
// leave by when that is settled here: not owed (no effect), or undo
// failed (the hook failed). Otherwise the step is now known done and its
// compensation is owed. Its error is a journal write that found the
// saga's lease lost.
func (s *Saga[T]) resolve(d *RunData[T], st *Step[T], r *sagaStepRun) (Event, bool, error) {
	call := s.call(d, st.name, PhaseForward)
	applied, out, err := st.resolve(d.undoCtx, call)
	var raw json.RawMessage
	if err == nil && applied {
		if raw, err = json.Marshal(out); err != nil {
			err = &JournalError{Saga: s.name, ID: d.id, Step: st.name, Phase: PhaseForward, Op: "encode output", Err: err}
		}
	}
	if err != nil {
		d.undoErrs = append(d.undoErrs, &StepError{Saga: s.name, ID: d.id, Step: st.name, Phase: PhaseCompensate,
			Key: IdempotencyKey(d.id, st.name, PhaseCompensate), Err: fmt.Errorf("errorrecovery: resolving the outcome of step %q: %w", st.name, err)})
		return EventUndoFailed, true, nil
	}
	rec := Record{Kind: RecordStepFailed, Step: st.name, Err: "resolved: took no effect"}
	if applied {
		r.fwd, r.out = sagaSucceeded, raw
		rec = Record{Kind: RecordStepDone, Step: st.name, Output: raw}
	} else {
		r.fwd = sagaFailed
	}
	if jerr := s.record(d, rec, PhaseForward); leaseLost(jerr) {
		return 0, false, jerr
	} else if jerr != nil {
		d.journalErrs = append(d.journalErrs, jerr)
	}
	if !applied {
		return EventNotOwed, true, nil
	}
	return 0, false, nil
}

// settle is the entry action of Compensated and CompensationFailed: it
// makes the run's error and calls OnCompensationComplete.
func (s *Saga[T]) settle(_ context.Context, m sagaMachine[T]) error {
	d := m.Data()
	e := &Error{Saga: s.name, ID: d.id, State: m.State(), Cause: d.cause, Compensations: d.undoErrs, Journal: d.journalErrs}
	for k := range d.steps {
		i := len(d.steps) - 1 - k
		if s.steps[i].hasUndo() && d.steps[i].owed() {
			e.Owed = append(e.Owed, s.steps[i].name)
		}
	}
	d.final = e
	if s.cfg.Compensation.OnCompensationComplete != nil {
		s.cfg.Compensation.OnCompensationComplete(d.id, e)
	}
	return nil
}

// markComplete is an entry action of Done and Compensated: the journal
// may forget the saga. CompensationFailed keeps it, owing.
func (s *Saga[T]) markComplete(_ context.Context, m sagaMachine[T]) error {
	d := m.Data()
	if d.journal == nil {
		return nil
	}
	if err := d.journal.Complete(d.undoCtx, d.id); err != nil {
		return &JournalError{Saga: s.name, ID: d.id, Op: "complete", Err: err}
	}
	d.completed = true
	return nil
}
