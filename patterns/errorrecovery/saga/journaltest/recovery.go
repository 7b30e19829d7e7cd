package journaltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// trip is a three-step saga a, b, c over j; c panics when boom is set,
// and the compensation of a fails while failA is positive (counting down).
type trip struct {
	mu    sync.Mutex
	calls []string
	boom  bool
	failA int
}

func (tr *trip) saga(t *testing.T, j saga.Journal) *saga.Saga[int] {
	t.Helper()
	var steps []saga.Step[int]
	for _, name := range []string{"a", "b", "c"} {
		steps = append(steps, saga.NewStep(name,
			func(ctx context.Context, c saga.Call[int]) (string, error) {
				tr.mu.Lock()
				defer tr.mu.Unlock()
				if name == "c" && tr.boom {
					panic("journaltest: crash in step c")
				}
				tr.calls = append(tr.calls, "do "+name)
				*c.State++
				return strings.ToUpper(name), nil
			},
			func(ctx context.Context, c saga.Call[int], out string) error {
				tr.mu.Lock()
				defer tr.mu.Unlock()
				tr.calls = append(tr.calls, fmt.Sprintf("undo %s(%s)@%d", name, out, *c.State))
				if name == "a" && tr.failA > 0 {
					tr.failA--
					return errors.New("inventory service unavailable")
				}
				return nil
			}))
	}
	s, err := saga.New("trip", saga.Config{SaveState: true, Journal: j}, steps)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (tr *trip) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	c := tr.calls
	tr.calls = nil
	return c
}

func recoverAll(t *testing.T, j saga.Journal, s *saga.Saga[int]) ([]saga.Recovery, error) {
	t.Helper()
	reg, err := saga.NewRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	return saga.Recover(context.Background(), j, reg)
}

func testRecover(t *testing.T, j saga.Journal) {
	tr := &trip{boom: true}
	s := tr.saga(t, j)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("step c did not panic")
			}
		}()
		s.Run(context.Background(), "t1", 0)
	}()
	if got, want := tr.take(), []string{"do a", "do b"}; !slices.Equal(got, want) {
		t.Fatalf("run: %q, want %q", got, want)
	}
	res, err := recoverAll(t, j, s)
	if err != nil || len(res) != 1 || res[0].ID != "t1" || res[0].State.Kind != saga.StateCompensated {
		t.Fatalf("Recover: %+v, %v; want t1 Compensated", res, err)
	}
	// c's outcome is unknown (it crashed after its start was journaled):
	// with no resolve hook it is compensated too, with the zero output.
	if got, want := tr.take(), []string{"undo c()@2", "undo b(B)@2", "undo a(A)@2"}; !slices.Equal(got, want) {
		t.Errorf("recovery: %q, want %q", got, want)
	}
	if res, err := recoverAll(t, j, s); err != nil || len(res) != 0 {
		t.Errorf("a second Recover: %+v, %v; want nothing", res, err)
	}
	if got := tr.take(); len(got) != 0 {
		t.Errorf("a second Recover called %q", got)
	}
}

func testRetryOwed(t *testing.T, j saga.Journal) {
	tr := &trip{boom: true, failA: 2}
	s := tr.saga(t, j)
	func() {
		defer func() { recover() }()
		s.Run(context.Background(), "t1", 0)
	}()
	tr.take()
	res, err := recoverAll(t, j, s)
	if !errors.Is(err, saga.ErrCompensationFailed) || len(res) != 1 || res[0].State.Kind != saga.StateCompensationFailed {
		t.Fatalf("first Recover: %+v, %v; want CompensationFailed", res, err)
	}
	// The saga is still owed: the next Recover finds it at once (its lease,
	// if any, was released) and tries a again, without undoing b or c twice.
	res, err = recoverAll(t, j, s)
	if !errors.Is(err, saga.ErrCompensationFailed) || len(res) != 1 {
		t.Fatalf("second Recover: %+v, %v; want CompensationFailed again", res, err)
	}
	res, err = recoverAll(t, j, s)
	if err != nil || len(res) != 1 || res[0].State.Kind != saga.StateCompensated {
		t.Fatalf("third Recover: %+v, %v; want Compensated", res, err)
	}
	if got, want := tr.take(), []string{"undo c()@2", "undo b(B)@2", "undo a(A)@2", "undo a(A)@2", "undo a(A)@2"}; !slices.Equal(got, want) {
		t.Errorf("compensations %q, want %q", got, want)
	}
}

func testLeasedHeld(t *testing.T, j saga.LeasedJournal) {
	ctx := context.Background()
	appendAll(t, j, begun("s1", "trip", "x"), rec("s1", saga.RecordStepStarted, "x"))
	if logs := incomplete(t, j); len(logs) != 0 {
		t.Fatalf("Incomplete handed out %q, which a run holds", ids(logs))
	}
	if err := j.Release(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if got := ids(incomplete(t, j)); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("after Release: %q, want [s1]", got)
	}
	// Claimed: held by the recovery until released again.
	if logs := incomplete(t, j); len(logs) != 0 {
		t.Fatalf("Incomplete handed out %q twice", ids(logs))
	}
	appendAll(t, j, rec("s1", saga.RecordStepFailed, "x"))
	if err := j.Release(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := j.Release(ctx, "s1"); err != nil {
		t.Errorf("releasing a saga not held: %v, want nil", err)
	}
	if err := j.Release(ctx, "ghost"); err != nil {
		t.Errorf("releasing a saga never begun: %v, want nil", err)
	}
	logs := incomplete(t, j)
	if len(logs) != 1 || len(logs[0].Records) != 3 {
		t.Errorf("after the recovery's write: %+v, want s1 with 3 records", logs)
	}
}

func testLeasedWrites(t *testing.T, j saga.LeasedJournal) {
	ctx := context.Background()
	appendAll(t, j, begun("s1", "trip", "x"))
	if err := j.Release(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(ctx, rec("s1", saga.RecordStepStarted, "x")); !errors.Is(err, saga.ErrLeaseLost) {
		t.Errorf("Append after Release: %v, want ErrLeaseLost", err)
	}
	if err := j.Complete(ctx, "s1"); !errors.Is(err, saga.ErrLeaseLost) {
		t.Errorf("Complete after Release: %v, want ErrLeaseLost", err)
	}
	if err := j.Append(ctx, rec("ghost", saga.RecordStepStarted, "x")); !errors.Is(err, saga.ErrNotFound) {
		t.Errorf("a record of a saga never begun: %v, want ErrNotFound", err)
	}
	logs := incomplete(t, j) // claims s1 again
	if len(logs) != 1 || len(logs[0].Records) != 1 {
		t.Fatalf("Incomplete: %+v, want s1 with its one record", logs)
	}
	appendAll(t, j, rec("s1", saga.RecordStepStarted, "x"))
	if err := j.Complete(ctx, "s1"); err != nil {
		t.Errorf("Complete once claimed: %v", err)
	}
}
