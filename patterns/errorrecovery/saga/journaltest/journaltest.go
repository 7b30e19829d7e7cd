// Package journaltest checks an saga.Journal against the contract
// its interface documents, as testing/slogtest does for a slog.Handler:
// one function, Run, that the tests of every implementation call. The
// in-memory journal, the SQLite journal and the PostgreSQL journal all
// pass it.
//
// The suite covers what any journal must do (records come back in the
// order appended with the seqs the journal set, sagas in the order they
// began, completed sagas are left out, duplicate and unknown ids are
// refused, a cancelled context writes nothing, concurrent writers keep
// each saga's order, a crashed saga is recovered once) and, when the
// journal is an saga.LeasedJournal, what leasing adds: a saga a
// run holds is not handed out by Incomplete, a saga claimed is not handed
// out twice, and writes after a Release are refused with
// saga.ErrLeaseLost.
//
// A leased journal's Incomplete leaves out the sagas that runs hold, so
// wherever a test wants to see what a crashed run left, the suite first
// ends that run as a Saga does, by releasing its lease.
package journaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// Run runs the contract's tests as subtests of t. newJournal is called once
// per subtest and must return an empty journal, closed (if it needs
// closing) by a cleanup it registers on the t it is given.
func Run(t *testing.T, newJournal func(t *testing.T) saga.Journal) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, j saga.Journal)
	}{
		{"EmptyJournalHasNothingIncomplete", testEmpty},
		{"RecordsComeBackAsAppendedWithSeqsSetByTheJournal", testRecordsRoundTrip},
		{"SagasComeBackInTheOrderTheyBegan", testSagaOrder},
		{"CompleteLeavesTheSagaOut", testComplete},
		{"RefusesASecondBeginAndUnknownSagas", testRefusals},
		{"CancelledContextWritesNothing", testCancelled},
		{"ConcurrentWritersKeepEachSagasOrder", testConcurrent},
		{"ReturnedLogsAreCopies", testCopies},
		{"RecoverRollsBackACrashedSagaOnce", testRecover},
		{"CompensationFailedIsRetriedByTheNextRecover", testRetryOwed},
		{"LeasedIncompleteLeavesOutSagasThatRunsHold", leasedOnly(testLeasedHeld)},
		{"LeasedWritesNeedTheLease", leasedOnly(testLeasedWrites)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := newJournal(t)
			if j == nil {
				t.Fatal("journaltest: newJournal returned nil")
			}
			tc.fn(t, j)
		})
	}
}

func leasedOnly(fn func(t *testing.T, j saga.LeasedJournal)) func(t *testing.T, j saga.Journal) {
	return func(t *testing.T, j saga.Journal) {
		lj, ok := j.(saga.LeasedJournal)
		if !ok {
			t.Skipf("%T does not lease its sagas", j)
		}
		fn(t, lj)
	}
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*60*60))

// begun is a saga's first record, as Saga.Run writes it.
func begun(id, name string, steps ...string) saga.Record {
	return saga.Record{SagaID: id, Kind: saga.RecordBegun, Saga: name, Steps: steps, State: json.RawMessage(`{"n":1}`), Time: t0}
}

// rec is a record of kind for a step of saga id.
func rec(id string, kind saga.RecordKind, step string) saga.Record {
	return saga.Record{SagaID: id, Kind: kind, Step: step, Time: t0}
}

func appendAll(t *testing.T, j saga.Journal, recs ...saga.Record) {
	t.Helper()
	for _, r := range recs {
		if err := j.Append(context.Background(), r); err != nil {
			t.Fatalf("Append(%v of %q): %v", r.Kind, r.SagaID, err)
		}
	}
}

// runsEnded ends the runs that wrote sagas ids, as a Saga does when a run
// stops without completing its saga: a leased journal releases them, so
// that Incomplete may hand them out. Other journals need nothing.
func runsEnded(t *testing.T, j saga.Journal, ids ...string) {
	t.Helper()
	if lj, ok := j.(saga.LeasedJournal); ok {
		for _, id := range ids {
			if err := lj.Release(context.Background(), id); err != nil {
				t.Fatalf("Release(%q): %v", id, err)
			}
		}
	}
}

func incomplete(t *testing.T, j saga.Journal) []saga.Log {
	t.Helper()
	logs, err := j.Incomplete(context.Background())
	if err != nil {
		t.Fatalf("Incomplete: %v", err)
	}
	return logs
}

func ids(logs []saga.Log) []string {
	var out []string
	for _, l := range logs {
		out = append(out, l.ID)
	}
	return out
}

// jsonOf is a record's JSON form, which every journal keeps exactly.
func jsonOf(t *testing.T, r saga.Record) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testEmpty(t *testing.T, j saga.Journal) {
	if logs := incomplete(t, j); len(logs) != 0 {
		t.Errorf("Incomplete on an empty journal: %+v", logs)
	}
}

func testRecordsRoundTrip(t *testing.T, j saga.Journal) {
	want := []saga.Record{
		begun("s1", "order", "reserve", "charge"),
		{SagaID: "s1", Kind: saga.RecordStepStarted, Step: "reserve", Key: "k-reserve", Time: t0.Add(time.Second)},
		{SagaID: "s1", Kind: saga.RecordStepDone, Step: "reserve", Output: json.RawMessage(`{"id":"res-1"}`), State: json.RawMessage(`{"n":2}`), Time: t0.Add(2 * time.Second)},
		{SagaID: "s1", Kind: saga.RecordStepStarted, Step: "charge", Key: "k-charge", Time: t0.Add(3 * time.Second)},
		{SagaID: "s1", Kind: saga.RecordStepFailed, Step: "charge", Err: "card declined: \"insufficient\" funds ✗", Time: t0.Add(4 * time.Second)},
		{SagaID: "s1", Kind: saga.RecordCompensationStarted, Step: "reserve", Key: "k-release", Time: t0.Add(5 * time.Second)},
		{SagaID: "s1", Kind: saga.RecordCompensationFailed, Step: "reserve", Err: "timeout", Time: t0.Add(6 * time.Second)},
		{SagaID: "s1", Kind: saga.RecordCompensationStarted, Step: "reserve", Key: "k-release", Time: t0.Add(7 * time.Second)},
		{SagaID: "s1", Kind: saga.RecordCompensationDone, Step: "reserve", Time: t0.Add(8 * time.Second)},
	}
	for i := range want {
		r := want[i]
		r.Seq = 99 // the journal sets it
		appendAll(t, j, r)
		want[i].Seq = i + 1
	}
	runsEnded(t, j, "s1")
	logs := incomplete(t, j)
	if len(logs) != 1 || logs[0].ID != "s1" || logs[0].Saga != "order" {
		t.Fatalf("Incomplete: ids %q, want [s1] of saga order", ids(logs))
	}
	if len(logs[0].Records) != len(want) {
		t.Fatalf("%d records, want %d", len(logs[0].Records), len(want))
	}
	for i, got := range logs[0].Records {
		if g, w := jsonOf(t, got), jsonOf(t, want[i]); g != w {
			t.Errorf("record %d:\n got %s\nwant %s", i+1, g, w)
		}
		if !got.Time.Equal(want[i].Time) {
			t.Errorf("record %d: time %v, want %v", i+1, got.Time, want[i].Time)
		}
	}
}

func testSagaOrder(t *testing.T, j saga.Journal) {
	// Begun in the order c, a, b; their records interleaved.
	appendAll(t, j, begun("c", "trip", "x", "y"), begun("a", "trip", "x", "y"))
	appendAll(t, j, rec("c", saga.RecordStepStarted, "x"), rec("a", saga.RecordStepStarted, "x"))
	appendAll(t, j, begun("b", "order", "x"), rec("a", saga.RecordStepDone, "x"), rec("c", saga.RecordStepFailed, "x"))
	appendAll(t, j, rec("b", saga.RecordStepStarted, "x"), rec("a", saga.RecordStepStarted, "y"))
	runsEnded(t, j, "a", "b", "c")
	logs := incomplete(t, j)
	if got := ids(logs); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("sagas %q, want [c a b], the order they began", got)
	}
	want := map[string][]string{
		"c": {"saga-begun", "step-started x", "step-failed x"},
		"a": {"saga-begun", "step-started x", "step-done x", "step-started y"},
		"b": {"saga-begun", "step-started x"},
	}
	for _, l := range logs {
		var got []string
		for k, r := range l.Records {
			if r.SagaID != l.ID || r.Seq != k+1 {
				t.Errorf("saga %s record %d: saga %q seq %d", l.ID, k+1, r.SagaID, r.Seq)
			}
			got = append(got, strings.TrimSpace(r.Kind.String()+" "+r.Step))
		}
		if !slices.Equal(got, want[l.ID]) {
			t.Errorf("saga %s: records %q, want %q", l.ID, got, want[l.ID])
		}
	}
	if logs[2].Saga != "order" || logs[0].Saga != "trip" {
		t.Errorf("saga names %q, %q", logs[0].Saga, logs[2].Saga)
	}
}

func testComplete(t *testing.T, j saga.Journal) {
	ctx := context.Background()
	appendAll(t, j, begun("s1", "trip", "x"), begun("s2", "trip", "x"), begun("s3", "trip", "x"))
	appendAll(t, j, rec("s2", saga.RecordStepStarted, "x"), rec("s2", saga.RecordStepDone, "x"))
	if err := j.Complete(ctx, "s2"); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	runsEnded(t, j, "s1", "s3")
	if got := ids(incomplete(t, j)); !slices.Equal(got, []string{"s1", "s3"}) {
		t.Errorf("after completing s2: %q, want [s1 s3]", got)
	}
	if err := j.Complete(ctx, "s2"); err != nil {
		t.Errorf("completing s2 again: %v, want nil", err)
	}
}

func testRefusals(t *testing.T, j saga.Journal) {
	ctx := context.Background()
	if err := j.Append(ctx, rec("ghost", saga.RecordStepStarted, "x")); !errors.Is(err, saga.ErrNotFound) {
		t.Errorf("a record of a saga never begun: %v, want ErrNotFound", err)
	}
	if err := j.Complete(ctx, "ghost"); !errors.Is(err, saga.ErrNotFound) {
		t.Errorf("completing a saga never begun: %v, want ErrNotFound", err)
	}
	appendAll(t, j, begun("s1", "trip", "x"))
	if err := j.Append(ctx, begun("s1", "other", "y")); !errors.Is(err, saga.ErrExists) {
		t.Errorf("beginning s1 twice: %v, want ErrExists", err)
	}
	runsEnded(t, j, "s1")
	logs := incomplete(t, j)
	if len(logs) != 1 || logs[0].Saga != "trip" || len(logs[0].Records) != 1 {
		t.Errorf("after the refusals: %+v, want s1 of saga trip with its one record", logs)
	}
}

func testCancelled(t *testing.T, j saga.Journal) {
	appendAll(t, j, begun("s1", "trip", "x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := j.Append(ctx, begun("s2", "trip", "x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context: %v, want context.Canceled", err)
	}
	if err := j.Append(ctx, rec("s1", saga.RecordStepStarted, "x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context: %v, want context.Canceled", err)
	}
	if err := j.Complete(ctx, "s1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Complete with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := j.Incomplete(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Incomplete with a cancelled context: %v, want context.Canceled", err)
	}
	runsEnded(t, j, "s1")
	logs := incomplete(t, j)
	if len(logs) != 1 || logs[0].ID != "s1" || len(logs[0].Records) != 1 {
		t.Errorf("after the cancelled writes: %+v, want s1 with its one record", logs)
	}
}

func testConcurrent(t *testing.T, j saga.Journal) {
	const sagas, steps = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, sagas)
	for g := range sagas {
		wg.Go(func() {
			id := fmt.Sprintf("s%d", g)
			ctx := context.Background()
			if err := j.Append(ctx, begun(id, "trip", "x")); err != nil {
				errs <- err
				return
			}
			for k := range steps {
				if err := j.Append(ctx, rec(id, saga.RecordStepStarted, fmt.Sprint(k))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	var all []string
	for g := range sagas {
		all = append(all, fmt.Sprintf("s%d", g))
	}
	runsEnded(t, j, all...)
	logs := incomplete(t, j)
	if got := slices.Sorted(slices.Values(ids(logs))); !slices.Equal(got, all) {
		t.Fatalf("sagas %q, want %q", got, all)
	}
	for _, l := range logs {
		if len(l.Records) != steps+1 {
			t.Errorf("saga %s: %d records, want %d", l.ID, len(l.Records), steps+1)
			continue
		}
		for k, r := range l.Records[1:] {
			if r.Seq != k+2 || r.Step != fmt.Sprint(k) {
				t.Errorf("saga %s record %d: seq %d step %q", l.ID, k+2, r.Seq, r.Step)
			}
		}
	}
}

func testCopies(t *testing.T, j saga.Journal) {
	appendAll(t, j, begun("s1", "trip", "x"),
		saga.Record{SagaID: "s1", Kind: saga.RecordStepStarted, Step: "x", Key: "k"},
		saga.Record{SagaID: "s1", Kind: saga.RecordStepDone, Step: "x", Output: json.RawMessage(`"out"`)})
	runsEnded(t, j, "s1")
	logs := incomplete(t, j)
	logs[0].Records[0].Steps[0] = "changed"
	logs[0].Records[0].State[1] = 'X'
	logs[0].Records[2].Output[1] = 'X'
	logs[0].Records = logs[0].Records[:1]
	runsEnded(t, j, "s1")
	again := incomplete(t, j)
	if len(again) != 1 || len(again[0].Records) != 3 || again[0].Records[0].Steps[0] != "x" ||
		string(again[0].Records[0].State) != `{"n":1}` || string(again[0].Records[2].Output) != `"out"` {
		t.Errorf("changing a returned log changed the journal: %+v", again)
	}
}
