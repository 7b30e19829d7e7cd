package enginetest

import (
	"fmt"
	"slices"

	"github.com/google/go-cmp/cmp"

	"github.com/statecraft/statecraft/engine"
)

// TestingT is the part of *testing.T the assertion helpers use: *testing.T,
// *testing.B, *testing.F and testing.TB satisfy it, and so does any value a
// test writes to check what a helper reports. It is testify's
// assert.TestingT with Helper added, so a failure is reported at the line
// of the test that called the helper.
type TestingT interface {
	Helper()
	Errorf(format string, args ...any)
}

// AssertPath reports whether r's Path is exactly want. When it is not, it
// reports an error through t.Errorf, in the manner of testify's assert
// functions: the test goes on, and the message gives the machine (when r
// is limited to one), the first step that differs (counting the first
// state as step 0), the cmp.Diff of the paths (-want +got), and both paths
// in full.
func AssertPath(t TestingT, r *Recorder, want ...string) bool {
	t.Helper()
	got := r.Path()
	if slices.Equal(got, want) {
		return true
	}
	step := 0
	for step < len(got) && step < len(want) && got[step] == want[step] {
		step++
	}
	t.Errorf("%s: path differs from step %d (-want +got):\n%s\n\tgot:  %q\n\twant: %q",
		r.subject("AssertPath"), step, cmp.Diff(want, got), got, want)
	return false
}

// AssertVisited reports whether r's Path went through every state in
// want, in that order: other states may come before, between and after
// them, and a state may be visited more than once (AssertVisited(t, r,
// "Open", "Closed") holds for Closed, Open, HalfOpen, Open, Closed). Use it
// where the exact path depends on what the test does not pin, such as the
// number of retries; AssertPath checks every step. When the path does not
// visit them, it reports an error through t.Errorf with the cmp.Diff
// (-want +got) of want and the states of want that the path visited in
// order, so the first state missing is marked "-", and returns false.
func AssertVisited(t TestingT, r *Recorder, want ...string) bool {
	t.Helper()
	got := r.Path()
	seen := make([]string, 0, len(want))
	for _, s := range got {
		if len(seen) < len(want) && s == want[len(seen)] {
			seen = append(seen, s)
		}
	}
	if len(seen) == len(want) {
		return true
	}
	t.Errorf("%s: path does not visit %q after %q (-want +visited in order):\n%s\n\tpath: %q",
		r.subject("AssertVisited"), want[len(seen)], seen, cmp.Diff(want, seen), got)
	return false
}

// AssertState reports whether inst is in state want. When it is not, it
// reports an error through t.Errorf with the machine's name, both states and
// their cmp.Diff (-want +got), and returns false. It reads the state once,
// as Instance.State does; a test that fires from other goroutines checks
// after they are done.
func AssertState[S, E comparable, D any](t TestingT, inst *engine.Instance[S, E, D], want S) bool {
	t.Helper()
	got := inst.State()
	if got == want {
		return true
	}
	t.Errorf("enginetest.AssertState: machine %q is in state %v, want %v (-want +got):\n%s",
		inst.Definition().Name(), got, want, cmp.Diff(want, got))
	return false
}

// subject names the helper and, when r follows one machine, that machine.
func (r *Recorder) subject(helper string) string {
	if r.Machine == "" {
		return "enginetest." + helper
	}
	return fmt.Sprintf("enginetest.%s: machine %q", helper, r.Machine)
}
