package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// resolvedCache returns the config a workflow's cache runs with, each
// zero field resolved, without the key function (which only Go can set).
func resolvedCache(t *testing.T, cfg errorrecovery.ErrorRecoveryConfig[any]) cache.Config {
	t.Helper()
	w, err := errorrecovery.NewWorkflow(cfg)
	require.NoError(t, err)
	got := w.Cache().Config()
	got.Key = nil
	return got
}

// TestCacheSectionMeansWhatTheGoLiteralMeans pins, for each form of the
// cache section, that the file and the cache.Config literal with the same
// settings resolve to the same cache: a 0 is the default in both, and off
// is a negative max_stale or disable_coalescing.
func TestCacheSectionMeansWhatTheGoLiteralMeans(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		lit        cache.Config
	}{
		{"named, no section", "", cache.Config{}},
		{"empty section", "cache:\n", cache.Config{}},
		{"empty mapping", "cache: {}\n", cache.Config{}},
		{"ttl", "cache: {ttl: 30s}\n", cache.Config{TTL: 30 * time.Second}},
		{"ttl 0 is the default", "cache: {ttl: 0s}\n", cache.Config{TTL: 0}},
		{"max_entries", "cache: {max_entries: 10}\n", cache.Config{MaxEntries: 10}},
		{"max_entries 0 is the default", "cache: {max_entries: 0}\n", cache.Config{MaxEntries: 0}},
		{"max_stale", "cache: {max_stale: 10m}\n", cache.Config{MaxStale: 10 * time.Minute}},
		{"max_stale 0 is until evicted", "cache: {max_stale: 0s}\n", cache.Config{MaxStale: 0}},
		{"max_stale off", "cache: {max_stale: -1s}\n", cache.Config{MaxStale: -time.Second}},
		{"coalescing off", "cache: {disable_coalescing: true}\n", cache.Config{DisableCoalescing: true}},
		{"coalescing on", "cache: {disable_coalescing: false}\n", cache.Config{DisableCoalescing: false}},
		{"every field", "cache: {ttl: 1m, max_entries: 5, max_stale: -1s, disable_coalescing: true}\n",
			cache.Config{TTL: time.Minute, MaxEntries: 5, MaxStale: -time.Second, DisableCoalescing: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parsed, err := config.Parse[any]("x.yaml", []byte("primary: CACHE\n"+tc.yaml))
			require.NoError(t, err)
			lit := tc.lit
			fromFile := resolvedCache(t, parsed)
			fromGo := resolvedCache(t, errorrecovery.ErrorRecoveryConfig[any]{Primary: errorrecovery.StrategyCache, Cache: &lit})
			if fromFile.TTL != fromGo.TTL || fromFile.MaxEntries != fromGo.MaxEntries ||
				fromFile.MaxStale != fromGo.MaxStale || fromFile.DisableCoalescing != fromGo.DisableCoalescing {
				t.Errorf("the file resolves to %+v, the Go literal %+v", fromFile, fromGo)
			}
			if fromGo.TTL <= 0 || fromGo.MaxEntries <= 0 {
				t.Errorf("resolved %+v: a zero TTL or MaxEntries was not resolved to its default", fromGo)
			}
		})
	}
}

func TestInvalidCacheSettingsNameTheirKey(t *testing.T) {
	for _, tc := range []struct {
		yaml, key, field string
		lit              cache.Config
	}{
		{"cache: {ttl: -1s}\n", "cache.ttl", "TTL", cache.Config{TTL: -time.Second}},
		{"cache: {max_entries: -1}\n", "cache.max_entries", "MaxEntries", cache.Config{MaxEntries: -1}},
	} {
		_, err := config.Parse[any]("x.yaml", []byte("primary: CACHE\n"+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%s: %v, want a problem at %s", strings.TrimSpace(tc.yaml), err, tc.key)
		}
		_, err = errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[any]{Primary: errorrecovery.StrategyCache, Cache: &tc.lit})
		if ce, ok := errors.AsType[*errorrecovery.ConfigError](err); !ok || ce.Config != "cache.Config" || ce.Field != tc.field {
			t.Errorf("%+v: %v, want a *ConfigError naming cache.Config.%s", tc.lit, err, tc.field)
		}
	}
}
