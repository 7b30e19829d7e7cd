// Package journalrow is what the SQL saga journals (sqlitejournal and
// pgjournal) share: the tables of their first schema version and the
// encoding of a record as a row with its checksum, so that a record means
// the same, byte for byte, in both.
package journalrow

import (
	"encoding/json"
	"hash/crc32"
	"strconv"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// Tables are the journal's tables in their first version, in plain SQL
// that both SQLite and PostgreSQL take. Records are numbered by id in the
// order written, across sagas, and by seq within their saga. checksum is
// Row.Sum; body is the record as JSON.
//
// Both journals' first schema versions are these statements, and
// PostgreSQL runs them as a migration that has shipped: never edit them.
// A change is a new version in each journal.
var Tables = []string{
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
}

// Row is a row of saga_journal_records.
type Row struct {
	ID, Seq  int64
	SagaID   string
	Kind     string
	Body     string
	Checksum int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// New encodes rec, whose Seq is set, as the row numbered id, with its
// checksum.
func New(id int64, rec saga.Record) (Row, error) {
	kind, err := rec.Kind.MarshalText()
	if err != nil {
		return Row{}, err
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return Row{}, err
	}
	r := Row{ID: id, SagaID: rec.SagaID, Seq: int64(rec.Seq), Kind: string(kind), Body: string(body)}
	r.Checksum = r.Sum()
	return r, nil
}

// Sum is the row's checksum: CRC-32C of saga_id, seq, kind and body, each
// followed by a NUL.
func (r *Row) Sum() int64 {
	b := make([]byte, 0, len(r.SagaID)+len(r.Kind)+len(r.Body)+24)
	b = append(append(b, r.SagaID...), 0)
	b = append(strconv.AppendInt(b, r.Seq, 10), 0)
	b = append(append(b, r.Kind...), 0)
	b = append(append(b, r.Body...), 0)
	return int64(crc32.Checksum(b, castagnoli))
}

// Valid reports whether the row's checksum holds.
func (r *Row) Valid() bool { return r.Sum() == r.Checksum }

// Decode parses the row's body and checks that it agrees with the row's
// columns; it does not check the checksum (see Valid), since what a
// mismatch means is the journal's to say.
func (r *Row) Decode() (saga.Record, error) {
	var rec saga.Record
	if err := json.Unmarshal([]byte(r.Body), &rec); err != nil {
		return rec, &saga.CorruptJournalError{SagaID: r.SagaID, Seq: int(r.Seq), Reason: "the record does not decode: " + err.Error()}
	}
	if rec.SagaID != r.SagaID || int64(rec.Seq) != r.Seq || rec.Kind.String() != r.Kind {
		return rec, &saga.CorruptJournalError{SagaID: r.SagaID, Seq: int(r.Seq), Reason: "the record's body disagrees with its columns"}
	}
	return rec, nil
}
