package config_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// TestConfigFilesAcceptFullAndEqualJitter: the two jitters of AWS's names
// are backoff names of a config file, in any case, in YAML and JSON, and
// mean what the Go constants mean, schedule included.
func TestConfigFilesAcceptFullAndEqualJitter(t *testing.T) {
	for _, c := range []struct {
		file, text string
		want       er.Backoff
	}{
		{"a.yaml", "retry: {backoff: FULL_JITTER, max_attempts: 4, initial_delay: 1s, max_delay: 3s}", er.BackoffFullJitter},
		{"a.yaml", "retry: {backoff: equal_jitter, max_attempts: 4, initial_delay: 1s, max_delay: 3s}", er.BackoffEqualJitter},
		{"a.json", `{"retry": {"backoff": "Full_Jitter", "max_attempts": 4, "initial_delay": "1s", "max_delay": "3s"}}`, er.BackoffFullJitter},
	} {
		cfg, err := config.Parse[any](c.file, []byte(c.text))
		require.NoErrorf(t, err, "%s", c.text)
		require.NotNil(t, cfg.Retry, "%s", c.text)
		require.Equal(t, c.want, cfg.Retry.Backoff, "%s", c.text)
		lit := er.RetryConfig[any]{Backoff: c.want, MaxAttempts: 4, InitialDelay: time.Second, MaxDelay: 3 * time.Second}
		fromFile, err1 := cfg.Retry.Schedule(func() float64 { return 0.5 })
		fromLit, err2 := lit.Schedule(func() float64 { return 0.5 })
		if err := errors.Join(err1, err2); err != nil || !slices.Equal(fromFile, fromLit) {
			t.Errorf("%s: schedule %v, the Go literal's %v (%v)", c.text, fromFile, fromLit, err)
		}
	}
	if _, err := er.ParseBackoff("full jitter"); !errors.As(err, new(*er.UnknownNameError)) {
		t.Errorf(`ParseBackoff("full jitter") = %v, want an *UnknownNameError: the name has an underscore`, err)
	}
}
