package breaker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: a breaker's open timer runs on the clock's goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
