package sqlitejournal

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"
)

// SchemaName and SchemaVersion identify the journal's tables: they are
// the rows "schema" and "version" of saga_journal_meta. A database whose
// rows say otherwise is refused.
const (
	SchemaName    = "statecraft.saga-journal"
	SchemaVersion = 1
)

// The tables: the first version's, which the PostgreSQL journal shares
// (journalrow.Tables), and saga_journal_torn, where Open sets aside the
// last record written when a crash tore it. Torn records keep their id,
// which a later record may reuse, so in saga_journal_torn it is not a
// key.
var sagaSchema = append(slices.Clip(journalrow.Tables), `CREATE TABLE IF NOT EXISTS saga_journal_torn (
	id       BIGINT NOT NULL,
	saga_id  TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	body     TEXT NOT NULL,
	checksum BIGINT NOT NULL
)`)

// sagaTables lists the database's tables. It is the one query here that
// is SQLite's own.
func sagaTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// sagaPrepare checks that the database is a journal of this schema, or
// empty (and then creates the tables), inside tx.
func sagaPrepare(ctx context.Context, tx *sql.Tx, path string) error {
	tables, err := sagaTables(ctx, tx)
	if err != nil {
		return err
	}
	if !slices.Contains(tables, "saga_journal_meta") {
		if len(tables) > 0 {
			return &SchemaError{Journal: journalName, Path: path, Reason: "the database holds other tables (" + strings.Join(tables, ", ") + ") and no journal"}
		}
		for _, ddl := range sagaSchema {
			if _, err := tx.ExecContext(ctx, ddl); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO saga_journal_meta (name, value) VALUES ('schema', ?), ('version', ?)`,
			SchemaName, strconv.Itoa(SchemaVersion))
		return err
	}
	meta := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT name, value FROM saga_journal_meta`)
	if err != nil {
		return sagaMetaErr(path, err)
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return sagaMetaErr(path, err)
		}
		meta[name] = value
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	version, verr := strconv.Atoi(meta["version"])
	switch {
	case meta["schema"] != SchemaName:
		return &SchemaError{Journal: journalName, Path: path, Schema: meta["schema"], Reason: "another schema"}
	case verr != nil || version < 1:
		return &SchemaError{Journal: journalName, Path: path, Schema: meta["schema"], Reason: "version " + strconv.Quote(meta["version"]) + " is not a version"}
	case version > SchemaVersion:
		return &SchemaError{Journal: journalName, Path: path, Schema: meta["schema"], Version: version, Newer: true, Reason: "written by a newer version of statecraft"}
	}
	for _, ddl := range sagaSchema {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// sagaMetaErr reports saga_journal_meta unreadable, or the file damaged.
func sagaMetaErr(path string, err error) error {
	if e := sagaErr(path, err); e != err {
		return e
	}
	return &SchemaError{Journal: journalName, Path: path, Reason: "saga_journal_meta cannot be read", Err: err}
}

// sagaSetAsideTorn moves the last record written into saga_journal_torn
// if its checksum fails: a write the crash tore. It reports how many it
// moved (0 or 1).
func sagaSetAsideTorn(ctx context.Context, tx *sql.Tx) (int, error) {
	var r journalrow.Row
	err := tx.QueryRowContext(ctx, `SELECT id, saga_id, seq, kind, body, checksum FROM saga_journal_records
		WHERE id = (SELECT MAX(id) FROM saga_journal_records)`).Scan(&r.ID, &r.SagaID, &r.Seq, &r.Kind, &r.Body, &r.Checksum)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.Valid()) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO saga_journal_torn (id, saga_id, seq, kind, body, checksum) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.SagaID, r.Seq, r.Kind, r.Body, r.Checksum); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM saga_journal_records WHERE id = ?`, r.ID); err != nil {
		return 0, err
	}
	if r.Seq == 1 {
		// The saga's first record was torn: the saga never began.
		if _, err := tx.ExecContext(ctx, `DELETE FROM saga_journal_sagas WHERE saga_id = ? AND began = ?`, r.SagaID, r.ID); err != nil {
			return 0, err
		}
	}
	return 1, nil
}
