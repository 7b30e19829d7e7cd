package sqlitejournal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/sqlitejournal"
)

// A '?' would start the driver's options: "b.db?mode=ro" would open b.db
// read-write.
func TestOpenRefusesAPathWithAQuestionMark(t *testing.T) {
	for _, name := range []string{"b.db?mode=ro", "b.db?", "?b.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			j, err := sqlitejournal.Open(context.Background(), filepath.Join(dir, name))
			if err == nil {
				j.Close()
			}
			pe, ok := errors.AsType[*sqlitejournal.PathError](err)
			require.True(t, ok, "Open")
			require.ErrorIs(t, err, sqlitejournal.ErrPath, "Open")
			require.Equal(t, filepath.Join(dir, name), pe.Path, "Open")
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("Open created %v", entries)
			}
		})
	}
}

// writeJournal writes a journal of 200 sagas at path and closes it.
func writeJournal(t *testing.T, path string) {
	t.Helper()
	j := openJournal(t, path)
	for i := range 200 {
		appendAll(t, j, sampleSaga(fmt.Sprint("s", i))...)
	}
	require.NoError(t, j.Close())
}

// openAndRead opens the journal at path and reads it, returning the first
// error.
func openAndRead(path string) error {
	j, err := sqlitejournal.Open(context.Background(), path)
	if err != nil {
		return err
	}
	defer j.Close()
	_, err = j.Incomplete(context.Background())
	return err
}

func TestJournalReportsADamagedFile(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated to half", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, fi.Size()/2))
		}},
		{"garbage after the header", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			copy(b[100:], bytes.Repeat([]byte{0xa5}, len(b)))
			require.NoError(t, os.WriteFile(path, b, 0o644))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			writeJournal(t, path)
			tc.damage(t, path)
			before, _ := os.ReadFile(path)
			err := openAndRead(path)
			checkDamaged(t, err, path)
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Error("the damaged file was changed")
			}
		})
	}
}

// Damage that Open does not meet is reported by the operation that does.
func TestJournalReportsADamagedPageWhenItReadsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	writeJournal(t, path)
	var page, pageSize int64
	db := rawDB(t, path)
	require.NoError(t, db.QueryRow(`SELECT MIN(pageno), COUNT(*) FROM dbstat WHERE name = 'saga_journal_records' AND pagetype = 'leaf'`).Scan(&page, new(int)))
	require.NoError(t, db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	db.Close()
	// The first leaf of the records, which Open (reading the last record)
	// does not read, is overwritten.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(bytes.Repeat([]byte{0xa5}, int(pageSize)), (page-1)*pageSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	require.NoError(t, err)

	j := openJournal(t, path)
	_, err = j.Incomplete(context.Background())
	checkDamaged(t, err, path)
	reg, _ := saga.NewRegistry()
	if _, err := saga.Recover(context.Background(), j, reg); !errors.Is(err, saga.ErrCorruptJournal) {
		t.Errorf("Recover: %v, want the damage", err)
	}
}

// checkDamaged checks that err is a *CorruptFileError naming path and
// unwrapping to the driver's error.
func checkDamaged(t *testing.T, err error, path string) {
	t.Helper()
	ce, ok := errors.AsType[*sqlitejournal.CorruptFileError](err)
	require.True(t, ok, "%v", err)
	require.ErrorIs(t, err, saga.ErrCorruptJournal, "%v", err)
	require.Equal(t, path, ce.Path, "%v", err)
	if _, ok := errors.AsType[*sqlite.Error](err); !ok {
		t.Errorf("%v does not unwrap to the driver's error", err)
	}
	assert.NotErrorIs(t, err, sqlitejournal.ErrForeign, "matches ErrForeign: the file is a journal, damaged")
}
