package cli

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

func TestRenderScheduleMatchesGoldens(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"schedule/retry.txt", []string{"render", "retry", "--schedule"}},
		{"schedule/workflow-seed7.txt", []string{"render", "--schedule", "--seed", "7"}},
		{"schedule/full-jitter.yaml.txt", []string{"render", "-f", "cmd/statecraft/testdata/schedule/full-jitter.yaml", "--schedule"}},
		{"schedule/equal-jitter.yaml.txt", []string{"render", "--schedule", "-f", "cmd/statecraft/testdata/schedule/equal-jitter.yaml"}},
		{"schedule/bulkhead.yaml-seed3.txt", []string{"render", "-f", "testdata/configs/bulkhead.yaml", "--schedule", "--seed", "3"}},
		{"schedule/breaker-fallback.json.txt", []string{"render", "-f", "testdata/configs/breaker-fallback.json", "--schedule"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			out := wantSuccess(t, tt.args...)
			checkGolden(t, tt.golden, out)
			assert.Equal(t, out, wantSuccess(t, tt.args...), "a second run with the same seed printed something else")
		})
	}
}

// TestRenderScheduleIsTheLibrarysSchedule: the delays printed are those
// RetryConfig.Schedule lists for the file's retry, drawing from the
// seed's stream, so the command shows what the library would wait.
func TestRenderScheduleIsTheLibrarysSchedule(t *testing.T) {
	const file = "cmd/statecraft/testdata/schedule/full-jitter.yaml"
	for _, seed := range []string{"1", "42"} {
		out := wantSuccess(t, "render", "-f", file, "--schedule", "--seed", seed)
		var printed []time.Duration
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[3:] {
			d, err := time.ParseDuration(strings.Fields(line)[1])
			require.NoError(t, err, "line %q", line)
			printed = append(printed, d)
		}
		cfg, err := config.ReadFile[any](file)
		require.NoError(t, err)
		var n uint64
		for _, c := range seed {
			n = 10*n + uint64(c-'0')
		}
		want, err := cfg.Retry.Schedule(rand.New(rand.NewPCG(n, scheduleStream)).Float64)
		require.NoError(t, err)
		if diff := cmp.Diff(want, printed); diff != "" {
			t.Errorf("seed %s: printed delays differ from RetryConfig.Schedule's (-want +got):\n%s", seed, diff)
		}
		assert.Equal(t, errorrecovery.BackoffFullJitter, cfg.Retry.Backoff, "the sample's backoff")
	}
}
