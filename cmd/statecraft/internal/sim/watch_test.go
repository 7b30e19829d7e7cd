package sim

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// TestWatchingARunLeavesItAsItWas runs the layered workflow with every
// hook of "demo --serve" set and checks that the run is the one it is
// without them, while the hooks saw each execution, each step of the
// shared machines and the clock's progress.
func TestWatchingARunLeavesItAsItWas(t *testing.T) {
	cfg := readConfig(t, "layered.yaml")
	plain := mustRun(t, cfg, layeredOptions(7))

	opts := layeredOptions(7)
	steps := map[string]int{}
	opts.Observe = func(machine string) engine.Option {
		return engine.WithObserver(engine.ObserverFunc(func(engine.Record) { steps[machine]++ }))
	}
	ready := 0
	opts.Ready = func(wf *errorrecovery.Workflow[any]) {
		ready++
		assert.NotNil(t, wf.Breaker())
	}
	traced, failed := 0, 0
	opts.Traced = func(recs []engine.Record, err error) {
		traced++
		assert.NotEmpty(t, recs)
		if err != nil {
			failed++
		}
	}
	var last time.Duration
	paced := 0
	opts.Pace = func(elapsed time.Duration) error {
		assert.GreaterOrEqual(t, elapsed, last, "the clock only moves forward")
		last = elapsed
		paced++
		return nil
	}
	watched := mustRun(t, cfg, opts)

	if diff := cmp.Diff(comparable(plain), comparable(watched), cmp.AllowUnexported(Result{}, BreakerStats{}, BulkheadStats{})); diff != "" {
		t.Errorf("the watched run differs (-plain +watched):\n%s", diff)
	}
	assert.Equal(t, 1, ready)
	assert.Equal(t, opts.Executions, traced)
	assert.Equal(t, watched.Failed, failed)
	assert.Positive(t, steps["breaker"])
	assert.Positive(t, steps["bulkhead"])
	assert.Greater(t, paced, opts.Executions, "paced at least at each arrival")
	assert.GreaterOrEqual(t, last, opts.Duration-time.Minute)
}

func TestPaceErrorStopsTheRun(t *testing.T) {
	cfg := readConfig(t, "layered.yaml")
	opts := layeredOptions(1)
	stop := errors.New("stop")
	opts.Pace = func(elapsed time.Duration) error {
		if elapsed >= time.Minute {
			return stop
		}
		return nil
	}
	_, err := Run(cfg, opts)
	require.ErrorIs(t, err, stop)
}
