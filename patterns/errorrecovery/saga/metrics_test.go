package saga_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// TestSagaMetricsCountRunsStepsAndCompensations: the seed's order saga
// runs three times: once to Done, once failing at its last step (two
// compensations), once failing there with one compensation failing too.
// The original's "compensations" key counts the runs that compensated.
func TestSagaMetricsCountRunsStepsAndCompensations(t *testing.T) {
	ctx := context.Background()
	l := newLedger()
	ok := mustSaga(t, "order", saga.DefaultConfig(), orderSteps(l, "", nil))
	if _, err := ok.Run(ctx, "o1", order{}); err != nil {
		t.Fatal(err)
	}
	want := saga.Metrics{Runs: 1, Succeeded: 1, StepsRun: 3}
	assert.Equal(t, want, ok.Metrics(), "after a run to Done, Metrics()")

	s := mustSaga(t, "order", saga.DefaultConfig(), orderSteps(l, "create shipment", map[string]error{"reserve inventory": errReleaseStuck}))
	if _, err := s.Run(ctx, "o2", order{}); !errors.Is(err, saga.ErrCompensationFailed) {
		t.Fatalf("run o2: %v, want a failed compensation", err)
	}
	if _, err := s.Run(ctx, "", order{}); err == nil {
		t.Fatal("a run with no id was accepted")
	}
	want = saga.Metrics{Runs: 1, Failed: 1, RolledBack: 1, StepsRun: 3, StepsFailed: 1, CompensationsRun: 2, CompensationsFailed: 1}
	assert.Equal(t, want, s.Metrics(), "after a run that compensated, Metrics()")
	mp := s.Metrics().Map()
	if mp["attempts"] != int64(1) || mp["successes"] != int64(0) || mp["failures"] != int64(1) || mp["compensations"] != int64(1) ||
		mp["compensations_run"] != int64(2) || mp["compensations_failed"] != int64(1) {
		t.Errorf("Map() = %v", mp)
	}
	if _, ok := mp["fallbacks"]; ok {
		t.Errorf("Map() = %v has a fallbacks key, and a saga has no fallback", mp)
	}
}

// TestSagaMetricsCountRecoveries: Recover counts each saga it tried to
// finish on the saga of its name, its compensations and roll-backs with
// those of runs.
func TestSagaMetricsCountRecoveries(t *testing.T) {
	j := saga.NewMemoryJournal()
	journalOf(t, j, "t1", "step-started a", "step-done a=A", "step-started b", "step-done b=B")
	journalOf(t, j, "t2", "step-started a", "step-done a=A")
	var c tripCalls
	s := tripSaga(t, j, &c, func(step string) error {
		if step == "a" && len(c.calls) > 2 {
			return errReleaseStuck // t2's undo of a fails
		}
		return nil
	}, nil)
	reg, err := saga.NewRegistry(s)
	require.NoError(t, err)
	if _, err := saga.Recover(context.Background(), j, reg); !errors.Is(err, saga.ErrCompensationFailed) {
		t.Fatalf("Recover: %v, want t2 left owing", err)
	}
	want := saga.Metrics{RolledBack: 2, CompensationsRun: 3, CompensationsFailed: 1, Recoveries: 2, RecoveriesFailed: 1}
	assert.Equal(t, want, s.Metrics(), "Metrics()")
}
