package saga_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test binary of this package checks that no goroutine outlives the
// tests: a step protected by a workflow may start some.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
