package pgjournal

import (
	"strconv"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// Sentinels matched by *SchemaError with errors.Is. They are
// package saga's ErrForeignJournal and ErrNewerJournal, which package
// sqlitejournal's SchemaError matches too.
var (
	// ErrForeign: the database's saga_journal tables are not a journal of
	// this schema.
	ErrForeign = saga.ErrForeignJournal
	// ErrNewerSchema: the journal was migrated by a newer version of this
	// package, whose records or leases this one may misread.
	ErrNewerSchema = saga.ErrNewerJournal
)

// SchemaError reports a database that Open or New refuses: its current
// schema holds some of the journal's tables but no saga_journal_meta, or
// a saga_journal_meta of another schema, or a version that is not one
// (each matching ErrForeign), or a version newer than SchemaVersion
// (Newer, matching ErrNewerSchema); a migration that fails is reported
// the same way, matching ErrForeign. Its Journal is "pgjournal" and its
// Path empty. Nothing in the database is changed.
type SchemaError = saga.SchemaError

// journalName is the Journal of the package's *SchemaErrors.
const journalName = "pgjournal"

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
