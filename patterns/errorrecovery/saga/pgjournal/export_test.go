package pgjournal

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"
)

// MigrateTo runs the migrations up to version only, for tests that make
// a journal of an older version.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, version int) error {
	return migrate(ctx, pool, version)
}

// Checksum computes a record's checksum as the journal does, for tests
// that store records by hand.
func Checksum(sagaID string, seq int, kind, body string) int64 {
	r := journalrow.Row{SagaID: sagaID, Seq: int64(seq), Kind: kind, Body: body}
	return r.Sum()
}
