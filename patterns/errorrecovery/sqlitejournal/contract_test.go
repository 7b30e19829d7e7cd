package sqlitejournal_test

import (
	"path/filepath"
	"testing"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/journaltest"
)

// The SQLite journal keeps the contract every journal keeps; the memory
// and PostgreSQL journals run the same suite.
func TestJournalContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) er.Journal {
		return openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	})
}
