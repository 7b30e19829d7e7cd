package saga

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Journal is where sagas record their progress, so that Recover can finish
// what a crashed process left half done. A saga appends a record before
// each side effect and another after it; records of one saga are kept in
// the order appended.
//
// Implementations must be safe for concurrent use. This package has an
// in-memory one (MemoryJournal, for tests); package sqlitejournal keeps one
// in a SQLite file, and package pgjournal one in PostgreSQL, shared by
// replicas that lease each saga (LeasedJournal). Package journaltest checks
// an implementation against this contract.
type Journal interface {
	// Append records rec durably before returning; the journal sets its
	// Seq. A RecordBegun record starts a saga and must come first; a
	// saga id the journal already holds is refused with an error matching
	// ErrExists. Other records for an id the journal does not hold are
	// refused with an error matching ErrNotFound.
	Append(ctx context.Context, rec Record) error
	// Incomplete returns the log of every saga not marked complete, in the
	// order the sagas began (a LeasedJournal: of those it could claim). A
	// journal that finds its records damaged returns an error matching
	// ErrCorruptJournal rather than guess.
	Incomplete(ctx context.Context) ([]Log, error)
	// Complete marks a saga complete, so that Incomplete leaves it out.
	// An unknown id is refused with an error matching ErrNotFound.
	Complete(ctx context.Context, id string) error
}

// RecordKind says what a journal record reports.
type RecordKind uint8

// The kinds of record. The zero RecordKind is invalid.
const (
	RecordBegun               RecordKind = iota + 1 // a run began: the saga's name, steps and state
	RecordStepStarted                               // a step's action is about to run
	RecordStepDone                                  // the step's action succeeded: its output and the state after it
	RecordStepFailed                                // the step's action failed and took no effect
	RecordCompensationStarted                       // a compensation is about to run
	RecordCompensationDone                          // the compensation succeeded
	RecordCompensationFailed                        // the compensation failed; it is still owed
)

var journalKindNames = []string{"", "saga-begun", "step-started", "step-done", "step-failed", "compensation-started", "compensation-done", "compensation-failed"}

// String returns the kind's name, such as "step-started".
func (k RecordKind) String() string { return enum.String(journalKindNames, k, "RecordKind") }

// MarshalText returns the kind's name; an invalid kind is an error.
func (k RecordKind) MarshalText() ([]byte, error) {
	return enum.Marshal(journalKindNames, k, "RecordKind", unknownRecordKind)
}

// UnmarshalText parses a kind's name, in the case it is written in; an
// unknown name is an *UnknownNameError and leaves k as it was.
func (k *RecordKind) UnmarshalText(b []byte) error {
	return enum.Unmarshal(journalKindNames, enum.MatchCase, k, b, unknownRecordKind)
}

func unknownRecordKind(name string) error {
	return &errorrecovery.UnknownNameError{Kind: "journal record kind", Name: name}
}

// Record is one entry of a saga's log. Its JSON form is what
// durable journals store.
type Record struct {
	// SagaID is the id of the saga's run.
	SagaID string `json:"saga_id"`
	// Seq is the record's 1-based position in the saga's log, set by the
	// journal when appended.
	Seq int `json:"seq"`
	// Kind says what the record reports.
	Kind RecordKind `json:"kind"`
	// Saga is the saga's name (RecordBegun only).
	Saga string `json:"saga,omitempty"`
	// Steps are the names of the saga's steps, in order (RecordBegun
	// only); Recover checks them against the saga it finds in its registry.
	Steps []string `json:"steps,omitempty"`
	// Step is the step's name (every kind but RecordBegun).
	Step string `json:"step,omitempty"`
	// Key is the action's idempotency key (the Started kinds).
	Key string `json:"key,omitempty"`
	// Output is the step's output as JSON (RecordStepDone).
	Output json.RawMessage `json:"output,omitempty"`
	// State is the saga's state as JSON (RecordBegun: at the start;
	// RecordStepDone: after the step).
	State json.RawMessage `json:"state,omitempty"`
	// Err is the text of the error (the Failed kinds).
	Err string `json:"err,omitempty"`
	// Time is when the record was made, on the saga's clock.
	Time time.Time `json:"time"`
}

// Log is the log of one saga: its records in the order appended.
type Log struct {
	// ID is the saga's id and Saga its name.
	ID, Saga string
	// Records are the saga's records, the RecordBegun first.
	Records []Record
}

// MemoryJournal is a Journal kept in memory, for tests and for sagas that
// need Recover only within one process. It is safe for concurrent use.
// The zero MemoryJournal is not ready; use NewMemoryJournal.
type MemoryJournal struct {
	mu    sync.Mutex           // guards the fields below
	sagas map[string]*sagaMemo // by saga id
	order []string             // saga ids in the order they began
}

type sagaMemo struct {
	log      Log
	complete bool
}

// NewMemoryJournal returns an empty MemoryJournal.
func NewMemoryJournal() *MemoryJournal {
	return &MemoryJournal{sagas: make(map[string]*sagaMemo)}
}

// Append adds a copy of rec to its saga's log.
func (j *MemoryJournal) Append(ctx context.Context, rec Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec = sagaCopyRecord(rec)
	j.mu.Lock()
	defer j.mu.Unlock()
	m := j.sagas[rec.SagaID]
	if rec.Kind == RecordBegun {
		if m != nil {
			return &JournalStateError{SagaID: rec.SagaID, Err: ErrExists}
		}
		m = &sagaMemo{log: Log{ID: rec.SagaID, Saga: rec.Saga}}
		j.sagas[rec.SagaID] = m
		j.order = append(j.order, rec.SagaID)
	} else if m == nil {
		return &JournalStateError{SagaID: rec.SagaID, Err: ErrNotFound}
	}
	rec.Seq = len(m.log.Records) + 1
	m.log.Records = append(m.log.Records, rec)
	return nil
}

// Incomplete returns copies of the logs of the sagas not marked complete.
func (j *MemoryJournal) Incomplete(ctx context.Context) ([]Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var logs []Log
	for _, id := range j.order {
		if m := j.sagas[id]; !m.complete {
			logs = append(logs, sagaCopyLog(m.log))
		}
	}
	return logs, nil
}

// Complete marks a saga complete; its log is kept for Log.
func (j *MemoryJournal) Complete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	m := j.sagas[id]
	if m == nil {
		return &JournalStateError{SagaID: id, Err: ErrNotFound}
	}
	m.complete = true
	return nil
}

// Log returns a copy of a saga's log, complete or not, and whether the
// journal holds it. Tests read it to see what a run recorded.
func (j *MemoryJournal) Log(id string) (log Log, complete, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := j.sagas[id]
	if m == nil {
		return Log{}, false, false
	}
	return sagaCopyLog(m.log), m.complete, true
}

func sagaCopyLog(l Log) Log {
	recs := make([]Record, len(l.Records))
	for i, r := range l.Records {
		recs[i] = sagaCopyRecord(r)
	}
	l.Records = recs
	return l
}

func sagaCopyRecord(r Record) Record {
	r.Steps = slices.Clone(r.Steps)
	r.Output = slices.Clone(r.Output)
	r.State = slices.Clone(r.State)
	return r
}
