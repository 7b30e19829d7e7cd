package pgjournal

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"
)

// SchemaName and SchemaVersion identify the journal's tables: they are
// the rows "schema" and "version" of saga_journal_meta. The name differs
// from the SQLite journal's so that the two version lines stay apart.
const (
	SchemaName    = "statecraft.saga-journal.postgresql"
	SchemaVersion = 2
)

// A migration takes the journal's tables from version-1 to version. Each
// runs in the transaction that Open or New runs them all in, under an
// advisory lock, so replicas starting together migrate once, and a
// failure leaves the tables as they were.
type migration struct {
	version int
	what    string
	sql     []string
}

// migrations, in order. Never edit one that has shipped: add the next.
var migrations = []migration{
	{1, "the SQLite journal's tables, in the same plain SQL (its saga_journal_torn is not needed: PostgreSQL commits a transaction whole)", append(slices.Clip(journalrow.Tables),
		`INSERT INTO saga_journal_meta (name, value) VALUES ('schema', '`+SchemaName+`'), ('version', '0')`,
	)},
	{2, "leases, and numbering that concurrent writers share: a sequence for record ids; each saga's lease holder, its expiry and its last seq", []string{
		`CREATE SEQUENCE saga_journal_ids`,
		`SELECT setval('saga_journal_ids', COALESCE((SELECT MAX(id) FROM saga_journal_records), 0) + 1, false)`,
		`ALTER TABLE saga_journal_sagas ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE saga_journal_sagas ADD COLUMN lease_expires TIMESTAMPTZ NOT NULL DEFAULT 'epoch'`,
		`ALTER TABLE saga_journal_sagas ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0`,
		`UPDATE saga_journal_sagas s SET last_seq = COALESCE((SELECT MAX(r.seq) FROM saga_journal_records r WHERE r.saga_id = s.saga_id), 0)`,
		`CREATE INDEX saga_journal_sagas_claimable ON saga_journal_sagas (began) WHERE completed = 0`,
	}},
}

// migrateLock is the key of the transaction-scoped advisory lock that
// serializes migrations within a database ("statecraft" in ASCII).
const migrateLock = 0x7374617465637261

// journalTables are the tables the journal creates.
var journalTables = []string{"saga_journal_meta", "saga_journal_records", "saga_journal_sagas"}

// migrate brings the journal's tables in the connection's current schema
// up to version upTo, creating them if there are none, in one
// transaction. It refuses tables it did not make or a newer version.
func migrate(ctx context.Context, pool *pgxpool.Pool, upTo int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return err
	}
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	for _, m := range migrations[version:upTo] {
		for _, stmt := range m.sql {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return &SchemaError{Journal: journalName, Schema: SchemaName, Version: version, Reason: "migration " + strconv.Itoa(m.version) + " (" + m.what + ") failed", Err: err}
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE saga_journal_meta SET value = $1 WHERE name = 'version'`, strconv.Itoa(m.version)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// schemaVersion reads the version of the journal's tables: 0 when there
// are none.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = ANY($1)`, journalTables)
	if err != nil {
		return 0, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	if !slices.Contains(tables, "saga_journal_meta") {
		if len(tables) > 0 {
			slices.Sort(tables)
			return 0, &SchemaError{Journal: journalName, Reason: "the schema holds " + strings.Join(tables, ", ") + " but no saga_journal_meta"}
		}
		return 0, nil
	}
	rows, err = tx.Query(ctx, `SELECT name, value FROM saga_journal_meta`)
	if err != nil {
		return 0, &SchemaError{Journal: journalName, Reason: "saga_journal_meta cannot be read", Err: err}
	}
	meta := map[string]string{}
	var name, value string
	if _, err := pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		meta[name] = value
		return nil
	}); err != nil {
		return 0, &SchemaError{Journal: journalName, Reason: "saga_journal_meta cannot be read", Err: err}
	}
	version, verr := strconv.Atoi(meta["version"])
	switch {
	case meta["schema"] != SchemaName:
		return 0, &SchemaError{Journal: journalName, Schema: meta["schema"], Reason: "another schema"}
	case verr != nil || version < 1:
		return 0, &SchemaError{Journal: journalName, Schema: meta["schema"], Reason: "version " + strconv.Quote(meta["version"]) + " is not a version"}
	case version > SchemaVersion:
		return 0, &SchemaError{Journal: journalName, Schema: meta["schema"], Version: version, Newer: true, Reason: "migrated by a newer version of statecraft"}
	}
	return version, nil
}
