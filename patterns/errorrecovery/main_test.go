package errorrecovery_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: breakers, bulkhead pools and walk-away attempts all start some.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
