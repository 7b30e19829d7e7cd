package inspect_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: live update streams, the breaker's timers and the browser's
// connection all run goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
