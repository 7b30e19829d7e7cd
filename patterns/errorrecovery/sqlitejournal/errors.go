package sqlitejournal

import (
	"errors"
	"strconv"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/journalrow"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinels matched by *SchemaError with errors.Is.
var (
	// ErrForeign: the database is not a saga journal of this schema.
	ErrForeign = errors.New("not a statecraft saga journal")
	// ErrNewerSchema: the journal was written by a newer version of this
	// package, whose records this one may misread.
	ErrNewerSchema = errors.New("saga journal of a newer version")
)

// SchemaError reports a database that Open or New refuses: not a SQLite
// database, one that holds other tables and no journal, a journal of
// another schema, or one of a newer version. It matches ErrNewerSchema
// for the last and ErrForeign for the others. Nothing in the database is
// changed.
type SchemaError struct {
	// Path is the file given to Open; empty for New.
	Path string
	// Schema and Version are what the database's saga_journal_meta says,
	// when it has one.
	Schema  string
	Version int
	// Reason says what is wrong.
	Reason string
	// Err is the driver's error, when there is one.
	Err error
}

// Error names the file and the reason.
func (e *SchemaError) Error() string {
	s := "sqlitejournal: "
	if e.Path != "" {
		s += strconv.Quote(e.Path) + ": "
	}
	return s + journalrow.RefusalText(e.Reason, e.Schema, e.Version, e.Err)
}

// Unwrap returns the driver's error.
func (e *SchemaError) Unwrap() error { return e.Err }

// Is matches ErrNewerSchema for a newer version and ErrForeign otherwise.
func (e *SchemaError) Is(target error) bool {
	newer := e.Schema == SchemaName && e.Version > SchemaVersion
	return (target == ErrNewerSchema && newer) || (target == ErrForeign && !newer)
}

// sagaOpenErr turns the driver's "not a database" into a *SchemaError and
// returns other errors as they are.
func sagaOpenErr(path string, err error) error {
	if se, ok := errors.AsType[*sqlite.Error](err); ok && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
		return &SchemaError{Path: path, Reason: "not a SQLite database", Err: err}
	}
	return err
}
