package sqlitejournal

import (
	"errors"
	"strconv"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinels matched by *SchemaError with errors.Is. They are
// package saga's ErrForeignJournal and ErrNewerJournal, which package
// pgjournal's SchemaError matches too.
var (
	// ErrForeign: the database is not a saga journal of this schema.
	ErrForeign = saga.ErrForeignJournal
	// ErrNewerSchema: the journal was written by a newer version of this
	// package, whose records this one may misread.
	ErrNewerSchema = saga.ErrNewerJournal
)

// SchemaError reports a database that Open or New refuses: not a SQLite
// database, one that holds other tables and no journal, a journal of
// another schema, or one of a newer version. It matches ErrNewerSchema
// for the last (Newer) and ErrForeign for the others. Its Journal is
// "sqlitejournal" and its Path the file given to Open (empty for New).
// Nothing in the database is changed.
type SchemaError = saga.SchemaError

// journalName is the Journal of the package's *SchemaErrors.
const journalName = "sqlitejournal"

// ErrPath is matched by *PathError with errors.Is.
var ErrPath = errors.New("not a journal path")

// PathError reports a path that Open refuses before opening anything: one
// containing '?', which the driver would read as the start of its
// options, so that "b.db?mode=ro" would open b.db read-write.
type PathError struct {
	// Path is the path given to Open.
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error names the path and the reason.
func (e *PathError) Error() string {
	return "sqlitejournal: " + strconv.Quote(e.Path) + ": " + e.Reason
}

// Is matches ErrPath.
func (e *PathError) Is(target error) bool { return target == ErrPath }

// CorruptFileError reports a journal whose file SQLite finds damaged
// (its disk image is malformed: truncated, or overwritten in part), met
// by Open or by any later operation. It matches
// saga.ErrCorruptJournal and unwraps to the driver's error.
// Nothing in the file is repaired or removed.
type CorruptFileError struct {
	// Path is the file given to Open; empty for New.
	Path string
	// Err is the driver's error.
	Err error
}

// Error names the file and the driver's error.
func (e *CorruptFileError) Error() string {
	s := "sqlitejournal: "
	if e.Path != "" {
		s += strconv.Quote(e.Path) + ": "
	}
	return s + "the database file is damaged: " + e.Err.Error()
}

// Unwrap returns the driver's error.
func (e *CorruptFileError) Unwrap() error { return e.Err }

// Is matches saga.ErrCorruptJournal.
func (e *CorruptFileError) Is(target error) bool { return target == saga.ErrCorruptJournal }

// sagaErr turns the driver's errors about the file itself into the
// package's: "not a database" into a *SchemaError and "malformed" into a
// *CorruptFileError. Other errors, and the package's own, are returned as
// they are.
func sagaErr(path string, err error) error {
	if _, ok := errors.AsType[*SchemaError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*CorruptFileError](err); ok {
		return err
	}
	se, ok := errors.AsType[*sqlite.Error](err)
	switch {
	case !ok:
		return err
	case se.Code()&0xff == sqlite3.SQLITE_NOTADB:
		return &SchemaError{Journal: journalName, Path: path, Reason: "not a SQLite database", Err: err}
	case se.Code()&0xff == sqlite3.SQLITE_CORRUPT:
		return &CorruptFileError{Path: path, Err: err}
	}
	return err
}
