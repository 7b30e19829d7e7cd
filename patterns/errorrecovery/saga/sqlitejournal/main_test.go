package sqlitejournal_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every journal and database a test opens is closed: database/sql keeps a
// goroutine per open database.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
