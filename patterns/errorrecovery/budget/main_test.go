package budget_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: its timers run on the clock's goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")
