package sqlitejournal_test

import (
	"path/filepath"
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/journaltest"
)

// The SQLite journal keeps the contract every journal keeps; the memory
// and PostgreSQL journals run the same suite.
func TestJournalContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) saga.Journal {
		return openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	})
}
