// Package pgjournal keeps sagas' journals in PostgreSQL, shared by the
// replicas of a service, through github.com/jackc/pgx/v5 and its pool. It
// is a package of its own so that programs that do not use it, the core
// and the command-line tool among them, do not compile pgx.
//
// A Journal is an saga.LeasedJournal: each saga is leased to one
// replica at a time, so that any replica's Recover can finish the sagas a
// dead replica left, and two replicas never work on one saga at once.
//
//	j, err := pgjournal.Open(ctx, "postgres://app@db.internal/orders", pgjournal.Config{Owner: "orders-7f9c"})
//	if err != nil {
//		return err
//	}
//	defer j.Close()
//	cfg := saga.DefaultConfig()
//	cfg.SaveState, cfg.Journal = true, j
//	// Build the sagas with cfg, then at startup and every few seconds:
//	saga.Recover(ctx, j, registry)
//
// # Leases
//
// A lease is a holder (Journal.Owner) and an expiry, kept on the saga's row
// in saga_journal_sagas:
//
//   - Beginning a saga takes its lease. Every later Append and Complete is
//     conditional on this journal still holding an unexpired lease, checked
//     and renewed by the same UPDATE in the same transaction as the write.
//     Since a saga journals what it is about to do before each side effect,
//     a replica that lost the lease is refused that write
//     (*LeaseError, matching saga.ErrLeaseLost) and its run
//     stops before the effect.
//   - While the journal holds leases it renews them every
//     Config.RenewEvery on Config.Clock, in one UPDATE. A lease that has
//     expired is never renewed, even if nobody claimed it: it is lost.
//   - Incomplete claims sagas not complete whose lease has expired or was
//     released, with SELECT … FOR UPDATE SKIP LOCKED, so concurrent
//     claims by several replicas take disjoint sets and never wait on one
//     another. It leaves out the sagas this journal holds for runs in
//     progress.
//   - Complete and Release give the lease up. saga.Saga releases
//     the lease of a run that ends without completing its saga, and Recover
//     that of every saga it claimed and did not complete.
//
// What holds: a saga is written by one replica at a time, and a replica
// whose lease was taken over writes nothing more for it and so starts no
// further side effect. What does not: an action already running when its
// replica loses the lease (the process stalled, say, for longer than the
// lease) runs to its end, and may then overlap the new holder's
// compensation of it; idempotency keys make each effect happen once per
// key, and a lease several times longer than the longest pause makes the
// overlap unlikely. Lease times are read from each replica's clock, so
// replicas' clocks must agree to well within the lease.
//
// # Schema
//
// The tables live in the connection's current schema (set search_path in
// the connection string to choose another). Open and New create or
// migrate them with versioned migrations (SchemaVersion), all in one
// transaction under an advisory lock, so replicas starting together
// migrate once. Version 1 is the SQLite journal's tables in the same plain
// SQL; version 2 adds the leases and the numbering concurrent writers
// share. Other tables in the schema are left alone; tables of the journal
// without its saga_journal_meta, another schema, or a newer version are
// refused with a *SchemaError. Records carry the SQLite journal's
// CRC-32C checksum; since PostgreSQL commits a transaction whole, there is
// no torn write to forgive, and any bad record is an
// *saga.CorruptJournalError.
package pgjournal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/internal/journalrow"
)

// Journal is an saga.LeasedJournal in a PostgreSQL database. It
// is safe for concurrent use; replicas share a database, each with a
// Journal of its own.
type Journal struct {
	pool  *pgxpool.Pool
	own   bool   // Close closes pool
	owner string // the lease holder's id: Config.Owner and a random suffix
	cfg   Config // with defaults

	ctx      context.Context    // renewals run with it; Close cancels it
	cancel   context.CancelFunc // cancels ctx
	renewing sync.WaitGroup     // counts the renewal in progress, if any

	mu     sync.Mutex          // guards the fields below
	held   map[string]struct{} // sagas whose lease a run or recovery here holds
	timer  engine.Timer        // the next renewal; nil while nothing is held
	closed bool
}

var _ saga.LeasedJournal = (*Journal)(nil)

// Open connects to the database at connString (a PostgreSQL URL or
// key=value string, as pgx takes) with a pool of its own, creates or
// migrates the journal's tables, and returns the journal. It refuses a
// journal it cannot use with a *SchemaError, an invalid cfg with an
// *errorrecovery.ConfigError, and a connString pgx cannot parse with
// pgx's *pgconn.ParseConfigError (whose message masks the password).
func Open(ctx context.Context, connString string, cfg Config) (*Journal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		return nil, err
	}
	j, err := New(ctx, pool, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	j.own = true
	return j, nil
}

// New returns the journal in the database pool connects to, creating or
// migrating its tables as Open does. Close leaves pool open.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Journal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, SchemaVersion); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	owner := cfg.Owner
	if owner == "" {
		host, _ := os.Hostname()
		owner = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	var suffix [4]byte
	rand.Read(suffix[:])
	j := &Journal{pool: pool, owner: owner + "#" + hex.EncodeToString(suffix[:]), cfg: cfg, held: map[string]struct{}{}}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	return j, nil
}

// Owner returns the id this journal holds leases under: Config.Owner (or
// the host name and process id), "#", and 8 random hex digits.
func (j *Journal) Owner() string { return j.owner }

// Close stops renewing leases, waiting for a renewal in progress, and
// closes the pool if Open opened it. Call it once the runs and recoveries
// using the journal have returned: leases still held are not released,
// and expire.
func (j *Journal) Close() {
	j.mu.Lock()
	j.closed = true
	if j.timer != nil {
		j.timer.Stop()
		j.timer = nil
	}
	j.mu.Unlock()
	j.cancel()
	j.renewing.Wait()
	if j.own {
		j.pool.Close()
	}
}

// Append writes rec with its saga's next seq, in a transaction that
// first checks and renews this journal's lease on the saga (a
// RecordBegun record takes the lease instead), and returns once it
// is committed. A lease not held is a *LeaseError.
func (j *Journal) Append(ctx context.Context, rec saga.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := j.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	now := j.cfg.Clock.Now()
	expires := now.Add(j.cfg.LeaseDuration)
	begun := rec.Kind == saga.RecordBegun
	var id int64
	if begun {
		err := tx.QueryRow(ctx, `INSERT INTO saga_journal_sagas (saga_id, saga, began, completed, owner, lease_expires, last_seq)
			VALUES ($1, $2, nextval('saga_journal_ids'), 0, $3, $4, 1)
			ON CONFLICT (saga_id) DO NOTHING RETURNING began`, rec.SagaID, rec.Saga, j.owner, expires).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return &saga.JournalStateError{SagaID: rec.SagaID, Err: saga.ErrExists}
		}
		if err != nil {
			return err
		}
		rec.Seq = 1
	} else {
		err := tx.QueryRow(ctx, `UPDATE saga_journal_sagas SET last_seq = last_seq + 1, lease_expires = $4
			WHERE saga_id = $1 AND owner = $2 AND lease_expires > $3 RETURNING last_seq, nextval('saga_journal_ids')`,
			rec.SagaID, j.owner, now, expires).Scan(&rec.Seq, &id)
		if errors.Is(err, pgx.ErrNoRows) {
			return j.refusal(ctx, tx, rec.SagaID)
		}
		if err != nil {
			return err
		}
	}
	r, err := journalrow.New(id, rec)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO saga_journal_records (id, saga_id, seq, kind, body, checksum) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.SagaID, r.Seq, r.Kind, r.Body, r.Checksum); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if begun {
		j.hold(rec.SagaID)
	}
	return nil
}

// refusal explains why a conditional write of saga id matched no row: the
// saga does not exist, or its lease is not this journal's.
func (j *Journal) refusal(ctx context.Context, tx pgx.Tx, id string) error {
	var holder string
	var expires time.Time
	err := tx.QueryRow(ctx, `SELECT owner, lease_expires FROM saga_journal_sagas WHERE saga_id = $1`, id).Scan(&holder, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return &saga.JournalStateError{SagaID: id, Err: saga.ErrNotFound}
	}
	if err != nil {
		return err
	}
	return &LeaseError{SagaID: id, Owner: j.owner, Holder: holder, Expires: expires}
}

// Incomplete claims the sagas not complete whose lease has expired or was
// released (at most Config.ClaimLimit, the earliest begun first), leaving
// out those that other transactions are claiming or writing and those
// this journal holds, and returns their logs in the order they began.
// Their leases are this journal's until Complete or Release. A record that
// fails its checksum or does not decode is an
// *saga.CorruptJournalError, and then nothing is claimed.
func (j *Journal) Incomplete(ctx context.Context) ([]saga.Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := int64(math.MaxInt64)
	if j.cfg.ClaimLimit > 0 {
		limit = int64(j.cfg.ClaimLimit)
	}
	tx, err := j.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	now := j.cfg.Clock.Now()
	rows, err := tx.Query(ctx, `WITH claimable AS (
			SELECT saga_id FROM saga_journal_sagas
			WHERE completed = 0 AND lease_expires <= $1 AND saga_id <> ALL($2)
			ORDER BY began LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE saga_journal_sagas s SET owner = $4, lease_expires = $5
		FROM claimable c WHERE s.saga_id = c.saga_id RETURNING s.saga_id`,
		now, j.heldIDs(), limit, j.owner, now.Add(j.cfg.LeaseDuration))
	if err != nil {
		return nil, err
	}
	claimed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	logs, err := readLogs(ctx, tx, claimed)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	j.hold(claimed...)
	return logs, nil
}

// readLogs reads the logs of sagas ids, in the order they began.
func readLogs(ctx context.Context, tx pgx.Tx, ids []string) ([]saga.Log, error) {
	rows, err := tx.Query(ctx, `SELECT s.saga_id, s.saga, r.id, r.seq, r.kind, r.body, r.checksum
		FROM saga_journal_sagas s LEFT JOIN saga_journal_records r ON r.saga_id = s.saga_id
		WHERE s.saga_id = ANY($1) ORDER BY s.began, s.saga_id, r.seq`, ids)
	if err != nil {
		return nil, err
	}
	var logs []saga.Log
	var sagaID, name string
	var id, seq, checksum *int64
	var kind, body *string
	_, err = pgx.ForEachRow(rows, []any{&sagaID, &name, &id, &seq, &kind, &body, &checksum}, func() error {
		if n := len(logs); n == 0 || logs[n-1].ID != sagaID {
			logs = append(logs, saga.Log{ID: sagaID, Saga: name})
		}
		log := &logs[len(logs)-1]
		if id == nil {
			return &saga.CorruptJournalError{SagaID: sagaID, Seq: 1, Reason: "the saga has no records"}
		}
		// PostgreSQL commits a transaction whole, so there is no torn
		// last write to forgive: any mismatch is corruption.
		r := journalrow.Row{ID: *id, SagaID: sagaID, Seq: *seq, Kind: *kind, Body: *body, Checksum: *checksum}
		if !r.Valid() {
			return &saga.CorruptJournalError{SagaID: sagaID, Seq: int(r.Seq), Reason: "checksum mismatch"}
		}
		rec, err := r.Decode()
		if err != nil {
			return err
		}
		if rec.Seq != len(log.Records)+1 {
			return &saga.CorruptJournalError{SagaID: sagaID, Seq: rec.Seq, Reason: fmt.Sprintf("expected record %d", len(log.Records)+1)}
		}
		if rec.Seq == 1 && (rec.Kind != saga.RecordBegun || rec.Saga != name) {
			return &saga.CorruptJournalError{SagaID: sagaID, Seq: 1, Reason: fmt.Sprintf("the first record does not begin saga %q", name)}
		}
		log.Records = append(log.Records, rec)
		return nil
	})
	return logs, err
}

// Complete marks a saga complete and gives its lease up; its records are
// kept. It needs the lease, unless the saga is complete already.
func (j *Journal) Complete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := j.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, `UPDATE saga_journal_sagas SET completed = 1, owner = '', lease_expires = 'epoch'
		WHERE saga_id = $1 AND (completed = 1 OR (owner = $2 AND lease_expires > $3))`, id, j.owner, j.cfg.Clock.Now())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return j.refusal(ctx, tx, id)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	j.unhold(id)
	return nil
}

// Release gives up this journal's lease on saga id, if it holds it, so
// that the next Incomplete, here or on another replica, may claim the saga
// at once.
func (j *Journal) Release(ctx context.Context, id string) error {
	j.unhold(id) // even if the UPDATE fails: the lease then expires
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := j.pool.Exec(ctx, `UPDATE saga_journal_sagas SET owner = '', lease_expires = 'epoch'
		WHERE saga_id = $1 AND owner = $2 AND completed = 0`, id, j.owner)
	return err
}
