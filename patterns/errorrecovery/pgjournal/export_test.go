package pgjournal

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateTo runs the migrations up to version only, for tests that make
// a journal of an older version.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, version int) error {
	return migrate(ctx, pool, version)
}

// Checksum computes a record's checksum as the journal does, for tests
// that store records by hand.
func Checksum(sagaID string, seq int, kind, body string) int64 {
	r := row{sagaID: sagaID, seq: int64(seq), kind: kind, body: body}
	return r.sum()
}
