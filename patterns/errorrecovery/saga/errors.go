package saga

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statecraft/statecraft/internal/enum"
)

// Sentinels of sagas and journals, matched with errors.Is.
var (
	// ErrFailed: a saga run did not get to Done; matched by *Error.
	ErrFailed = errors.New("saga failed")
	// ErrCompensationFailed: a compensation failed, so the saga ended in
	// CompensationFailed; matched by an *Error in that state and by
	// each compensation's *StepError.
	ErrCompensationFailed = errors.New("compensation failed")
	// ErrTimeout: the saga's timeout passed; matched by
	// *TimeoutError, which also matches context.DeadlineExceeded.
	ErrTimeout = errors.New("saga timed out")
	// ErrInterrupted is the cause Recover gives a saga it rolls back:
	// the run that began it did not finish.
	ErrInterrupted = errors.New("saga run interrupted")
	// ErrUnregistered: Recover found a saga that its registry does not
	// hold, or whose steps differ from the journaled ones; matched by
	// *UnregisteredError.
	ErrUnregistered = errors.New("saga not in the registry")
	// ErrExists: a run was started with an id the journal already
	// holds.
	ErrExists = errors.New("saga id already in the journal")
	// ErrNotFound: a record or completion names a saga id the journal
	// does not hold.
	ErrNotFound = errors.New("no such saga in the journal")
	// ErrCorruptJournal: a journal's records are damaged or inconsistent
	// (other than a torn last write); matched by *CorruptJournalError.
	ErrCorruptJournal = errors.New("journal corrupt")
	// ErrForeignJournal: a durable journal was opened on a database that
	// is not a saga journal of its schema; matched by
	// *SchemaError.
	ErrForeignJournal = errors.New("not a statecraft saga journal")
	// ErrNewerJournal: a durable journal was opened on a journal written
	// by a newer version of its package, whose records it may misread;
	// matched by *SchemaError.
	ErrNewerJournal = errors.New("saga journal of a newer version")
)

// Phase says whether an action is a step's forward action or its
// compensation.
type Phase uint8

// The phases. The zero Phase is invalid.
const (
	PhaseForward    Phase = iota + 1 // forward: the step's action
	PhaseCompensate                  // compensate: the step's compensation
)

var sagaPhaseNames = []string{"", "forward", "compensate"}

// String returns "forward" or "compensate".
func (p Phase) String() string { return enum.String(sagaPhaseNames, p, "Phase") }

// StepError reports an action of a saga that failed: a step's
// forward action or its compensation. It unwraps to the action's error;
// in the compensate phase it also matches ErrCompensationFailed.
type StepError struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// Step is the step's name.
	Step string
	// Phase says which of the step's actions failed.
	Phase Phase
	// Key is the action's idempotency key.
	Key string
	// Err is the action's error.
	Err error
}

// Error names the saga, run, step and phase.
func (e *StepError) Error() string {
	return fmt.Sprintf("errorrecovery: saga %q (id %q): step %q, %s: %v", e.Saga, e.ID, e.Step, e.Phase, e.Err)
}

// Unwrap returns the action's error.
func (e *StepError) Unwrap() error { return e.Err }

// Is matches ErrCompensationFailed in the compensate phase.
func (e *StepError) Is(target error) bool {
	return target == ErrCompensationFailed && e.Phase == PhaseCompensate
}

// TimeoutError reports that a saga's timeout passed, before step Step
// started or while it ran. It matches ErrTimeout and
// context.DeadlineExceeded, and unwraps to the step's error, if any.
type TimeoutError struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// Step is the step that was running or about to start.
	Step string
	// Timeout is Config.Timeout.
	Timeout time.Duration
	// Err is the step's error when it was running, else nil.
	Err error
}

// Error names the saga, run, step and timeout.
func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("errorrecovery: saga %q (id %q): timeout of %v passed at step %q, forward", e.Saga, e.ID, e.Timeout, e.Step)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the step's error.
func (e *TimeoutError) Unwrap() error { return e.Err }

// Is matches ErrTimeout and context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Error reports a saga run (or recovery) that did not get to Done. It
// matches ErrFailed, and ErrCompensationFailed in state
// CompensationFailed; errors.Is and errors.As also see its cause and each
// compensation's error.
type Error struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// State is the final state: Compensated or CompensationFailed.
	State State
	// Cause is why the saga compensated: a *StepError in the forward
	// phase, a *TimeoutError, or ErrInterrupted for a recovery.
	Cause error
	// Compensations are the compensations that failed, last step first.
	Compensations []*StepError
	// Owed names the steps whose compensation is still owed, last step
	// first; empty in state Compensated. The journal keeps the saga
	// incomplete, so the next Recover tries them again with the same keys.
	Owed []string
	// Journal are the journal writes that failed while the saga went on
	// compensating (the compensations ran anyway; Recover may run them
	// again, with the same keys).
	Journal []error
}

// Error names the saga, its final state, the cause and what is owed.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "errorrecovery: saga %q (id %q) ended %v: %v", e.Saga, e.ID, e.State, e.Cause)
	for _, c := range e.Compensations {
		fmt.Fprintf(&b, "; compensating %q: %v", c.Step, c.Err)
	}
	if len(e.Owed) > 0 {
		fmt.Fprintf(&b, "; still owed: %s", strings.Join(e.Owed, ", "))
	}
	for _, j := range e.Journal {
		fmt.Fprintf(&b, "; %v", j)
	}
	return b.String()
}

// Unwrap returns the cause, each compensation's error and each journal
// error.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 1+len(e.Compensations)+len(e.Journal))
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	for _, c := range e.Compensations {
		errs = append(errs, c)
	}
	return append(errs, e.Journal...)
}

// Is matches ErrFailed, and ErrCompensationFailed in state
// CompensationFailed.
func (e *Error) Is(target error) bool {
	return target == ErrFailed || (target == ErrCompensationFailed && e.State.Kind == StateCompensationFailed)
}

// JournalError reports a journal write of a saga that failed. It unwraps
// to the journal's error.
type JournalError struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// Step and Phase name the action the record was about; empty and zero
	// for the saga's first record and its completion.
	Step  string
	Phase Phase
	// Op is what was written: a RecordKind's name, or "complete".
	Op string
	// Err is the journal's error.
	Err error
}

// Error names the saga, the write and the step.
func (e *JournalError) Error() string {
	if e.Step == "" {
		return fmt.Sprintf("errorrecovery: saga %q (id %q): journal %s: %v", e.Saga, e.ID, e.Op, e.Err)
	}
	return fmt.Sprintf("errorrecovery: saga %q (id %q): step %q, %s: journal %s: %v", e.Saga, e.ID, e.Step, e.Phase, e.Op, e.Err)
}

// Unwrap returns the journal's error.
func (e *JournalError) Unwrap() error { return e.Err }

// JournalStateError reports a journal refusing a record or completion
// for the saga id it names. It unwraps to ErrExists or ErrNotFound.
type JournalStateError struct {
	// SagaID is the id refused.
	SagaID string
	// Err is ErrExists or ErrNotFound.
	Err error
}

// Error names the id and the reason.
func (e *JournalStateError) Error() string {
	return fmt.Sprintf("errorrecovery: journal: saga id %q: %v", e.SagaID, e.Err)
}

// Unwrap returns the reason.
func (e *JournalStateError) Unwrap() error { return e.Err }

// CorruptJournalError reports journal records that are damaged or do not
// make sense: a bad checksum other than on the last record written, a
// record that does not decode, a gap in a saga's sequence, an order of
// records no run produces. It matches ErrCorruptJournal. The journal is
// refused, never silently truncated. Its message cuts Reason, which may
// quote a damaged record, to maxReason bytes.
type CorruptJournalError struct {
	// SagaID is the saga whose record is bad, when known.
	SagaID string
	// Seq is the record's position in the saga's log, when known.
	Seq int
	// Reason says what is wrong.
	Reason string
}

// Error names the saga, the record and the reason.
func (e *CorruptJournalError) Error() string {
	return fmt.Sprintf("errorrecovery: journal corrupt at saga %q record %d: %s", e.SagaID, e.Seq, cutReason(e.Reason))
}

// maxReason bounds how much of a CorruptJournalError's Reason its message
// holds: a record that does not decode can be megabytes long, and the
// decoder's error may quote it whole.
const maxReason = 256

// cutReason returns s, or when it is longer than maxReason bytes its
// first maxReason bytes (at a rune boundary) followed by "…(N bytes)".
func cutReason(s string) string {
	if len(s) <= maxReason {
		return s
	}
	n := maxReason
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// Is matches ErrCorruptJournal.
func (e *CorruptJournalError) Is(target error) bool { return target == ErrCorruptJournal }

// SchemaError reports a database that a durable journal refuses
// when it is opened: one that is not a saga journal, or a journal of
// another schema, or of a version that is not one (each matching
// ErrForeignJournal), or a journal written by a newer version of the
// journal's package (Newer, matching ErrNewerJournal). Packages
// sqlitejournal and pgjournal return it as their SchemaError and list the
// databases each refuses. Nothing in the database is changed.
type SchemaError struct {
	// Journal is the package that refused, such as "sqlitejournal"; the
	// message starts with it.
	Journal string
	// Path is the file the journal was opened on; empty when there is
	// none.
	Path string
	// Schema and Version are what the database's saga_journal_meta says,
	// when it has one.
	Schema  string
	Version int
	// Newer reports that saga_journal_meta names the journal's own schema
	// at a version newer than its package knows.
	Newer bool
	// Reason says what is wrong.
	Reason string
	// Err is the driver's error, when there is one.
	Err error
}

// Error names the journal, the file and the reason, then the schema and
// version the database names (when it names one) and the driver's error
// (when there is one).
func (e *SchemaError) Error() string {
	s := ""
	if e.Journal != "" {
		s = e.Journal + ": "
	}
	if e.Path != "" {
		s += strconv.Quote(e.Path) + ": "
	}
	s += "refused: " + e.Reason
	if e.Schema != "" {
		s += " (schema " + strconv.Quote(e.Schema)
		if e.Version > 0 {
			s += " version " + strconv.Itoa(e.Version)
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the driver's error.
func (e *SchemaError) Unwrap() error { return e.Err }

// Is matches ErrNewerJournal for a newer version and ErrForeignJournal
// otherwise.
func (e *SchemaError) Is(target error) bool {
	return (target == ErrNewerJournal && e.Newer) || (target == ErrForeignJournal && !e.Newer)
}

// UnregisteredError reports a journaled saga that Recover cannot roll
// back: its registry has no saga of that name, or that saga's steps are
// not the journaled ones. It matches ErrUnregistered. The saga stays in the
// journal.
type UnregisteredError struct {
	// Saga is the journaled name and ID the run's id.
	Saga, ID string
	// Reason says what did not match.
	Reason string
}

// Error names the saga and the reason.
func (e *UnregisteredError) Error() string {
	return fmt.Sprintf("errorrecovery: recover saga %q (id %q): %s", e.Saga, e.ID, e.Reason)
}

// Is matches ErrUnregistered.
func (e *UnregisteredError) Is(target error) bool { return target == ErrUnregistered }
