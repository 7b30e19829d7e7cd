package errorrecovery_test

import (
	"testing"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/journaltest"
)

// The in-memory journal keeps the contract every journal keeps; the
// SQLite and PostgreSQL journals run the same suite.
func TestMemoryJournalContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) er.Journal { return er.NewMemoryJournal() })
}
