package sqlitejournal

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// SchemaName and SchemaVersion identify the journal's tables: they are
// the rows "schema" and "version" of saga_journal_meta. A database whose
// rows say otherwise is refused.
const (
	SchemaName    = "statecraft.saga-journal"
	SchemaVersion = 1
)

// The tables, in plain SQL that PostgreSQL also takes. Records are
// numbered by id in the order written, across sagas (the last record
// written is the one a crash may have torn), and by seq within their
// saga. checksum is the CRC-32C of (saga_id, seq, kind, body); body is
// the record as JSON. Torn records keep their id, which a later record
// may reuse, so in saga_journal_torn it is not a key.
var sagaSchema = []string{
	`CREATE TABLE IF NOT EXISTS saga_journal_meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS saga_journal_sagas (
	saga_id   TEXT PRIMARY KEY,
	saga      TEXT NOT NULL,
	began     BIGINT NOT NULL,
	completed INTEGER NOT NULL DEFAULT 0
)`,
	`CREATE TABLE IF NOT EXISTS saga_journal_records (
	id       BIGINT PRIMARY KEY,
	saga_id  TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	body     TEXT NOT NULL,
	checksum BIGINT NOT NULL,
	UNIQUE (saga_id, seq)
)`,
	`CREATE TABLE IF NOT EXISTS saga_journal_torn (
	id       BIGINT NOT NULL,
	saga_id  TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	body     TEXT NOT NULL,
	checksum BIGINT NOT NULL
)`,
}

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
		return sagaOpenErr(path, err)
	}
	if !slices.Contains(tables, "saga_journal_meta") {
		if len(tables) > 0 {
			return &SchemaError{Path: path, Reason: "the database holds other tables (" + strings.Join(tables, ", ") + ") and no journal"}
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
		return &SchemaError{Path: path, Reason: "saga_journal_meta cannot be read", Err: err}
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return &SchemaError{Path: path, Reason: "saga_journal_meta cannot be read", Err: err}
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
		return &SchemaError{Path: path, Schema: meta["schema"], Reason: "another schema"}
	case verr != nil || version < 1:
		return &SchemaError{Path: path, Schema: meta["schema"], Reason: "version " + strconv.Quote(meta["version"]) + " is not a version"}
	case version > SchemaVersion:
		return &SchemaError{Path: path, Schema: meta["schema"], Version: version, Reason: "written by a newer version of statecraft"}
	}
	for _, ddl := range sagaSchema {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// sagaSetAsideTorn moves the last record written into saga_journal_torn
// if its checksum fails: a write the crash tore. It reports how many it
// moved (0 or 1).
func sagaSetAsideTorn(ctx context.Context, tx *sql.Tx) (int, error) {
	var r sagaRow
	err := tx.QueryRowContext(ctx, `SELECT id, saga_id, seq, kind, body, checksum FROM saga_journal_records
		WHERE id = (SELECT MAX(id) FROM saga_journal_records)`).Scan(&r.id, &r.sagaID, &r.seq, &r.kind, &r.body, &r.checksum)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.valid()) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO saga_journal_torn (id, saga_id, seq, kind, body, checksum) VALUES (?, ?, ?, ?, ?, ?)`,
		r.id, r.sagaID, r.seq, r.kind, r.body, r.checksum); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM saga_journal_records WHERE id = ?`, r.id); err != nil {
		return 0, err
	}
	if r.seq == 1 {
		// The saga's first record was torn: the saga never began.
		if _, err := tx.ExecContext(ctx, `DELETE FROM saga_journal_sagas WHERE saga_id = ? AND began = ?`, r.sagaID, r.id); err != nil {
			return 0, err
		}
	}
	return 1, nil
}
