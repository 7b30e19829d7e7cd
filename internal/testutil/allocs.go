// Package testutil holds helpers shared by statecraft's tests.
package testutil

import (
	"testing"
)

// WantAllocs fails t unless fn allocates exactly want times per run, as
// measured by testing.AllocsPerRun. Allocation counts are requirements of
// the project, so this is a hard check; under the race detector, whose
// instrumentation allocates, it only logs.
func WantAllocs(t *testing.T, want float64, what string, fn func()) {
	t.Helper()
	fn() // warm pools and lazily grown buffers
	got := testing.AllocsPerRun(100, fn)
	if raceEnabled {
		t.Logf("%s: %v allocs per run (not checked under -race)", what, got)
		return
	}
	if got != want {
		t.Errorf("%s: %v allocs per run, want %v", what, got, want)
	}
}
