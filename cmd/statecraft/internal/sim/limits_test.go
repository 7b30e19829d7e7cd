package sim

import (
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunRefusesTooLongATimeline(t *testing.T) {
	cfg := parseConfig(t, "primary: RETRY\n")
	if _, err := Run(cfg, Options{Executions: 1, Duration: time.Minute, Buckets: MaxBuckets + 1}); err == nil {
		t.Errorf("Run with %d buckets: no error", MaxBuckets+1)
	}
	mustRun(t, cfg, Options{Executions: 1, Duration: time.Minute, Buckets: MaxBuckets})
}

// A retry that never gives up on a dependency that always fails once ran
// without end (issue 14); the run stops when its clock passes the
// duration plus MaxOverrun.
func TestRunStopsWhenVirtualTimeOverruns(t *testing.T) {
	cfg := parseConfig(t, "primary: RETRY\nretry: {max_attempts: 100000, backoff: FIXED, initial_delay: 1h, max_delay: 1h}\n")
	start := time.Now()
	_, err := Run(cfg, Options{Executions: 20, Duration: time.Minute, Dependency: Dependency{FailureRate: 1, Latency: Latency{Kind: Constant, A: time.Millisecond}}})
	le, ok := errors.AsType[*LimitError](err)
	require.True(t, ok, "error %v", err)
	require.Equal(t, "overrun", le.Limit, "error %v", err)
	if le.At <= time.Minute+MaxOverrun || le.At > time.Minute+MaxOverrun+time.Hour {
		t.Errorf("stopped at %v, want just past %v", le.At, time.Minute+MaxOverrun)
	}
	assert.Equal(t, 20, le.Unfinished, "unfinished")
	if took := time.Since(start); took > testutil.Quick {
		t.Errorf("took %v", took)
	}
}

func TestRunStopsWithTooManyExecutionsInFlight(t *testing.T) {
	cfg := parseConfig(t, "primary: RETRY\n")
	start := time.Now()
	_, err := Run(cfg, Options{Executions: MaxInFlight + 1, Duration: time.Second, Dependency: Dependency{Latency: Latency{Kind: Constant, A: time.Hour}}})
	le, ok := errors.AsType[*LimitError](err)
	require.True(t, ok, "error %v", err)
	require.Equal(t, "in flight", le.Limit, "error %v", err)
	assert.Equal(t, MaxInFlight+1, le.Unfinished, "unfinished")
	if took := time.Since(start); took > testutil.Quick {
		t.Errorf("took %v", took)
	}
}
