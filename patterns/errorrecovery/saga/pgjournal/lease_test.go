package pgjournal_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga/pgjournal"
)

// effects records, in order, the side effects the replicas' sagas made:
// "a: do s2", "b: undo s1".
type effects struct {
	mu  sync.Mutex
	log []string
}

func (e *effects) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *effects) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log)
}

// stall blocks a replica at one point until the test resumes it: stalled
// is closed when it gets there.
type stall struct {
	stalled, resume chan struct{}
}

func newStall() *stall { return &stall{stalled: make(chan struct{}), resume: make(chan struct{})} }

func (s *stall) here() {
	close(s.stalled)
	<-s.resume
}

// stallingJournal stalls its replica before the Append that at picks.
type stallingJournal struct {
	*pgjournal.Journal
	at    func(rec saga.Record) bool
	stall *stall
}

func (j *stallingJournal) Append(ctx context.Context, rec saga.Record) error {
	if j.at != nil && j.at(rec) {
		j.stall.here()
	}
	return j.Journal.Append(ctx, rec)
}

// leaseSaga is the saga the lease tests run: steps s1, s2, s3 whose
// actions and compensations record their effects as replica who. The step
// named failAt fails, taking no effect; the step named stallIn stalls
// after taking its effect.
func leaseSaga(t *testing.T, j saga.Journal, clock *enginetest.Clock, who string, fx *effects, failAt, stallIn string, st *stall) *saga.Saga[string] {
	t.Helper()
	var steps []saga.Step[string]
	for _, name := range []string{"s1", "s2", "s3"} {
		steps = append(steps, saga.NewStep(name,
			func(ctx context.Context, c saga.Call[string]) (string, error) {
				if name == failAt {
					return "", errors.New(name + " refused")
				}
				fx.add(who + ": do " + name)
				if name == stallIn {
					st.here()
				}
				return "out-" + name, nil
			},
			func(ctx context.Context, c saga.Call[string], out string) error {
				fx.add(who + ": undo " + name + "(" + out + ")")
				return nil
			}))
	}
	s, err := saga.New("order", saga.Config{SaveState: true, Journal: j}, steps, engine.WithClock(clock))
	require.NoError(t, err)
	return s
}

func recoverOn(t *testing.T, j saga.Journal, s *saga.Saga[string]) []saga.Recovery {
	t.Helper()
	reg, err := saga.NewRegistry(s)
	require.NoError(t, err)
	res, err := saga.Recover(context.Background(), j, reg)
	require.NoError(t, err, "Recover")
	return res
}

// A stalled replica (its process paused: its clock, its renewals and its
// saga all stand still) loses its lease to a replica whose clock goes on;
// that replica rolls the saga back, and the stalled one, once it wakes up,
// is refused its next journal write and makes no further effect.
func TestStalledOwnerLosesItsLeaseAndDoesNotActAfterLosingIt(t *testing.T) {
	cases := []struct {
		name    string
		failAt  string                 // the step that fails, if any
		stallIn string                 // the step whose action stalls after its effect
		at      func(saga.Record) bool // or the Append to stall before
		want    []string               // every effect, in order
	}{
		{name: "in a step, after its effect", stallIn: "s2",
			want: []string{"a: do s1", "a: do s2", "b: undo s2()", "b: undo s1(out-s1)"}},
		{name: "before journaling the next step", at: func(r saga.Record) bool { return r.Kind == saga.RecordStepStarted && r.Step == "s3" },
			want: []string{"a: do s1", "a: do s2", "b: undo s2(out-s2)", "b: undo s1(out-s1)"}},
		{name: "while compensating, between two compensations", failAt: "s3",
			at:   func(r saga.Record) bool { return r.Kind == saga.RecordCompensationStarted && r.Step == "s1" },
			want: []string{"a: do s1", "a: do s2", "a: undo s2(out-s2)", "b: undo s1(out-s1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := cluster.NewSchema(t)
			clockA, clockB := enginetest.NewClock(t0), enginetest.NewClock(t0)
			jA := openJournal(t, conn, pgjournal.Config{Owner: "a", LeaseDuration: 10 * time.Second, RenewEvery: 3 * time.Second, Clock: clockA})
			jB := openJournal(t, conn, pgjournal.Config{Owner: "b", LeaseDuration: 10 * time.Second, RenewEvery: 3 * time.Second, Clock: clockB})
			fx := &effects{}
			st := newStall()
			sagaA := leaseSaga(t, &stallingJournal{Journal: jA, at: tc.at, stall: st}, clockA, "a", fx, tc.failAt, tc.stallIn, st)
			sagaB := leaseSaga(t, jB, clockB, "b", fx, "", "", nil)

			var runErr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, runErr = sagaA.Run(context.Background(), "o1", "ada")
			}()
			<-st.stalled

			// A's process is paused: its clock stands still, the world's
			// goes on. Until A's lease (taken at t0 for 10 s) expires, B
			// claims nothing.
			clockB.Advance(9 * time.Second)
			require.Empty(t, recoverOn(t, jB, sagaB), "B recovered while A's lease held")
			clockB.Advance(2 * time.Second)
			res := recoverOn(t, jB, sagaB)
			require.Len(t, res, 1, "B recovered %+v", res)
			require.Equal(t, "o1", res[0].ID, "B recovered %+v", res)
			require.Equal(t, saga.StateCompensated, res[0].State.Kind, "B recovered %+v", res)

			// A wakes up: its clock catches up (its renewal runs, and finds
			// the lease gone), then its saga goes on, and stops.
			clockA.Advance(11 * time.Second)
			close(st.resume)
			<-done
			require.ErrorIs(t, runErr, saga.ErrLeaseLost, "A's run returned")
			if le, ok := errors.AsType[*pgjournal.LeaseError](runErr); !ok || le.Owner != jA.Owner() || le.Holder != "" {
				t.Errorf("A's run returned %#v, want a *LeaseError of %s on a saga completed by B", le, jA.Owner())
			}
			if got := fx.all(); !slices.Equal(got, tc.want) {
				t.Errorf("effects:\n got %q\nwant %q", got, tc.want)
			}
			assert.Empty(t, jA.Held(), "A still holds after its run stopped")
			assert.Equal(t, 0, queryInt(t, rawPool(t, conn), `SELECT COUNT(*) FROM saga_journal_sagas WHERE completed = 0`), "sagas left incomplete")
		})
	}
}

// A replica whose step takes longer than the lease keeps the lease, since
// its renewals go on: no other replica claims the saga meanwhile, and the
// run finishes.
func TestRenewalsKeepTheLeaseOfASlowStep(t *testing.T) {
	conn := cluster.NewSchema(t)
	clock := enginetest.NewClock(t0)
	cfg := pgjournal.Config{LeaseDuration: 10 * time.Second, RenewEvery: 3 * time.Second, Clock: clock}
	cfg.Owner = "a"
	jA := openJournal(t, conn, cfg)
	cfg.Owner = "b"
	jB := openJournal(t, conn, cfg)
	fx := &effects{}
	st := newStall()
	sagaA := leaseSaga(t, jA, clock, "a", fx, "", "s2", st)
	sagaB := leaseSaga(t, jB, clock, "b", fx, "", "", nil)
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, runErr = sagaA.Run(context.Background(), "o1", "ada")
	}()
	<-st.stalled
	db := rawPool(t, conn)
	for range 8 { // 32 s: more than three leases
		clock.Advance(4 * time.Second)
		if res := recoverOn(t, jB, sagaB); len(res) != 0 {
			t.Fatalf("at %v B recovered %+v from a live replica", clock.Now().Sub(t0), res)
		}
		var expires time.Time
		require.NoError(t, db.QueryRow(context.Background(), `SELECT lease_expires FROM saga_journal_sagas WHERE saga_id = 'o1'`).Scan(&expires))
		if !expires.After(clock.Now()) {
			t.Fatalf("at %v the lease expires at %v", clock.Now().Sub(t0), expires.Sub(t0))
		}
	}
	close(st.resume)
	<-done
	require.NoError(t, runErr, "A's run")
	assert.Equal(t, []string{"a: do s1", "a: do s2", "a: do s3"}, fx.all(), "effects")
	assert.Empty(t, jA.Held(), "A still holds after its run completed")
}

// A replica that dies (here: its journal closed, so its renewals stop)
// leaves its saga to whichever replica recovers once the lease expires;
// if it was only cut off and carries on, it cannot journal, so it runs no
// compensation.
func TestADeadReplicasSagaIsRecoveredOnceItsLeaseExpires(t *testing.T) {
	conn := cluster.NewSchema(t)
	clock := enginetest.NewClock(t0)
	cfg := pgjournal.Config{LeaseDuration: 10 * time.Second, RenewEvery: 3 * time.Second, Clock: clock}
	jA := openJournal(t, conn, cfg)
	jB := openJournal(t, conn, cfg)
	fx := &effects{}
	st := newStall()
	sagaA := leaseSaga(t, jA, clock, "a", fx, "", "s2", st)
	sagaB := leaseSaga(t, jB, clock, "b", fx, "", "", nil)
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, runErr = sagaA.Run(context.Background(), "o1", "ada")
	}()
	<-st.stalled
	jA.Close()
	clock.Advance(9 * time.Second)
	require.Empty(t, recoverOn(t, jB, sagaB), "B recovered before the lease expired")
	clock.Advance(2 * time.Second)
	if res := recoverOn(t, jB, sagaB); len(res) != 1 || res[0].State.Kind != saga.StateCompensated {
		t.Fatalf("B recovered %+v, want o1 Compensated", res)
	}
	close(st.resume)
	<-done
	require.Error(t, runErr, "A's run succeeded without its journal")
	assert.Equal(t, []string{"a: do s1", "a: do s2", "b: undo s2()", "b: undo s1(out-s1)"}, fx.all(), "effects")
}
