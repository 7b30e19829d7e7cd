package pgjournal

import (
	"encoding/json"
	"hash/crc32"
	"strconv"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// row is a row of saga_journal_records. Its checksum is computed as the
// SQLite journal computes it, so a record means the same in both.
type row struct {
	id, seq  int64
	sagaID   string
	kind     string
	body     string
	checksum int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newRow encodes rec, whose Seq is set, as a row with its checksum.
func newRow(id int64, rec er.JournalRecord) (row, error) {
	kind, err := rec.Kind.MarshalText()
	if err != nil {
		return row{}, err
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return row{}, err
	}
	r := row{id: id, sagaID: rec.SagaID, seq: int64(rec.Seq), kind: string(kind), body: string(body)}
	r.checksum = r.sum()
	return r, nil
}

// sum is the row's checksum: CRC-32C of saga_id, seq, kind and body, each
// followed by a NUL.
func (r *row) sum() int64 {
	b := make([]byte, 0, len(r.sagaID)+len(r.kind)+len(r.body)+24)
	b = append(append(b, r.sagaID...), 0)
	b = append(strconv.AppendInt(b, r.seq, 10), 0)
	b = append(append(b, r.kind...), 0)
	b = append(append(b, r.body...), 0)
	return int64(crc32.Checksum(b, castagnoli))
}

// decode parses a row, checking its checksum and that its body agrees
// with its columns. PostgreSQL commits a transaction whole, so there is no
// torn last write to forgive: any mismatch is corruption.
func (r *row) decode() (er.JournalRecord, error) {
	var rec er.JournalRecord
	if r.sum() != r.checksum {
		return rec, &er.CorruptJournalError{SagaID: r.sagaID, Seq: int(r.seq), Reason: "checksum mismatch"}
	}
	if err := json.Unmarshal([]byte(r.body), &rec); err != nil {
		return rec, &er.CorruptJournalError{SagaID: r.sagaID, Seq: int(r.seq), Reason: "the record does not decode: " + err.Error()}
	}
	if rec.SagaID != r.sagaID || int64(rec.Seq) != r.seq || rec.Kind.String() != r.kind {
		return rec, &er.CorruptJournalError{SagaID: r.sagaID, Seq: int(r.seq), Reason: "the record's body disagrees with its columns"}
	}
	return rec, nil
}
