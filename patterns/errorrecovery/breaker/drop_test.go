package breaker_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

func TestPermitDropInClosedRecordsNothing(t *testing.T) {
	cfg := countConfig()
	cfg.FailureThreshold = 1
	b, _ := newBreaker(t, cfg)
	for range 20 {
		p, err := b.Allow()
		require.NoError(t, err)
		p.Drop()
	}
	m := b.Metrics()
	assert.Equal(t, breaker.StateClosed, m.State, "a dropped permit is no failure, even with a threshold of 1")
	assert.Zero(t, m.Calls, "a dropped permit is no outcome: the window is empty")
	assert.Zero(t, m.Failures)
}

func TestPermitDropReleasesAHalfOpenTrialWithoutAnOutcome(t *testing.T) {
	cfg := countConfig()
	cfg.SuccessThreshold = 2
	cfg.HalfOpenMaxCalls = 1
	b, clk := openBreaker(t, cfg)
	clk.Advance(time.Minute)
	wantState(t, b, breaker.StateHalfOpen)

	p, err := b.Allow()
	require.NoError(t, err, "the one trial")
	_, err = b.Allow()
	require.ErrorIs(t, err, breaker.ErrTooManyTrials, "the trial slot is taken")

	p.Drop()
	m := b.Metrics()
	assert.Equal(t, breaker.StateHalfOpen, m.State, "a dropped trial neither closes nor reopens the breaker")
	assert.Zero(t, m.TrialsInFlight, "the trial's slot is free again")
	assert.Zero(t, m.HalfOpenSuccesses, "a dropped trial is no success")

	for range 2 { // the slot serves the next trials, which close it
		p, err := b.Allow()
		require.NoError(t, err)
		p.Done(nil)
	}
	wantState(t, b, breaker.StateClosed)
}

func TestPermitDropOfAnEarlierGenerationLeavesTheNewTrialsAlone(t *testing.T) {
	cfg := countConfig()
	cfg.HalfOpenMaxCalls = 1
	b, clk := openBreaker(t, cfg)
	clk.Advance(time.Minute)
	old, err := b.Allow()
	require.NoError(t, err)
	b.ForceOpen()
	clk.Advance(time.Hour) // half-open again: a new generation
	wantState(t, b, breaker.StateHalfOpen)
	p, err := b.Allow()
	require.NoError(t, err)
	old.Drop() // of the earlier half-open period: must not free p's slot
	_, err = b.Allow()
	assert.ErrorIs(t, err, breaker.ErrTooManyTrials, "the new period's one trial is still in flight")
	p.Drop()
	var zero breaker.Permit
	zero.Drop() // the permit of a rejection ignores Drop
}
