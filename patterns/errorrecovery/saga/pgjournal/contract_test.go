package pgjournal_test

import (
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/journaltest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/pgjournal"
)

// The PostgreSQL journal keeps the contract every journal keeps, and the
// leased journal's part of it; the memory and SQLite journals run the same
// suite.
func TestJournalContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) saga.Journal {
		return openJournal(t, cluster.NewSchema(t), pgjournal.Config{})
	})
}
