package sqlitejournal

// Checksum computes a record's checksum as the journal does, for tests
// that store a well-summed record with a damaged body.
func Checksum(sagaID string, seq int, kind, body string) int64 {
	r := sagaRow{sagaID: sagaID, seq: int64(seq), kind: kind, body: body}
	return r.sum()
}
