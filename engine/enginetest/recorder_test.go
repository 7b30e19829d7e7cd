package enginetest_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// step makes the record of a step from one state to another; a transition
// of -1 means none was taken.
func step(from, event string, transition int, to string) engine.Record {
	return engine.Record{Machine: "m", From: from, Event: event, Transition: transition, To: to}
}

func TestRecorderPathSkipsStepsThatTookNoTransition(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []engine.Record
		want    []string
	}{
		{"NoRecords", nil, nil},
		{"OneTransition", []engine.Record{step("Closed", "fail", 0, "Open")}, []string{"Closed", "Open"}},
		{"FirstStepTookNone", []engine.Record{
			step("Closed", "ping", -1, "Closed"),
			step("Closed", "fail", 0, "Open"),
		}, []string{"Closed", "Open"}},
		{"InternalAndNone", []engine.Record{
			step("Closed", "fail", 0, "Open"),
			step("Open", "fail", 2, "Open"),
			step("Open", "ping", -1, "Open"),
			step("Open", "after 1s", 1, "HalfOpen"),
		}, []string{"Closed", "Open", "Open", "HalfOpen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r enginetest.Recorder
			for _, rec := range tc.records {
				r.Observe(rec)
			}
			if got := r.Path(); !slices.Equal(got, tc.want) {
				t.Errorf("Path() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecorderKeepsItsOwnCopyOfGuards(t *testing.T) {
	var r enginetest.Recorder
	guards := []engine.GuardOutcome{{Transition: 0, Guard: "healthy", Held: true}}
	rec := step("A", "go", 0, "B")
	rec.Guards = guards
	r.Observe(rec)
	guards[0].Held = false // a driver reusing its buffer

	if !r.Records[0].Guards[0].Held {
		t.Error("the recorded guard outcome changed with the driver's buffer")
	}
}

func TestRecorderSnapshotIsACopy(t *testing.T) {
	var r enginetest.Recorder
	r.Observe(step("A", "go", 0, "B"))
	snap := r.Snapshot()
	r.Observe(step("B", "go", 0, "C"))
	if len(snap) != 1 || len(r.Records) != 2 {
		t.Errorf("len(snapshot) = %d, len(Records) = %d, want 1 and 2", len(snap), len(r.Records))
	}
}

func TestRecorderResetStartsThePathAfresh(t *testing.T) {
	var r enginetest.Recorder
	r.Observe(step("A", "go", 0, "B"))
	r.Reset()
	if r.Records != nil || r.Path() != nil {
		t.Fatalf("after Reset: Records = %v, Path() = %v", r.Records, r.Path())
	}
	r.Observe(step("B", "go", 0, "C"))
	enginetest.AssertPath(t, &r, "B", "C")
}

// Run with -race.
func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	var r enginetest.Recorder
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				r.Observe(step("A", "go", 0, "A"))
				_ = r.Path()
				_ = r.Snapshot()
			}
		})
	}
	wg.Wait()
	if got := len(r.Records); got != 200 {
		t.Errorf("len(Records) = %d, want 200", got)
	}
}

// fakeT records what AssertPath reports.
type fakeT struct {
	testing.TB
	helper bool
	errors []string
}

func (f *fakeT) Helper() { f.helper = true }

func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
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
			[]string{`step 2: got "HalfOpen", want "Closed"`, "got:  Closed -> Open -> HalfOpen", "want: Closed -> Open -> Closed"}},
		{"Shorter", []string{"Closed", "Open"},
			[]string{`step 2: got "HalfOpen", want end of path`}},
		{"Longer", []string{"Closed", "Open", "HalfOpen", "Closed"},
			[]string{`step 3: got end of path, want "Closed"`}},
		{"Empty", nil,
			[]string{`step 0: got "Closed", want end of path`, "want: (empty)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeT{}
			enginetest.AssertPath(ft, &r, tc.want...)
			if !ft.helper {
				t.Error("AssertPath did not call t.Helper")
			}
			if tc.msg == nil {
				if len(ft.errors) != 0 {
					t.Errorf("AssertPath reported %q, want nothing", ft.errors)
				}
				return
			}
			if len(ft.errors) != 1 {
				t.Fatalf("AssertPath reported %d errors, want 1: %q", len(ft.errors), ft.errors)
			}
			for _, sub := range tc.msg {
				if !strings.Contains(ft.errors[0], sub) {
					t.Errorf("message %q does not contain %q", ft.errors[0], sub)
				}
			}
		})
	}
}

// TestRecorderLimitedToOneMachine: with Machine set, a Recorder keeps the
// records of that machine only, and Path and AssertPath follow it alone.
func TestRecorderLimitedToOneMachine(t *testing.T) {
	of := func(machine string, r engine.Record) engine.Record { r.Machine = machine; return r }
	steps := []engine.Record{
		of("breaker", step("Closed", "fail", 0, "Open")),
		of("call", step("Start", "begin", 0, "Attempt")),
		of("call", step("Attempt", "retryable", 1, "Backoff")),
		of("breaker", step("Open", "after 1s", 1, "HalfOpen")),
		of("call", step("Backoff", "after 1s", 0, "Attempt")),
	}
	call := &enginetest.Recorder{Machine: "call"}
	brk := &enginetest.Recorder{Machine: "breaker"}
	var all enginetest.Recorder
	for _, r := range steps {
		for _, o := range []engine.Observer{call, brk, &all} {
			o.Observe(r)
		}
	}
	enginetest.AssertPath(t, call, "Start", "Attempt", "Backoff", "Attempt")
	enginetest.AssertPath(t, brk, "Closed", "Open", "HalfOpen")
	enginetest.AssertPath(t, &all, "Closed", "Open", "Attempt", "Backoff", "HalfOpen", "Attempt")
	if n := len(call.Snapshot()); n != 3 {
		t.Errorf("the call recorder kept %d records, want 3", n)
	}
}
