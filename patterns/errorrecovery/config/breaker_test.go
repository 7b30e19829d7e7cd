package config_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// TestBreakerKeysMeanWhatTheGoFieldsMean pins that a circuit_breaker
// section and a breaker.Config literal with the same settings resolve to
// the same breaker (breaker.Config.Resolve): a key given 0 means the
// default, as a zero field does, and the off values are written the same
// way, negative.
func TestBreakerKeysMeanWhatTheGoFieldsMean(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		lit        breaker.Config
	}{
		{"empty section", `{}`, breaker.Config{}},
		{"all zero", `{failure_threshold: 0, success_threshold: 0, open_timeout: 0s, open_timeout_multiplier: 0,
			max_open_timeout: 0s, window_size: 0, window_duration: 0s, failure_rate_threshold: 0, minimum_calls: 0,
			slow_call_duration: 0s, slow_call_rate_threshold: 0, half_open_max_calls: 0}`, breaker.Config{}},

		{"failure_threshold", `{failure_threshold: 3}`, breaker.Config{FailureThreshold: 3}},
		{"success_threshold", `{success_threshold: 4}`, breaker.Config{SuccessThreshold: 4}},
		{"open_timeout", `{open_timeout: 30s}`, breaker.Config{OpenTimeout: 30 * time.Second}},
		{"open_timeout_multiplier", `{open_timeout_multiplier: 2}`, breaker.Config{OpenTimeoutMultiplier: 2}},
		{"max_open_timeout", `{max_open_timeout: 5m}`, breaker.Config{MaxOpenTimeout: 5 * time.Minute}},
		{"window_size", `{window_size: 20}`, breaker.Config{WindowSize: 20}},
		{"window_duration", `{window_duration: 10s}`, breaker.Config{WindowDuration: 10 * time.Second}},
		{"failure_rate_threshold", `{failure_rate_threshold: 0.5}`, breaker.Config{FailureRateThreshold: 0.5}},
		{"minimum_calls", `{minimum_calls: 4}`, breaker.Config{MinimumCalls: 4}},
		{"slow_call rule", `{slow_call_duration: 2s, slow_call_rate_threshold: 0.8}`,
			breaker.Config{SlowCallDuration: 2 * time.Second, SlowCallRateThreshold: 0.8}},
		{"half_open_max_calls", `{half_open_max_calls: 1}`, breaker.Config{HalfOpenMaxCalls: 1}},

		{"count-only window", `{window_duration: -1s}`, breaker.Config{WindowDuration: breaker.CountOnly}},
		{"no open wait", `{open_timeout: -1s}`, breaker.Config{OpenTimeout: -1}},
		{"count rule off", `{failure_threshold: -1, failure_rate_threshold: 0.5}`,
			breaker.Config{FailureThreshold: -1, FailureRateThreshold: 0.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: CIRCUIT_BREAKER\ncircuit_breaker: "+c.yaml+"\n"))
			require.NoError(t, err)
			fromFile, err := cfg.Breaker.Resolve()
			require.NoError(t, err)
			fromGo, err := c.lit.Resolve()
			require.NoError(t, err)
			fromFile.Classify, fromGo.Classify = nil, nil // DefaultClassify both, as functions they do not compare
			if diff := cmp.Diff(fromGo, fromFile); diff != "" {
				t.Errorf("circuit_breaker: %s resolves to other than the Go literal %+v (-literal +file):\n%s", c.yaml, c.lit, diff)
			}
		})
	}
}
