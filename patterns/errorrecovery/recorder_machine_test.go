package errorrecovery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// TestRecorderLimitedToOneMachineOfAWorkflow: a workflow's observer sees
// its breaker's steps between those of the per-call machine, so one
// Recorder's Path mixes two machines; a Recorder limited by Machine keeps
// the path of one.
func TestRecorderLimitedToOneMachineOfAWorkflow(t *testing.T) {
	all := &enginetest.Recorder{}
	calls := &enginetest.Recorder{Machine: "orders"}
	circuit := &enginetest.Recorder{Machine: "circuit breaker"}
	retry := er.RetryConfig[string]{MaxAttempts: 2, InitialDelay: er.None}
	bc := breaker.DefaultConfig()
	bc.FailureThreshold = 2
	fb := er.FallbackValue("cached")
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Name: "orders", Retry: &retry, Breaker: &bc, Fallback: &fb},
		engine.WithObserver(all), engine.WithObserver(calls), engine.WithObserver(circuit))
	defer w.Breaker().Close()
	v, err := w.Execute(context.Background(), func(context.Context) (string, error) { return "", errFlaky })
	require.Equal(t, "cached", v, "Execute: want the fallback")
	require.NoError(t, err, "Execute")

	// Unfiltered, the path starts at the breaker's first state and lists
	// both machines' states in the order their steps ran.
	if p := all.Path(); assert.NotEmpty(t, p, "the unfiltered path") {
		assert.Equal(t, "Closed", p[0], "the unfiltered path %v does not start with the breaker's Closed", p)
	}
	enginetest.AssertPath(t, calls, "Start", "CheckCircuit", "Attempt", "Backoff", "Retry", "CheckCircuit", "Attempt", "Fallback", "Recovered")
	enginetest.AssertPath(t, circuit, "Closed", "Closed", "Open")
	for _, r := range calls.Snapshot() {
		assert.Equal(t, "orders", r.Machine, "the per-call recorder kept a record of another machine")
	}
	assert.Len(t, all.Records, len(calls.Records)+len(circuit.Records), "records in all, %d + %d by machine: a record was lost or kept twice",
		len(calls.Records), len(circuit.Records))
}
