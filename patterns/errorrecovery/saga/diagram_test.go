package saga_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// protectedSaga is an order saga whose two steps run through one retry
// workflow and whose compensations run through another.
func protectedSaga(t *testing.T, clk *enginetest.Clock, chargeFails int) *saga.Saga[int] {
	t.Helper()
	steps := mustRetry(t, retryCfg(3, er.BackoffFixed, time.Second), engine.WithClock(clk))
	undos := mustRetry(t, retryCfg(2, er.BackoffFixed, er.None), engine.WithClock(clk))
	calls := 0
	ok := func(context.Context, saga.Call[int]) (int, error) { return 1, nil }
	charge := func(context.Context, saga.Call[int]) (int, error) {
		calls++
		if calls <= chargeFails {
			return 0, errFlaky
		}
		return 1, nil
	}
	undo := func(context.Context, saga.Call[int], int) error { return nil }
	cfg := saga.DefaultConfig()
	cfg.Compensation.CompensationRetry = undos
	s, err := saga.New("order", cfg, []saga.Step[int]{
		saga.NewStep("reserve", ok, undo).ProtectedBy(steps),
		saga.NewStep("charge", charge, undo).ProtectedBy(steps),
		saga.NewStep("ship", ok, nil),
	}, engine.WithClock(clk))
	require.NoError(t, err)
	return s
}

func TestSagaDiagramDrawsTheProtectingWorkflows(t *testing.T) {
	s := protectedSaga(t, enginetest.NewClock(time.Time{}), 0)
	g, opts := s.Diagram(fsm.DiagramOptions{})
	require.Len(t, opts.Clusters, 2, "one cluster per workflow, however many steps it protects")
	assert.Equal(t, []fsm.Use{
		{From: "Step1", To: "Start", Label: "protected by"},
		{From: "Step2", To: "Start", Label: "protected by"},
	}, opts.Clusters[0].Uses)
	assert.Equal(t, []fsm.Use{
		{From: "Compensating2", To: "Start", Label: "undo through"},
		{From: "Compensating1", To: "Start", Label: "undo through"},
	}, opts.Clusters[1].Uses)
	var dot, mmd bytes.Buffer
	require.NoError(t, fsm.WriteDot(&dot, g, opts))
	require.NoError(t, fsm.WriteMermaid(&mmd, g, opts))
	checkMachine(t, "protected-saga", dot.String(), mmd.String())
}

func TestSagaTraceIncludesTheProtectedCalls(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	s := protectedSaga(t, clk, 1)
	done := make(chan []engine.Record, 1)
	go func() {
		_, recs, err := s.Trace(context.Background(), "o-1", 0)
		assert.NoError(t, err)
		done <- recs
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1), "charge backs off")
	clk.Advance(time.Second)
	recs := <-done
	var path []string
	for _, r := range recs {
		path = append(path, r.Machine+":"+r.From+">"+r.To)
	}
	want := "order:Start>Step1 retry:Start>Attempt retry:Attempt>Done order:Step1>Step2 " +
		"retry:Start>Attempt retry:Attempt>Backoff retry:Backoff>Retry retry:Retry>Attempt retry:Attempt>Done " +
		"order:Step2>Step3 order:Step3>Done"
	assert.Equal(t, want, strings.Join(path, " "))
}
