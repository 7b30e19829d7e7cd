package saga_test

import (
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/journaltest"
)

// The in-memory journal keeps the contract every journal keeps; the
// SQLite and PostgreSQL journals run the same suite.
func TestMemoryJournalContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) saga.Journal { return saga.NewMemoryJournal() })
}
