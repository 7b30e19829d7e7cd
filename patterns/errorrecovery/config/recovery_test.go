package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// TestRetryKeysMeanWhatTheGoFieldsMean pins that a retry section and a
// RetryConfig literal with the same settings resolve to the same retry: a
// key given 0 means the default, as a zero field does, and "none" is
// written the same way, negative.
func TestRetryKeysMeanWhatTheGoFieldsMean(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		lit        er.RetryConfig[any]
	}{
		{"empty section", `{}`, er.RetryConfig[any]{}},
		{"all zero", `{max_attempts: 0, initial_delay: 0s, max_delay: 0s, multiplier: 0, jitter_range: 0}`, er.RetryConfig[any]{}},
		{"max_attempts", `{max_attempts: 5}`, er.RetryConfig[any]{MaxAttempts: 5}},
		{"initial_delay", `{initial_delay: 250ms}`, er.RetryConfig[any]{InitialDelay: 250 * time.Millisecond}},
		{"max_delay", `{max_delay: 10s}`, er.RetryConfig[any]{MaxDelay: 10 * time.Second}},
		{"backoff", `{backoff: LINEAR}`, er.RetryConfig[any]{Backoff: er.BackoffLinear}},
		{"multiplier", `{multiplier: 3}`, er.RetryConfig[any]{Multiplier: 3}},
		{"jitter_range", `{backoff: JITTER, jitter_range: 0.3}`, er.RetryConfig[any]{Backoff: er.BackoffJitter, JitterRange: 0.3}},
		{"no delay", `{initial_delay: -1s}`, er.RetryConfig[any]{InitialDelay: er.None}},
		{"no cap", `{max_delay: -1s}`, er.RetryConfig[any]{MaxDelay: er.None}},
		{"no jitter", `{backoff: JITTER, jitter_range: -1}`, er.RetryConfig[any]{Backoff: er.BackoffJitter, JitterRange: er.None}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: RETRY\nretry: "+c.yaml+"\n"))
			require.NoError(t, err)
			fromFile, err := cfg.Retry.Resolve()
			require.NoError(t, err)
			fromGo, err := c.lit.Resolve()
			require.NoError(t, err)
			if diff := cmp.Diff(fromGo, fromFile); diff != "" {
				t.Errorf("retry: %s resolves to other than the Go literal %+v (-literal +file):\n%s", c.yaml, c.lit, diff)
			}
		})
	}
}

// TestDeadlineKeysMeanWhatTheGoFieldsMean is the same for the deadline
// section and DeadlineConfig.
func TestDeadlineKeysMeanWhatTheGoFieldsMean(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		lit        er.DeadlineConfig
	}{
		{"empty section", `{}`, er.DeadlineConfig{}},
		{"all zero", `{timeout: 0s, attempt_timeout: 0s, walk_away: false}`, er.DeadlineConfig{}},
		{"timeout", `{timeout: 10s}`, er.DeadlineConfig{Timeout: 10 * time.Second}},
		{"attempt_timeout", `{attempt_timeout: 2s}`, er.DeadlineConfig{AttemptTimeout: 2 * time.Second}},
		{"walk_away", `{walk_away: true}`, er.DeadlineConfig{WalkAway: true}},
		{"no overall timeout", `{timeout: -1s, attempt_timeout: 1s}`, er.DeadlineConfig{Timeout: er.None, AttemptTimeout: time.Second}},
		{"no attempt timeout", `{attempt_timeout: -1s}`, er.DeadlineConfig{AttemptTimeout: er.None}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: DEADLINE\ndeadline: "+c.yaml+"\n"))
			require.NoError(t, err)
			fromFile, err := cfg.Deadline.Resolve()
			require.NoError(t, err)
			fromGo, err := c.lit.Resolve()
			require.NoError(t, err)
			assert.Equal(t, fromGo, fromFile, "deadline: %s resolves to %+v, the Go literal %+v to %+v", c.yaml, fromFile, c.lit, fromGo)
		})
	}
}

// TestFallbackKeysMeanWhatTheGoFieldsMean is the same for the fallback
// section and FallbackConfig, whose one duration, CacheTTL, means 300s
// when zero.
func TestFallbackKeysMeanWhatTheGoFieldsMean(t *testing.T) {
	type meaning struct {
		hasValue, ignoreDeadline, useCache bool
		ttl                                time.Duration
	}
	of := func(f *er.FallbackConfig[any]) meaning {
		ttl := f.CacheTTL
		if ttl == 0 {
			ttl = er.DefaultFallbackConfig[any]().CacheTTL
		}
		return meaning{f.HasValue, f.IgnoreDeadline, f.UseCache, ttl}
	}
	for _, c := range []struct {
		name, yaml string
		lit        er.FallbackConfig[any]
	}{
		{"value", `{value: 1}`, er.FallbackConfig[any]{Value: 1, HasValue: true}},
		{"all zero", `{use_cache: true, cache_ttl: 0s, ignore_deadline: false}`, er.FallbackConfig[any]{UseCache: true}},
		{"cache_ttl", `{use_cache: true, cache_ttl: 1m}`, er.FallbackConfig[any]{UseCache: true, CacheTTL: time.Minute}},
		{"ignore_deadline", `{value: 1, ignore_deadline: true}`, er.FallbackConfig[any]{Value: 1, HasValue: true, IgnoreDeadline: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A cache section gives use_cache the key it needs.
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: FALLBACK\ncache: {}\nfallback: "+c.yaml+"\n"))
			require.NoError(t, err)
			if got, want := of(cfg.Fallback), of(&c.lit); got != want {
				t.Errorf("fallback: %s means %+v, the Go literal %+v", c.yaml, got, want)
			}
		})
	}
}

// TestUseCacheWithoutACacheSectionNamesTheKeyItNeeds: a file cannot give
// FallbackConfig.Key, which UseCache needs without CACHE, so Parse says so
// at use_cache rather than accept a config that would not build.
func TestUseCacheWithoutACacheSectionNamesTheKeyItNeeds(t *testing.T) {
	_, err := config.Parse[any]("x.yaml", []byte("primary: FALLBACK\nfallback:\n  use_cache: true\n"))
	e, ok := errors.AsType[*config.Error](err)
	if !ok || e.Field != "fallback.use_cache" || e.Line != 3 || !strings.Contains(e.Error(), "FallbackConfig.Key") {
		t.Errorf("got %v, want a problem at fallback.use_cache naming FallbackConfig.Key", err)
	}
}

// TestAnEmptyConfigIsTheDefaultOne pins that an empty file, an empty
// ErrorRecoveryConfig and DefaultErrorRecoveryConfig make the same
// workflow: RETRY with its defaults.
func TestAnEmptyConfigIsTheDefaultOne(t *testing.T) {
	fromFile, err := config.Parse[any]("x.yaml", []byte("{}\n"))
	require.NoError(t, err)
	var states []string
	for _, cfg := range []er.ErrorRecoveryConfig[any]{fromFile, {}, er.DefaultErrorRecoveryConfig[any]()} {
		w, err := er.NewWorkflow(cfg)
		require.NoError(t, err)
		got := ""
		for _, s := range w.Definition().States() {
			got += s.String() + " "
		}
		states = append(states, got)
	}
	if states[0] != states[1] || states[1] != states[2] {
		t.Errorf("states of the file's, the zero and the default workflow differ:\n%q", states)
	}
}
