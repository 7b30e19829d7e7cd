package perkey_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: the race tests start 200.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")
