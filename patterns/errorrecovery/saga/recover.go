package saga

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Recoverable is a saga that Recover can finish: *Saga[T] is one,
// for any T.
type Recoverable interface {
	// Name returns the saga's name, as its journal records carry it.
	Name() string
	recoverLog(ctx context.Context, j Journal, log Log) Recovery
}

// Registry holds the sagas Recover may meet in a journal, by name:
// each saga's steps, and so its compensations, are looked up by the names
// the journal recorded.
type Registry struct {
	sagas map[string]Recoverable
}

// NewRegistry returns a registry of the given sagas, or an
// *errorrecovery.ConfigError if one is nil or two share a name.
func NewRegistry(sagas ...Recoverable) (*Registry, error) {
	r := &Registry{sagas: make(map[string]Recoverable, len(sagas))}
	for i, s := range sagas {
		if s == nil {
			return nil, configErr("Registry", fmt.Sprintf("sagas[%d]", i), "nil", "a saga is nil")
		}
		if _, dup := r.sagas[s.Name()]; dup {
			return nil, configErr("Registry", fmt.Sprintf("sagas[%d]", i), s.Name(), "another saga has this name")
		}
		r.sagas[s.Name()] = s
	}
	return r, nil
}

// Recovery is what Recover did with one incomplete saga.
type Recovery struct {
	// ID is the saga's id and Saga its name.
	ID, Saga string
	// State is the final state its recovery reached: Done (every step
	// had been recorded done, none compensated), Compensated or
	// CompensationFailed; Start
	// when it could not be recovered at all; the state it stopped in when
	// its LeasedJournal found the lease lost (Err matches ErrLeaseLost).
	State State
	// Err is nil when the saga reached Done or Compensated and the journal
	// marked it complete; otherwise why not: an *Error in
	// CompensationFailed, an *UnregisteredError, a *CorruptJournalError, a
	// *JournalError. The journal keeps such a saga for the next Recover.
	Err error
}

// Recover finishes the sagas that j holds incomplete, typically those a
// crashed process was running; call it at startup, before new runs,
// since a saga still running in this process looks the same. A
// LeasedJournal (one database shared by replicas) returns only the sagas
// whose lease expired or was released, and claims them: there Recover may
// be called at any time, on any replica, and two replicas never recover
// the same saga at once. Each saga is
// found in reg by its journaled name and run as a recovery of its
// machine, which by default rolls back:
//
//   - completed forward steps are never run again;
//   - a saga whose every step was recorded done, and none compensated,
//     just reaches Done;
//   - otherwise each compensation still owed runs, last step first, each at
//     least once with its idempotency key (again, if a crash interrupted
//     it), so each effect happens once per key;
//   - a step whose action started but whose outcome was not recorded goes
//     to its resolve hook (Step.ResolvedBy), else is treated as done
//     and compensated; a step with no compensation is not asked, as
//     there is nothing to undo either way.
//
// It returns what it did with each saga, and the errors of those it could
// not finish, joined (a nil reg finds no saga). Its error alone is returned when j cannot be read
// (a *CorruptJournalError, say): nothing is then recovered. ctx is checked
// between sagas; compensations run with its values but not its
// cancellation. The lease of every saga claimed but not completed is
// released, so the next Recover can try it again at once.
func Recover(ctx context.Context, j Journal, reg *Registry) ([]Recovery, error) {
	logs, err := j.Incomplete(ctx)
	if err != nil {
		return nil, err
	}
	if reg == nil {
		reg = &Registry{}
	}
	var done []Recovery
	var errs []error
	for k, log := range logs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			for _, l := range logs[k:] {
				if rerr := sagaRelease(context.WithoutCancel(ctx), j, l.ID); rerr != nil {
					errs = append(errs, rerr)
				}
			}
			break
		}
		var r Recovery
		if s, ok := reg.sagas[log.Saga]; ok {
			r = s.recoverLog(ctx, j, log)
		} else {
			r = Recovery{ID: log.ID, Saga: log.Saga, Err: &UnregisteredError{Saga: log.Saga, ID: log.ID, Reason: "no saga of that name in the registry"}}
			if rerr := sagaRelease(context.WithoutCancel(ctx), j, log.ID); rerr != nil {
				r.Err = errors.Join(r.Err, rerr)
			}
		}
		done = append(done, r)
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return done, errors.Join(errs...)
}

// recoverLog recovers one saga of s's name and counts the recovery.
func (s *Saga[T]) recoverLog(ctx context.Context, j Journal, log Log) Recovery {
	res := s.recoverOne(ctx, j, log)
	s.stats.recoveries.Add(1)
	if res.Err != nil {
		s.stats.recoveriesFailed.Add(1)
	}
	return res
}

// recoverOne rebuilds a run's data from its log and fires the event out
// of Start that recovery takes: all done, or roll back. A saga it cannot
// run has its lease (if any) released here; one it runs, by finish.
func (s *Saga[T]) recoverOne(ctx context.Context, j Journal, log Log) Recovery {
	res := Recovery{ID: log.ID, Saga: log.Saga}
	notRun := func(err error) Recovery {
		res.Err = err
		if rerr := sagaRelease(context.WithoutCancel(ctx), j, log.ID); rerr != nil {
			res.Err = errors.Join(err, &JournalError{Saga: s.name, ID: log.ID, Op: "release", Err: rerr})
		}
		return res
	}
	steps, stateJSON, err := s.parseLog(log)
	if err != nil {
		return notRun(err)
	}
	var state T
	if len(stateJSON) > 0 {
		if err := json.Unmarshal(stateJSON, &state); err != nil {
			return notRun(&CorruptJournalError{SagaID: log.ID, Reason: "the saga's state does not decode: " + err.Error()})
		}
	}
	// All done only if no roll-back had begun: a recovery that resolved
	// the last step as done journals it done, then compensates; if it is
	// interrupted, the next one must go on rolling back.
	ev := EventRollBack
	if !slices.ContainsFunc(steps, func(r sagaStepRun) bool { return r.fwd != sagaSucceeded || r.comp != sagaNone }) {
		ev = EventAllDone
	}
	// A recovery finishes what it starts: its steps and compensations run
	// with ctx's values but not its cancellation.
	undoCtx := context.WithoutCancel(ctx)
	run, err := s.runner.Start(ctx, RunData[T]{})
	if err == nil {
		*run.Data() = RunData[T]{
			id: log.ID, state: state, journal: j,
			stepCtx: undoCtx, undoCtx: undoCtx, held: true,
			steps: steps, cause: ErrInterrupted,
		}
		_, err = run.Fire(ctx, ev)
	}
	_, at, final, err := s.finish(run, err)
	res.State = at
	switch {
	case final != nil && (err != nil || res.State.Kind == StateCompensationFailed):
		if err != nil {
			final.Journal = append(final.Journal, err)
		}
		res.Err = final
	case err != nil:
		res.Err = err
	}
	return res
}

// parseLog replays a saga's records into what each step's actions did,
// and the latest state recorded. A log that no run could have written is
// a *CorruptJournalError; one whose steps are not this saga's is an
// *UnregisteredError.
func (s *Saga[T]) parseLog(log Log) ([]sagaStepRun, json.RawMessage, error) {
	corrupt := func(seq int, reason string) error {
		return &CorruptJournalError{SagaID: log.ID, Seq: seq, Reason: reason}
	}
	if len(log.Records) == 0 || log.Records[0].Kind != RecordBegun {
		return nil, nil, corrupt(1, "the log does not begin with "+RecordBegun.String())
	}
	if names := s.stepNames(); !slices.Equal(log.Records[0].Steps, names) {
		return nil, nil, &UnregisteredError{Saga: log.Saga, ID: log.ID,
			Reason: fmt.Sprintf("journaled steps %q differ from the registered saga's %q", log.Records[0].Steps, names)}
	}
	steps := make([]sagaStepRun, len(s.steps))
	state := log.Records[0].State
	for k, rec := range log.Records {
		if rec.Seq != k+1 || rec.SagaID != log.ID {
			return nil, nil, corrupt(rec.Seq, fmt.Sprintf("record %d of the log says saga %q, seq %d", k+1, rec.SagaID, rec.Seq))
		}
		if k == 0 {
			continue
		}
		i := s.stepIndex(rec.Step)
		if i < 0 {
			return nil, nil, corrupt(rec.Seq, fmt.Sprintf("%v names no step of the saga: %q", rec.Kind, rec.Step))
		}
		r := &steps[i]
		var ok bool
		switch rec.Kind {
		case RecordStepStarted:
			ok = r.fwd == sagaNone && (i == 0 || steps[i-1].fwd == sagaSucceeded)
			r.fwd = sagaStarted
		case RecordStepDone:
			ok = r.fwd == sagaStarted
			r.fwd, r.out = sagaSucceeded, rec.Output
			if len(rec.State) > 0 {
				state = rec.State
			}
		case RecordStepFailed:
			ok = r.fwd == sagaStarted
			r.fwd = sagaFailed
		case RecordCompensationStarted:
			ok = (r.fwd == sagaSucceeded || r.fwd == sagaStarted) && r.comp != sagaSucceeded && s.steps[i].hasUndo()
			r.comp = sagaStarted
		case RecordCompensationDone:
			ok = r.comp == sagaStarted
			r.comp = sagaSucceeded
		case RecordCompensationFailed:
			ok = r.comp == sagaStarted
			r.comp = sagaFailed
		}
		if !ok {
			return nil, nil, corrupt(rec.Seq, fmt.Sprintf("%v of step %q does not follow from the records before it", rec.Kind, rec.Step))
		}
	}
	return steps, state, nil
}
