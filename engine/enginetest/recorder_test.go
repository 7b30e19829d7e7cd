package enginetest_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			assert.Equal(t, tc.want, r.Path(), "Path()")
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
	require.Nil(t, r.Records)
	require.Nil(t, r.Path())
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
	assert.Equal(t, 200, len(r.Records), "len(Records)")
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
	assert.Equal(t, 3, len(call.Snapshot()), "the call recorder kept records")
}
