package sqlitejournal

import "github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"

// Checksum computes a record's checksum as the journal does, for tests
// that store a well-summed record with a damaged body.
func Checksum(sagaID string, seq int, kind, body string) int64 {
	r := journalrow.Row{SagaID: sagaID, Seq: int64(seq), Kind: kind, Body: body}
	return r.Sum()
}
