package saga_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// leasedMemory is a LeasedJournal over a MemoryJournal whose leases a
// test takes away: a saga in lost has its writes refused with
// ErrLeaseLost, as another replica's claim would make them. before, when
// set, runs before each Append and may fail it.
type leasedMemory struct {
	*saga.MemoryJournal
	mu       sync.Mutex
	lost     map[string]bool
	released []string
	before   func(rec saga.Record) error
}

func newLeasedMemory() *leasedMemory {
	return &leasedMemory{MemoryJournal: saga.NewMemoryJournal(), lost: map[string]bool{}}
}

func (j *leasedMemory) lose(id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lost[id] = true
}

func (j *leasedMemory) refused(id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lost[id] {
		return fmt.Errorf("saga %s: %w", id, saga.ErrLeaseLost)
	}
	return nil
}

func (j *leasedMemory) Append(ctx context.Context, rec saga.Record) error {
	if j.before != nil {
		if err := j.before(rec); err != nil {
			return err
		}
	}
	if err := j.refused(rec.SagaID); err != nil {
		return err
	}
	return j.MemoryJournal.Append(ctx, rec)
}

func (j *leasedMemory) Complete(ctx context.Context, id string) error {
	if err := j.refused(id); err != nil {
		return err
	}
	return j.MemoryJournal.Complete(ctx, id)
}

func (j *leasedMemory) Release(ctx context.Context, id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.released = append(j.released, id)
	return nil
}

func (j *leasedMemory) releases() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.released)
}

var _ saga.LeasedJournal = (*leasedMemory)(nil)

// failC makes step c of the trip saga fail, taking no effect.
func failC(c *tripCalls) func([]saga.Step[int]) {
	return func(steps []saga.Step[int]) {
		steps[2] = saga.NewStep("c", func(ctx context.Context, call saga.Call[int]) (string, error) {
			c.calls = append(c.calls, "do c")
			return "", errors.New("c refused")
		}, func(ctx context.Context, call saga.Call[int], out string) error {
			c.calls = append(c.calls, "undo c")
			return nil
		})
	}
}

func TestSagaStopsBeforeItsNextEffectOnceTheLeaseIsLost(t *testing.T) {
	cases := []struct {
		name  string
		lose  func(j *leasedMemory, c *tripCalls) func([]saga.Step[int]) // edits the steps to lose the lease at some point
		calls []string
		last  string // the saga's last journal record
	}{
		{"during a step: its outcome is refused, no other step runs", func(j *leasedMemory, c *tripCalls) func([]saga.Step[int]) {
			return func(steps []saga.Step[int]) {
				steps[1] = saga.NewStep("b", func(ctx context.Context, call saga.Call[int]) (string, error) {
					c.calls = append(c.calls, "do b")
					j.lose(call.ID)
					return "B", nil
				}, func(ctx context.Context, call saga.Call[int], out string) error {
					c.calls = append(c.calls, "undo b")
					return nil
				})
			}
		}, []string{"do a", "do b"}, "step-started b"},
		{"when a step fails: no compensation runs", func(j *leasedMemory, c *tripCalls) func([]saga.Step[int]) {
			return func(steps []saga.Step[int]) {
				failC(c)(steps)
				steps[2] = saga.NewStep("c", func(ctx context.Context, call saga.Call[int]) (string, error) {
					c.calls = append(c.calls, "do c")
					j.lose(call.ID)
					return "", errors.New("c refused")
				}, nil)
			}
		}, []string{"do a", "do b", "do c"}, "step-started c"},
		{"while compensating: the next compensation does not run", func(j *leasedMemory, c *tripCalls) func([]saga.Step[int]) {
			return func(steps []saga.Step[int]) {
				failC(c)(steps)
				steps[1] = saga.NewStep("b", func(ctx context.Context, call saga.Call[int]) (string, error) {
					c.calls = append(c.calls, "do b")
					return "B", nil
				}, func(ctx context.Context, call saga.Call[int], out string) error {
					c.calls = append(c.calls, "undo b")
					j.lose(call.ID)
					return nil
				})
			}
		}, []string{"do a", "do b", "do c", "undo b"}, "compensation-started b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newLeasedMemory()
			var c tripCalls
			s := tripSaga(t, j, &c, nil, tc.lose(j, &c))
			_, err := s.Run(context.Background(), "t1", 0)
			require.ErrorIs(t, err, saga.ErrLeaseLost, "Run")
			if _, ok := errors.AsType[*saga.JournalError](err); !ok {
				t.Errorf("Run: %T, want a *JournalError", err)
			}
			wantCalls(t, &c, tc.calls...)
			log, complete, _ := j.Log("t1")
			if last := log.Records[len(log.Records)-1]; complete || last.Kind.String()+" "+last.Step != tc.last {
				t.Errorf("journal ends with %v %s (complete %v), want %s: the saga is left to the lease's holder", last.Kind, last.Step, complete, tc.last)
			}
			if got := j.releases(); !slices.Equal(got, []string{"t1"}) {
				t.Errorf("released %q, want [t1]", got)
			}
		})
	}
}

func TestSagaOnALeasedJournalRunsNoCompensationWhoseWriteFailed(t *testing.T) {
	j := newLeasedMemory()
	errDown := errors.New("journal database unreachable")
	j.before = func(rec saga.Record) error {
		if rec.Kind == saga.RecordCompensationStarted {
			return errDown
		}
		return nil
	}
	var c tripCalls
	_, err := tripSaga(t, j, &c, nil, failC(&c)).Run(context.Background(), "t1", 0)
	require.ErrorIs(t, err, errDown, "Run")
	require.NotErrorIs(t, err, saga.ErrLeaseLost, "Run")
	wantCalls(t, &c, "do a", "do b", "do c")
}

func TestSagaReleasesTheLeaseOfARunThatDoesNotCompleteItsSaga(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(c *tripCalls) func([]saga.Step[int])
		undoErr  func(step string) error
		released bool
	}{
		{"done", nil, nil, false},
		{"compensated", failC, nil, false},
		{"compensation failed", failC, func(step string) error { return errReleaseStuck }, true},
		{"panic", func(c *tripCalls) func([]saga.Step[int]) {
			return func(steps []saga.Step[int]) {
				steps[2] = saga.NewStep("c", func(ctx context.Context, call saga.Call[int]) (string, error) {
					panic("crash")
				}, nil)
			}
		}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newLeasedMemory()
			var c tripCalls
			var edit func([]saga.Step[int])
			if tc.edit != nil {
				edit = tc.edit(&c)
			}
			s := tripSaga(t, j, &c, tc.undoErr, edit)
			func() {
				defer func() { recover() }()
				s.Run(context.Background(), "t1", 0)
			}()
			if got := j.releases(); (len(got) == 1) != tc.released || len(got) > 1 {
				t.Errorf("released %q; want a release: %v", got, tc.released)
			}
		})
	}
}

func TestRecoverReleasesTheSagasItClaimedAndDidNotComplete(t *testing.T) {
	j := newLeasedMemory()
	journalOf(t, j, "t1", "step-started a", "step-done a=A")
	require.NoError(t, j.Append(context.Background(), saga.Record{SagaID: "t2", Kind: saga.RecordBegun, Saga: "elsewhere"}))
	journalOf(t, j, "t3", "step-started a", "step-done a=A")
	var c tripCalls
	reg, _ := saga.NewRegistry(tripSaga(t, j, &c, func(step string) error {
		if len(c.calls) == 1 {
			return errReleaseStuck // t1's compensation fails; t3's succeeds
		}
		return nil
	}, nil))
	res, err := saga.Recover(context.Background(), j, reg)
	require.ErrorIs(t, err, saga.ErrCompensationFailed, "Recover")
	require.ErrorIs(t, err, saga.ErrUnregistered, "Recover")
	require.Len(t, res, 3, "Recover")
	if got := j.releases(); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Errorf("released %q, want [t1 t2]: the sagas not completed", got)
	}
}
