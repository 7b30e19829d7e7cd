package pgjournal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/pgjournal"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func appendAll(t *testing.T, j saga.Journal, recs ...saga.Record) {
	t.Helper()
	for _, r := range recs {
		require.NoErrorf(t, j.Append(context.Background(), r), "append %v of %s", r.Kind, r.SagaID)
	}
}

func sampleSaga(id string) []saga.Record {
	return []saga.Record{
		{SagaID: id, Kind: saga.RecordBegun, Saga: "order", Steps: []string{"a", "b"}, State: json.RawMessage(`{"n":1}`), Time: t0},
		{SagaID: id, Kind: saga.RecordStepStarted, Step: "a", Key: "k1", Time: t0},
		{SagaID: id, Kind: saga.RecordStepDone, Step: "a", Output: json.RawMessage(`"A"`), State: json.RawMessage(`{"n":2}`), Time: t0},
		{SagaID: id, Kind: saga.RecordStepStarted, Step: "b", Key: "k2", Time: t0},
	}
}

func TestOpenCreatesTheTablesAndLeavesOtherTablesAlone(t *testing.T) {
	conn := cluster.NewSchema(t)
	db := rawPool(t, conn)
	execSQL(t, db, `CREATE TABLE invoices (id BIGINT PRIMARY KEY)`)
	execSQL(t, db, `INSERT INTO invoices VALUES (7)`)
	clock := enginetest.NewClock(t0)
	j := openJournal(t, conn, pgjournal.Config{Clock: clock})
	appendAll(t, j, sampleSaga("s1")...)
	j.Close()
	var schema, version string
	if err := db.QueryRow(context.Background(), `SELECT
		(SELECT value FROM saga_journal_meta WHERE name = 'schema'),
		(SELECT value FROM saga_journal_meta WHERE name = 'version')`).Scan(&schema, &version); err != nil {
		t.Fatal(err)
	}
	if schema != pgjournal.SchemaName || version != fmt.Sprint(pgjournal.SchemaVersion) {
		t.Errorf("meta: schema %q version %q", schema, version)
	}
	assert.Equal(t, 1, queryInt(t, db, `SELECT COUNT(*) FROM invoices`), "invoices: rows")
	// Opening again migrates nothing and finds the records, once the
	// closed journal's lease has expired.
	j = openJournal(t, conn, pgjournal.Config{Clock: clock})
	clock.Advance(31 * time.Second)
	logs, err := j.Incomplete(context.Background())
	require.NoError(t, err, "after reopening")
	require.Len(t, logs, 1, "after reopening")
	require.Len(t, logs[0].Records, 4, "after reopening")
}

func TestOpenMigratesAVersion1Journal(t *testing.T) {
	conn := cluster.NewSchema(t)
	db := rawPool(t, conn)
	require.NoError(t, pgjournal.MigrateTo(context.Background(), db, 1))
	// What a version-1 journal holds: the SQLite journal's rows.
	execSQL(t, db, `INSERT INTO saga_journal_sagas (saga_id, saga, began, completed) VALUES ('s1', 'order', 1, 0), ('s0', 'order', 5, 1)`)
	for i, r := range sampleSaga("s1")[:3] {
		r.Seq = i + 1
		body, _ := json.Marshal(r)
		kind := r.Kind.String()
		execSQL(t, db, `INSERT INTO saga_journal_records (id, saga_id, seq, kind, body, checksum) VALUES ($1, $2, $3, $4, $5, $6)`,
			i+2, r.SagaID, r.Seq, kind, string(body), pgjournal.Checksum(r.SagaID, r.Seq, kind, string(body)))
	}

	j := openJournal(t, conn, pgjournal.Config{})
	assert.Equal(t, 2, queryInt(t, db, `SELECT value::int FROM saga_journal_meta WHERE name = 'version'`), "version after Open")
	logs, err := j.Incomplete(context.Background())
	require.NoError(t, err, "Incomplete")
	require.Len(t, logs, 1, "Incomplete")
	require.Equal(t, "s1", logs[0].ID, "Incomplete")
	require.Len(t, logs[0].Records, 3, "Incomplete")
	// Appending goes on after the migrated records.
	appendAll(t, j, sampleSaga("s1")[3], sampleSaga("s2")[0])
	assert.Equal(t, 4, queryInt(t, db, `SELECT seq FROM saga_journal_records WHERE saga_id = 's1' AND kind = 'step-started' AND body LIKE '%"b"%'`), "next record of s1 has seq")
	if n := queryInt(t, db, `SELECT MIN(id) FROM saga_journal_records WHERE (saga_id = 's1' AND seq = 4) OR saga_id = 's2'`); n <= 4 {
		t.Errorf("a new record took id %d, at or below the migrated ones (1 to 4)", n)
	}
}

func TestOpenRefusesForeignAndNewerJournals(t *testing.T) {
	cases := []struct {
		name   string
		damage string // SQL run on a journal at the current version, or on an empty schema
		empty  bool
		want   error
	}{
		{"journal tables without their meta", `CREATE TABLE saga_journal_records (id BIGINT)`, true, pgjournal.ErrForeign},
		{"another schema", `UPDATE saga_journal_meta SET value = 'statecraft.saga-journal' WHERE name = 'schema'`, false, pgjournal.ErrForeign},
		{"a version that is not one", `UPDATE saga_journal_meta SET value = 'two' WHERE name = 'version'`, false, pgjournal.ErrForeign},
		{"a newer version", `UPDATE saga_journal_meta SET value = '3' WHERE name = 'version'`, false, pgjournal.ErrNewerSchema},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := cluster.NewSchema(t)
			db := rawPool(t, conn)
			if !tc.empty {
				openJournal(t, conn, pgjournal.Config{}).Close()
			}
			execSQL(t, db, tc.damage)
			tables := queryInt(t, db, `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema()`)
			j, err := pgjournal.Open(context.Background(), conn, pgjournal.Config{})
			if err == nil {
				j.Close()
			}
			se, ok := errors.AsType[*pgjournal.SchemaError](err)
			require.True(t, ok, "Open")
			require.ErrorIs(t, err, tc.want, "Open")
			if tc.want == pgjournal.ErrNewerSchema && (errors.Is(err, pgjournal.ErrForeign) || se.Version != 3) {
				t.Errorf("newer: %#v", se)
			}
			assert.Equal(t, tables, queryInt(t, db, `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema()`), "the refused schema changed: columns, then")
		})
	}
}

func TestReplicasOpeningTogetherMigrateOnce(t *testing.T) {
	conn := cluster.NewSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			j, err := pgjournal.Open(context.Background(), conn, pgjournal.Config{})
			if err == nil {
				j.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

func TestCorruptRecordsAreRefusedAndNothingIsClaimed(t *testing.T) {
	cases := map[string]string{
		"bad checksum":         `UPDATE saga_journal_records SET body = replace(body, '"A"', '"Z"') WHERE seq = 3 AND saga_id = 's1'`,
		"missing record":       `DELETE FROM saga_journal_records WHERE seq = 2 AND saga_id = 's1'`,
		"no records":           `DELETE FROM saga_journal_records WHERE saga_id = 's1'`,
		"body disagrees":       `UPDATE saga_journal_records SET kind = 'step-failed' WHERE seq = 3 AND saga_id = 's1'`,
		"first is not a begin": `UPDATE saga_journal_sagas SET saga = 'other' WHERE saga_id = 's1'`,
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			conn := cluster.NewSchema(t)
			w := openJournal(t, conn, pgjournal.Config{})
			appendAll(t, w, sampleSaga("s1")...)
			appendAll(t, w, sampleSaga("s2")...)
			w.Release(context.Background(), "s1")
			w.Release(context.Background(), "s2")
			db := rawPool(t, conn)
			execSQL(t, db, damage)
			records := queryInt(t, db, `SELECT COUNT(*) FROM saga_journal_records`)

			j := openJournal(t, conn, pgjournal.Config{})
			_, err := j.Incomplete(context.Background())
			ce, ok := errors.AsType[*saga.CorruptJournalError](err)
			require.True(t, ok, "Incomplete")
			require.Equal(t, "s1", ce.SagaID, "Incomplete")
			if _, rerr := saga.Recover(context.Background(), j, nil); !errors.Is(rerr, saga.ErrCorruptJournal) {
				t.Errorf("Recover: %v, want the corruption", rerr)
			}
			assert.Equal(t, 0, queryInt(t, db, `SELECT COUNT(*) FROM saga_journal_sagas WHERE owner <> ''`), "sagas claimed from a corrupt journal")
			assert.Equal(t, records, queryInt(t, db, `SELECT COUNT(*) FROM saga_journal_records`), "records: the journal must not be changed")
		})
	}
}

func TestInvalidConfigNamesTheField(t *testing.T) {
	cases := []struct {
		field string
		cfg   pgjournal.Config
	}{
		{"LeaseDuration", pgjournal.Config{LeaseDuration: -time.Second}},
		{"RenewEvery", pgjournal.Config{RenewEvery: -time.Second}},
		{"RenewEvery", pgjournal.Config{LeaseDuration: time.Second, RenewEvery: time.Second}},
		{"RenewEvery", pgjournal.Config{RenewEvery: time.Minute}},
		{"ClaimLimit", pgjournal.Config{ClaimLimit: -1}},
	}
	for _, tc := range cases {
		_, err := pgjournal.Open(context.Background(), "host=127.0.0.1 port=1", tc.cfg)
		ce, ok := errors.AsType[*er.ConfigError](err)
		if !ok || ce.Field != tc.field {
			t.Errorf("%+v: %v, want a *ConfigError naming %s", tc.cfg, err, tc.field)
		}
	}
	if d := pgjournal.DefaultConfig(); d.Validate() != nil || d.LeaseDuration != 30*time.Second || d.RenewEvery != 10*time.Second {
		t.Errorf("DefaultConfig() = %+v", d)
	}
}

// Replicas claiming at once take disjoint sets, thanks to SKIP LOCKED,
// and together take every saga whose lease expired, and no other.
func TestConcurrentClaimsAreDisjoint(t *testing.T) {
	conn := cluster.NewSchema(t)
	clock := enginetest.NewClock(t0)
	cfg := pgjournal.Config{LeaseDuration: 10 * time.Second, Clock: clock, ClaimLimit: 3}
	dead := openJournal(t, conn, cfg)
	var want []string
	for i := range 24 {
		id := fmt.Sprintf("s%02d", i)
		appendAll(t, dead, sampleSaga(id)...)
		want = append(want, id)
	}
	dead.Close() // the replica dies: its leases are not renewed
	live := openJournal(t, conn, cfg)
	appendAll(t, live, sampleSaga("running")...)
	clock.Advance(11 * time.Second) // renews the live replica's lease; the dead one's expire

	replicas := []*pgjournal.Journal{openJournal(t, conn, cfg), openJournal(t, conn, cfg), openJournal(t, conn, cfg)}
	claims := make([][]string, len(replicas))
	var wg sync.WaitGroup
	for i, j := range replicas {
		wg.Go(func() {
			for {
				logs, err := j.Incomplete(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if len(logs) == 0 {
					return
				}
				for _, l := range logs {
					claims[i] = append(claims[i], l.ID)
				}
			}
		})
	}
	wg.Wait()
	var all []string
	for i, c := range claims {
		t.Logf("replica %d claimed %d: %q", i, len(c), c)
		all = append(all, c...)
	}
	slices.Sort(all)
	assert.Equal(t, want, all, "claimed")
}

// A record that does not decode is reported without quoting all of it.
func TestCorruptRecordErrorIsBoundedInSize(t *testing.T) {
	conn := cluster.NewSchema(t)
	w := openJournal(t, conn, pgjournal.Config{})
	appendAll(t, w, sampleSaga("s1")...)
	w.Release(context.Background(), "s1")
	db := rawPool(t, conn)
	body := `{"saga_id":"s1","seq":3,"kind":"step-done","step":"a","time":"` + strings.Repeat("9", 10<<20) + `"}`
	execSQL(t, db, `UPDATE saga_journal_records SET body = $1, checksum = $2 WHERE saga_id = 's1' AND seq = 3`,
		body, pgjournal.Checksum("s1", 3, "step-done", body))

	j := openJournal(t, conn, pgjournal.Config{})
	_, err := j.Incomplete(context.Background())
	if ce, ok := errors.AsType[*saga.CorruptJournalError](err); !ok || ce.SagaID != "s1" {
		t.Fatalf("Incomplete: %T, want a *CorruptJournalError for s1", err)
	}
	if n := len(err.Error()); n > 1024 {
		t.Errorf("the error's message is %d bytes, want at most 1024", n)
	}
}

// A connection string pgx cannot parse is pgx's typed error, and its
// message does not show the password.
func TestOpenRefusesABadConnectionString(t *testing.T) {
	for _, conn := range []string{"postgres://app:s3cret@db:99999999/orders", "postgres://app:s3cr%zzet@db/orders", "host=db password=s3cret port=x"} {
		_, err := pgjournal.Open(context.Background(), conn, pgjournal.Config{})
		if _, ok := errors.AsType[*pgconn.ParseConfigError](err); !ok {
			t.Errorf("Open(%q): %T, want a *pgconn.ParseConfigError", conn, err)
		} else if strings.Contains(err.Error(), "s3cr") {
			t.Errorf("Open(%q): the message shows the password", conn)
		}
	}
}
