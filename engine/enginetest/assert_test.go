package enginetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// fakeT is a TestingT that keeps what a helper reports, so the helpers'
// own failures can be checked.
type fakeT struct {
	helper bool
	errors []string
}

func (f *fakeT) Helper() { f.helper = true }

func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// The testing types a user passes are TestingTs.
var (
	_ enginetest.TestingT = (*testing.T)(nil)
	_ enginetest.TestingT = (*testing.B)(nil)
	_ enginetest.TestingT = testing.TB(nil)
)

// check runs one assertion on a fakeT and checks its result, that it
// marked itself a helper, and that its one error (if it should fail)
// contains each of msg.
func check(t *testing.T, assertion func(enginetest.TestingT) bool, msg ...string) {
	t.Helper()
	ft := &fakeT{}
	ok := assertion(ft)
	assert.True(t, ft.helper, "the assertion did not call Helper")
	if len(msg) == 0 {
		assert.True(t, ok, "the assertion failed")
		assert.Empty(t, ft.errors)
		return
	}
	assert.False(t, ok, "the assertion held")
	require.Len(t, ft.errors, 1)
	for _, sub := range msg {
		assert.Contains(t, ft.errors[0], sub)
	}
}

func TestAssertPath(t *testing.T) {
	var r enginetest.Recorder
	r.Observe(step("Closed", "fail", 0, "Open"))
	r.Observe(step("Open", "after 1s", 1, "HalfOpen"))

	for _, tc := range []struct {
		name string
		want []string
		msg  []string // substrings of the one error, or none for a pass
	}{
		{"Equal", []string{"Closed", "Open", "HalfOpen"}, nil},
		{"Differs", []string{"Closed", "Open", "Closed"},
			[]string{"enginetest.AssertPath: path differs from step 2 (-want +got)", `got:  ["Closed" "Open" "HalfOpen"]`, `want: ["Closed" "Open" "Closed"]`}},
		{"Shorter", []string{"Closed", "Open"}, []string{"from step 2", `"HalfOpen"`}},
		{"Longer", []string{"Closed", "Open", "HalfOpen", "Closed"}, []string{"from step 3"}},
		{"Empty", nil, []string{"from step 0", "want: []"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertPath(ft, &r, tc.want...) }, tc.msg...)
		})
	}
}

func TestAssertVisited(t *testing.T) {
	var r enginetest.Recorder
	for _, s := range []engine.Record{
		step("Closed", "fail", 0, "Open"),
		step("Open", "after 1s", 1, "HalfOpen"),
		step("HalfOpen", "fail", 2, "Open"),
		step("Open", "after 1s", 1, "HalfOpen"),
		step("HalfOpen", "ok", 3, "Closed"),
	} {
		r.Observe(s)
	}
	for _, tc := range []struct {
		name string
		want []string
		msg  []string
	}{
		{"Nothing", nil, nil},
		{"TheWholePath", r.Path(), nil},
		{"InOrderWithOthersBetween", []string{"Open", "Closed"}, nil},
		{"AStateTwice", []string{"HalfOpen", "HalfOpen"}, nil},
		{"Missing", []string{"Open", "Broken"},
			[]string{`enginetest.AssertVisited: path does not visit "Broken" after ["Open"]`, `"Broken"`, `path: ["Closed" "Open" "HalfOpen" "Open" "HalfOpen" "Closed"]`}},
		{"OutOfOrder", []string{"HalfOpen", "Closed", "Open"}, []string{`does not visit "Open" after ["HalfOpen" "Closed"]`}},
		{"TooOften", []string{"Closed", "Closed", "Closed"}, []string{`does not visit "Closed" after ["Closed" "Closed"]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertVisited(ft, &r, tc.want...) }, tc.msg...)
		})
	}
}

func TestAssertionsNameTheMachineOfALimitedRecorder(t *testing.T) {
	r := &enginetest.Recorder{Machine: "m"}
	r.Observe(step("A", "go", 0, "B"))
	check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertPath(ft, r, "A") },
		`enginetest.AssertPath: machine "m": path differs from step 1`)
	check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertVisited(ft, r, "C") },
		`enginetest.AssertVisited: machine "m": path does not visit "C"`)
}

func TestAssertState(t *testing.T) {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Open", states.Normal)
	b.On("Closed", "open", "Open")
	b.On("Open", "close", "Closed")
	door, err := engine.NewInstance(b.MustBuild(), struct{}{})
	require.NoError(t, err)
	defer door.Close()

	check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertState(ft, door, "Closed") })
	check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertState(ft, door, "Open") },
		`enginetest.AssertState: machine "door" is in state Closed, want Open (-want +got)`)

	_, err = door.Fire(context.Background(), "open")
	require.NoError(t, err)
	check(t, func(ft enginetest.TestingT) bool { return enginetest.AssertState(ft, door, "Open") })
}
