package sqlitejournal_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/sqlitejournal"
)

func openJournal(t *testing.T, path string) *sqlitejournal.Journal {
	t.Helper()
	j, err := sqlitejournal.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j
}

// rawDB opens the journal's file directly, to damage it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func execSQL(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func appendAll(t *testing.T, j saga.Journal, recs ...saga.Record) {
	t.Helper()
	for _, r := range recs {
		require.NoErrorf(t, j.Append(context.Background(), r), "append %v", r.Kind)
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

func TestJournalKeepsRecordsAcrossReopening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openJournal(t, path)
	appendAll(t, j, sampleSaga("s1")...)
	appendAll(t, j, sampleSaga("s2")...)
	require.NoError(t, j.Complete(context.Background(), "s1"))
	j.Close()

	j = openJournal(t, path)
	logs, err := j.Incomplete(context.Background())
	require.NoError(t, err)
	require.Len(t, logs, 1, "incomplete")
	require.Equal(t, "s2", logs[0].ID, "incomplete")
	require.Equal(t, "order", logs[0].Saga, "incomplete")
	require.Len(t, logs[0].Records, 4, "incomplete")
	want := sampleSaga("s2")
	for i := range want {
		want[i].Seq = i + 1
	}
	if diff := cmp.Diff(want, logs[0].Records, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("records of s2 after reopening (-want +got):\n%s", diff)
	}
	assert.Equal(t, 0, j.Torn(), "Torn() on a clean journal")
}

func TestJournalRefusesDuplicateAndUnknownSagas(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	ctx := context.Background()
	assert.ErrorIs(t, j.Append(ctx, saga.Record{SagaID: "x", Kind: saga.RecordStepStarted, Step: "a"}), saga.ErrNotFound, "record of an unknown saga")
	appendAll(t, j, sampleSaga("x")[0])
	assert.ErrorIs(t, j.Append(ctx, sampleSaga("x")[0]), saga.ErrExists, "second saga-begun")
	assert.ErrorIs(t, j.Complete(ctx, "nope"), saga.ErrNotFound, "complete of an unknown saga")
}

func TestJournalOnACallersDatabase(t *testing.T) {
	db := rawDB(t, filepath.Join(t.TempDir(), "mine.db"))
	j, err := sqlitejournal.New(context.Background(), db)
	require.NoError(t, err)
	appendAll(t, j, sampleSaga("s")...)
	require.NoError(t, j.Close())
	assert.NoError(t, db.Ping(), "Close closed the caller's database")
}

func TestJournalRefusesForeignAndNewerDatabases(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   error
	}{
		{"not a database", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("this is a text file, not SQLite, and it is long enough to have a header..."), 0o644))
		}, sqlitejournal.ErrForeign},
		{"another application's tables", func(t *testing.T, path string) {
			execSQL(t, rawDB(t, path), `CREATE TABLE invoices (id INTEGER PRIMARY KEY)`)
		}, sqlitejournal.ErrForeign},
		{"another schema", func(t *testing.T, path string) {
			openJournal(t, path).Close()
			execSQL(t, rawDB(t, path), `UPDATE saga_journal_meta SET value = 'someone.else' WHERE name = 'schema'`)
		}, sqlitejournal.ErrForeign},
		{"a version that is not one", func(t *testing.T, path string) {
			openJournal(t, path).Close()
			execSQL(t, rawDB(t, path), `UPDATE saga_journal_meta SET value = 'x' WHERE name = 'version'`)
		}, sqlitejournal.ErrForeign},
		{"a newer version", func(t *testing.T, path string) {
			openJournal(t, path).Close()
			execSQL(t, rawDB(t, path), `UPDATE saga_journal_meta SET value = '2' WHERE name = 'version'`)
		}, sqlitejournal.ErrNewerSchema},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			tc.damage(t, path)
			before, _ := os.ReadFile(path)
			j, err := sqlitejournal.Open(context.Background(), path)
			if err == nil {
				j.Close()
			}
			se, ok := errors.AsType[*sqlitejournal.SchemaError](err)
			require.True(t, ok, "Open")
			require.ErrorIs(t, err, tc.want, "Open")
			if tc.want == sqlitejournal.ErrNewerSchema && (errors.Is(err, sqlitejournal.ErrForeign) || se.Version != 2) {
				t.Errorf("newer: %#v", se)
			}
			if tc.name == "not a database" {
				if after, _ := os.ReadFile(path); string(after) != string(before) {
					t.Error("the refused file was changed")
				}
			}
		})
	}
}

func TestJournalSetsAsideATornLastWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openJournal(t, path)
	appendAll(t, j, sampleSaga("s1")...)
	appendAll(t, j, sampleSaga("s2")[:1]...) // s2 began last
	appendAll(t, j, saga.Record{SagaID: "s1", Kind: saga.RecordStepDone, Step: "b", Output: json.RawMessage(`"B"`)})
	j.Close()
	// The last write, s1's step-done, was torn: its body is cut short.
	execSQL(t, rawDB(t, path), `UPDATE saga_journal_records SET body = substr(body, 1, 20) WHERE id = (SELECT MAX(id) FROM saga_journal_records)`)

	j = openJournal(t, path)
	assert.Equal(t, 1, j.Torn(), "Torn()")
	logs, err := j.Incomplete(context.Background())
	require.NoError(t, err)
	require.Len(t, logs, 2, "logs %+v", logs)
	require.Len(t, logs[0].Records, 4, "logs %+v", logs)
	require.Equal(t, saga.RecordStepStarted, logs[0].Records[3].Kind, "logs %+v", logs)
	// Appending goes on after the set-aside record.
	appendAll(t, j, saga.Record{SagaID: "s1", Kind: saga.RecordStepFailed, Step: "b"})
	logs, err = j.Incomplete(context.Background())
	require.NoError(t, err, "after appending")
	require.Equal(t, 5, logs[0].Records[4].Seq, "after appending")
	require.Equal(t, saga.RecordStepFailed, logs[0].Records[4].Kind, "after appending")
	var kept int
	rawDB(t, path).QueryRow(`SELECT COUNT(*) FROM saga_journal_torn`).Scan(&kept)
	assert.Equal(t, 1, kept, "torn records kept")

	// A second crash tears the record that took the set-aside one's place.
	j.Close()
	execSQL(t, rawDB(t, path), `UPDATE saga_journal_records SET checksum = checksum + 1 WHERE id = (SELECT MAX(id) FROM saga_journal_records)`)
	j = openJournal(t, path)
	if logs, err := j.Incomplete(context.Background()); err != nil || j.Torn() != 1 || len(logs[0].Records) != 4 {
		t.Errorf("after a second torn write: torn %d, %v", j.Torn(), err)
	}
	rawDB(t, path).QueryRow(`SELECT COUNT(*) FROM saga_journal_torn`).Scan(&kept)
	assert.Equal(t, 2, kept, "torn records kept")
}

func TestJournalTornFirstRecordMeansTheSagaNeverBegan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openJournal(t, path)
	appendAll(t, j, sampleSaga("s1")[0])
	j.Close()
	execSQL(t, rawDB(t, path), `UPDATE saga_journal_records SET checksum = checksum + 1`)
	j = openJournal(t, path)
	if logs, err := j.Incomplete(context.Background()); err != nil || len(logs) != 0 {
		t.Errorf("incomplete: %+v, %v: want none", logs, err)
	}
	appendAll(t, j, sampleSaga("s1")[0]) // the id is free again
}

func TestJournalRefusesCorruptionBeforeTheLastRecord(t *testing.T) {
	cases := map[string]string{
		"bad checksum":          `UPDATE saga_journal_records SET body = replace(body, '"A"', '"Z"') WHERE seq = 3 AND saga_id = 's1'`,
		"missing record":        `DELETE FROM saga_journal_records WHERE seq = 2 AND saga_id = 's1'`,
		"missing first record":  `DELETE FROM saga_journal_records WHERE saga_id = 's1'`,
		"body disagrees":        `UPDATE saga_journal_records SET kind = 'step-failed' WHERE seq = 3 AND saga_id = 's1'`,
		"undecodable, summed":   `UPDATE saga_journal_records SET body = '{not json' WHERE seq = 3 AND saga_id = 's1'`,
		"unknown kind, summed":  `UPDATE saga_journal_records SET body = replace(body, 'step-done', 'step-exploded') WHERE seq = 3 AND saga_id = 's1'`,
		"first is not a begin":  `UPDATE saga_journal_sagas SET saga = 'other' WHERE saga_id = 's1'`,
		"bad checksum of begun": `UPDATE saga_journal_records SET checksum = 7 WHERE seq = 1 AND saga_id = 's1'`,
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			j := openJournal(t, path)
			appendAll(t, j, sampleSaga("s1")...)
			appendAll(t, j, sampleSaga("s2")...)
			j.Close()
			db := rawDB(t, path)
			execSQL(t, db, damage)
			if name == "undecodable, summed" || name == "unknown kind, summed" {
				resum(t, db, "s1", 3)
			}
			var before int
			db.QueryRow(`SELECT COUNT(*) FROM saga_journal_records`).Scan(&before)

			j = openJournal(t, path)
			_, err := j.Incomplete(context.Background())
			ce, ok := errors.AsType[*saga.CorruptJournalError](err)
			require.True(t, ok, "Incomplete")
			require.ErrorIs(t, err, saga.ErrCorruptJournal, "Incomplete")
			require.Equal(t, "s1", ce.SagaID, "Incomplete")
			reg, _ := saga.NewRegistry()
			if _, rerr := saga.Recover(context.Background(), j, reg); !errors.Is(rerr, saga.ErrCorruptJournal) {
				t.Errorf("Recover: %v, want the corruption", rerr)
			}
			var after int
			db.QueryRow(`SELECT COUNT(*) FROM saga_journal_records`).Scan(&after)
			if after != before || j.Torn() != 0 {
				t.Errorf("records %d → %d, torn %d: the journal must not be truncated", before, after, j.Torn())
			}
		})
	}
}

// resum recomputes a record's checksum the way the journal does, so that a
// test can store a well-summed record with a bad body.
func resum(t *testing.T, db *sql.DB, sagaID string, seq int) {
	t.Helper()
	var kind, body string
	require.NoError(t, db.QueryRow(`SELECT kind, body FROM saga_journal_records WHERE saga_id = ? AND seq = ?`, sagaID, seq).Scan(&kind, &body))
	execSQL(t, db, `UPDATE saga_journal_records SET checksum = ? WHERE saga_id = ? AND seq = ?`,
		sqlitejournal.Checksum(sagaID, seq, kind, body), sagaID, seq)
}

func TestRecoverAgainstSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openJournal(t, path)
	var calls []string
	steps := []saga.Step[map[string]int]{
		saga.NewStep("a", func(ctx context.Context, c saga.Call[map[string]int]) (string, error) {
			(*c.State)["a"] = 1
			return "A", nil
		}, func(ctx context.Context, c saga.Call[map[string]int], out string) error {
			calls = append(calls, "undo a "+out)
			assert.Equal(t, 1, (*c.State)["a"], "compensation's state")
			return nil
		}),
		saga.NewStep("b", func(ctx context.Context, c saga.Call[map[string]int]) (string, error) {
			panic("crash")
		}, nil),
	}
	s, err := saga.New("sq", saga.Config{SaveState: true, Journal: j}, steps)
	require.NoError(t, err)
	func() {
		defer func() { recover() }()
		s.Run(context.Background(), "r1", map[string]int{})
	}()
	j.Close()

	j = openJournal(t, path)
	reg, _ := saga.NewRegistry(s)
	res, err := saga.Recover(context.Background(), j, reg)
	require.NoError(t, err, "Recover")
	require.Len(t, res, 1, "Recover")
	require.Equal(t, saga.StateCompensated, res[0].State.Kind, "Recover")
	if !slices.Equal(calls, []string{"undo a A"}) {
		t.Errorf("calls %q", calls)
	}
	if logs, _ := j.Incomplete(context.Background()); len(logs) != 0 {
		t.Errorf("still incomplete: %+v", logs)
	}
}

// A record that does not decode is reported without quoting all of it.
func TestJournalCorruptionErrorIsBoundedInSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openJournal(t, path)
	appendAll(t, j, sampleSaga("s1")...)
	appendAll(t, j, sampleSaga("s2")...)
	j.Close()
	db := rawDB(t, path)
	huge := strings.Repeat("9", 10<<20)
	execSQL(t, db, `UPDATE saga_journal_records SET body = ? WHERE saga_id = 's1' AND seq = 3`,
		`{"saga_id":"s1","seq":3,"kind":"step-done","step":"a","time":"`+huge+`"}`)
	resum(t, db, "s1", 3)

	j = openJournal(t, path)
	_, err := j.Incomplete(context.Background())
	if ce, ok := errors.AsType[*saga.CorruptJournalError](err); !ok || ce.SagaID != "s1" {
		t.Fatalf("Incomplete: %T, want a *CorruptJournalError for s1", err)
	}
	if n := len(err.Error()); n > 1024 {
		t.Errorf("the error's message is %d bytes, want at most 1024", n)
	}
}
