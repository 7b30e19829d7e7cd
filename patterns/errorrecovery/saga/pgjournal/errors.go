package pgjournal

import (
	"errors"
	"strconv"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"
)

// Sentinels matched by *SchemaError with errors.Is.
var (
	// ErrForeign: the database's saga_journal tables are not a journal of
	// this schema.
	ErrForeign = errors.New("not a statecraft PostgreSQL saga journal")
	// ErrNewerSchema: the journal was migrated by a newer version of this
	// package, whose records or leases this one may misread.
	ErrNewerSchema = errors.New("PostgreSQL saga journal of a newer version")
)

// SchemaError reports a database that Open or New refuses: its current
// schema holds some of the journal's tables but no saga_journal_meta, or
// a saga_journal_meta of another schema, or a version that is not one
// (each matching ErrForeign), or a version newer than SchemaVersion
// (matching ErrNewerSchema). Nothing in the database is changed.
type SchemaError struct {
	// Schema and Version are what the database's saga_journal_meta says,
	// when it has one.
	Schema  string
	Version int
	// Reason says what is wrong.
	Reason string
	// Err is the driver's error, when there is one.
	Err error
}

// Error names the reason and the schema found.
func (e *SchemaError) Error() string {
	return "pgjournal: " + journalrow.RefusalText(e.Reason, e.Schema, e.Version, e.Err)
}

// Unwrap returns the driver's error.
func (e *SchemaError) Unwrap() error { return e.Err }

// Is matches ErrNewerSchema for a newer version and ErrForeign otherwise.
func (e *SchemaError) Is(target error) bool {
	newer := e.Schema == SchemaName && e.Version > SchemaVersion
	return (target == ErrNewerSchema && newer) || (target == ErrForeign && !newer)
}

// LeaseError reports a write (Append or Complete) refused because the
// journal does not hold the saga's lease: it expired, was released, or
// another replica claimed the saga. It matches saga.ErrLeaseLost,
// which makes a saga's run or recovery stop before its next side effect.
type LeaseError struct {
	// SagaID is the saga whose lease was lost.
	SagaID string
	// Owner is this journal's owner id.
	Owner string
	// Holder is the owner id that holds the lease now; empty when none
	// does (released, or completed).
	Holder string
	// Expires is when the holder's lease expires (or expired), on the
	// clock of the journal that last took or renewed it.
	Expires time.Time
}

// Error names the saga, this owner and the holder.
func (e *LeaseError) Error() string {
	s := "pgjournal: saga " + strconv.Quote(e.SagaID) + ": " + strconv.Quote(e.Owner) + " does not hold the lease"
	switch {
	case e.Holder == "":
		return s + " (released)"
	case e.Holder == e.Owner:
		return s + " (expired at " + e.Expires.Format(time.RFC3339Nano) + ")"
	}
	return s + " (held by " + strconv.Quote(e.Holder) + " until " + e.Expires.Format(time.RFC3339Nano) + ")"
}

// Is matches saga.ErrLeaseLost.
func (e *LeaseError) Is(target error) bool { return target == saga.ErrLeaseLost }
