package pgjournal_test

import (
	"testing"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/journaltest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/pgjournal"
)

// The PostgreSQL journal keeps the contract every journal keeps, and the
// leased journal's part of it; the memory and SQLite journals run the same
// suite.
func TestJournalContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) er.Journal {
		return openJournal(t, cluster.NewSchema(t), pgjournal.Config{})
	})
}
