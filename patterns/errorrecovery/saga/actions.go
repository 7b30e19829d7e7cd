package saga

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

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
		d.cause = &TimeoutError{Saga: s.name, ID: d.id, Step: st.name, Timeout: s.cfg.timeout()}
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
	s.stats.stepsRun.Add(1)
	var out any
	act := func(ctx context.Context) error {
		var err error
		out, err = st.do(ctx, call)
		return err
	}
	var err error
	if tp, ok := st.protect.(errorrecovery.TraceProtector); ok && d.nested != nil {
		i := s.stepIndex(st.name)
		var recs []engine.Record
		recs, err = tp.ProtectTrace(d.stepCtx, act)
		d.nested[i] = append(d.nested[i], recs...)
	} else if st.protect != nil {
		err = st.protect.Protect(d.stepCtx, act)
	} else {
		err = act(d.stepCtx)
	}
	if err != nil {
		r.fwd = sagaFailed
		s.stats.stepsFailed.Add(1)
		if jerr := s.record(d, Record{Kind: RecordStepFailed, Step: st.name, Err: err.Error()}, PhaseForward); leaseLost(jerr) {
			return 0, jerr
		} else if jerr != nil {
			d.journalErrs = append(d.journalErrs, jerr)
		}
		if s.timedOut(d) {
			d.cause = &TimeoutError{Saga: s.name, ID: d.id, Step: st.name, Timeout: s.cfg.timeout(), Err: err}
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
	s.stats.rolledBack.Add(1)
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
	s.stats.undosRun.Add(1)
	act := func(ctx context.Context) error { return st.runUndo(ctx, call, r.out) }
	// Each compensation is bounded by CompensationConfig.Timeout on the
	// saga's clock; the journal writes around it are not.
	undoCtx, cancel := d.undoCtx, context.CancelFunc(func() {})
	if t := setup.Or(s.cfg.Compensation.Timeout, errorrecovery.DefaultCompensationTimeout, 0); t > 0 {
		undoCtx, cancel = engine.WithTimeout(d.undoCtx, s.clock, t)
	}
	var err error
	if p := s.cfg.Compensation.CompensationRetry; p != nil {
		err = p.Protect(undoCtx, act)
	} else {
		err = act(undoCtx)
	}
	cancel()
	if err != nil {
		r.comp = sagaFailed
		s.stats.undosFailed.Add(1)
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
