package httptransport_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: servers, client connections and breaker timers all start some.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
