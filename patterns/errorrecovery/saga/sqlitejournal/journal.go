// Package sqlitejournal keeps sagas' journals (saga.Journal) in a
// SQLite database, through database/sql and modernc.org/sqlite, a SQLite
// written in Go (no cgo). It is a package of its own so that programs
// that do not use it, the core and the command-line tool among them, do
// not compile SQLite.
//
// Each record is written in a transaction of its own, with a CRC-32C
// checksum. When a database is opened, a last record whose checksum fails
// (a write torn by a crash) is set aside in the table saga_journal_torn
// and counted by Torn; a bad record anywhere else, a gap in a saga's
// records or a record that does not decode is corruption, reported as an
// *saga.CorruptJournalError, and nothing is removed. A database
// of another schema, another application or a newer version of this
// package is refused with a *SchemaError, and a file that SQLite finds
// damaged with a *CorruptFileError.
//
// The SQL is plain (CREATE TABLE IF NOT EXISTS, INSERT, SELECT, UPDATE in
// transactions) so that a PostgreSQL journal can reuse it; listing the
// tables at Open is the one query that is SQLite's own.
package sqlitejournal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Journal is an saga.Journal in a SQLite database. It is safe
// for concurrent use.
type Journal struct {
	db   *sql.DB
	path string // for errors; empty for New
	own  bool   // Close closes db
	torn int    // records set aside by Open
}

var _ saga.Journal = (*Journal)(nil)

// Open opens (or creates) the journal in the SQLite file at path, which
// must not contain '?'. The database runs in WAL mode with synchronous
// FULL, so a record appended has reached the disk; it is used through one
// connection at a time. Open refuses a database that holds other tables
// and no journal, or a journal of another schema or a newer version, with
// a *SchemaError, and sets aside a torn last record (see Torn). It
// refuses a path containing '?' with a *PathError, creating nothing.
func Open(ctx context.Context, path string) (*Journal, error) {
	if strings.Contains(path, "?") {
		return nil, &PathError{Path: path, Reason: "the path contains '?', which would start the driver's options"}
	}
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	j, err := newJournal(ctx, db, path)
	if err != nil {
		db.Close()
		return nil, err
	}
	j.own = true
	return j, nil
}

// New returns the journal in db, a database opened with the "sqlite"
// driver (or another that takes the same SQL), creating its tables if
// the database is empty. Close leaves db open. Like Open, it refuses a
// foreign database and sets aside a torn last record.
func New(ctx context.Context, db *sql.DB) (*Journal, error) {
	return newJournal(ctx, db, "")
}

func newJournal(ctx context.Context, db *sql.DB, path string) (_ *Journal, err error) {
	defer func() { err = sagaErr(path, err) }()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := sagaPrepare(ctx, tx, path); err != nil {
		return nil, err
	}
	torn, err := sagaSetAsideTorn(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Journal{db: db, path: path, torn: torn}, nil
}

// Torn reports how many torn records Open (or New) set aside: 0, or 1
// when the last write before a crash did not finish.
func (j *Journal) Torn() int { return j.torn }

// Close closes the database if Open opened it.
func (j *Journal) Close() error {
	if j.own {
		return j.db.Close()
	}
	return nil
}

// Append writes rec, with its saga's next seq, in a transaction of its
// own, and returns once it is committed.
func (j *Journal) Append(ctx context.Context, rec saga.Record) (err error) {
	defer func() { err = sagaErr(j.path, err) }()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var completed int
	err = tx.QueryRowContext(ctx, `SELECT completed FROM saga_journal_sagas WHERE saga_id = ?`, rec.SagaID).Scan(&completed)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch {
	case rec.Kind == saga.RecordBegun && exists:
		return &saga.JournalStateError{SagaID: rec.SagaID, Err: saga.ErrExists}
	case rec.Kind != saga.RecordBegun && !exists:
		return &saga.JournalStateError{SagaID: rec.SagaID, Err: saga.ErrNotFound}
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM saga_journal_records`).Scan(&id); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM saga_journal_records WHERE saga_id = ?`, rec.SagaID).Scan(&rec.Seq); err != nil {
		return err
	}
	r, err := journalrow.New(id, rec)
	if err != nil {
		return err
	}
	if rec.Kind == saga.RecordBegun {
		if _, err := tx.ExecContext(ctx, `INSERT INTO saga_journal_sagas (saga_id, saga, began, completed) VALUES (?, ?, ?, 0)`,
			rec.SagaID, rec.Saga, id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO saga_journal_records (id, saga_id, seq, kind, body, checksum) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.SagaID, r.Seq, r.Kind, r.Body, r.Checksum); err != nil {
		return err
	}
	return tx.Commit()
}

// Incomplete returns the logs of the sagas not marked complete, in the
// order they began. A record that fails its checksum is skipped if it is
// the last one written, and is corruption anywhere else.
func (j *Journal) Incomplete(ctx context.Context) (_ []saga.Log, err error) {
	defer func() { err = sagaErr(j.path, err) }()
	tx, err := j.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM saga_journal_records`).Scan(&last); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.saga_id, s.saga, r.id, r.seq, r.kind, r.body, r.checksum
		FROM saga_journal_sagas s LEFT JOIN saga_journal_records r ON r.saga_id = s.saga_id
		WHERE s.completed = 0 ORDER BY s.began, s.saga_id, r.seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var logs []saga.Log
	for rows.Next() {
		var name string
		var id, seq, checksum sql.NullInt64
		var kind, body sql.NullString
		var r journalrow.Row
		if err := rows.Scan(&r.SagaID, &name, &id, &seq, &kind, &body, &checksum); err != nil {
			return nil, err
		}
		if n := len(logs); n == 0 || logs[n-1].ID != r.SagaID {
			logs = append(logs, saga.Log{ID: r.SagaID, Saga: name})
		}
		log := &logs[len(logs)-1]
		if !id.Valid {
			return nil, &saga.CorruptJournalError{SagaID: r.SagaID, Seq: 1, Reason: "the saga has no records"}
		}
		r.ID, r.Seq, r.Kind, r.Body, r.Checksum = id.Int64, seq.Int64, kind.String, body.String, checksum.Int64
		if !r.Valid() {
			if r.ID == last {
				continue // a torn last write, set aside at the next Open
			}
			return nil, &saga.CorruptJournalError{SagaID: r.SagaID, Seq: int(r.Seq), Reason: "checksum mismatch"}
		}
		rec, err := r.Decode()
		if err != nil {
			return nil, err
		}
		if rec.Seq != len(log.Records)+1 {
			return nil, &saga.CorruptJournalError{SagaID: r.SagaID, Seq: rec.Seq, Reason: fmt.Sprintf("expected record %d", len(log.Records)+1)}
		}
		if rec.Seq == 1 && (rec.Kind != saga.RecordBegun || rec.Saga != name) {
			return nil, &saga.CorruptJournalError{SagaID: r.SagaID, Seq: 1, Reason: "the first record does not begin saga " + strconv.Quote(name)}
		}
		log.Records = append(log.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A saga whose only record was the torn last one never began.
	return slices.DeleteFunc(logs, func(l saga.Log) bool { return len(l.Records) == 0 }), nil
}

// Complete marks a saga complete; its records are kept.
func (j *Journal) Complete(ctx context.Context, id string) (err error) {
	defer func() { err = sagaErr(j.path, err) }()
	res, err := j.db.ExecContext(ctx, `UPDATE saga_journal_sagas SET completed = 1 WHERE saga_id = ?`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return &saga.JournalStateError{SagaID: id, Err: saga.ErrNotFound}
	}
	return nil
}
