package config_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

type tenantKey struct{}

func init() {
	config.RegisterKey("tenant", func(ctx context.Context) string { s, _ := ctx.Value(tenantKey{}).(string); return s })
}

func TestPerKeySectionMeansWhatTheGoLiteralMeans(t *testing.T) {
	for _, tt := range []struct {
		name, section string
		want          er.PerKeyConfig
	}{
		{"empty", `{}`, er.PerKeyConfig{}},
		{"no settings", ``, er.PerKeyConfig{}},
		{"zeros", `{max_keys: 0, idle_timeout: 0s, sweep_interval: 0s}`, er.PerKeyConfig{}},
		{"host", `{key: host, max_keys: 500, idle_timeout: 1m, sweep_interval: 10s}`,
			er.PerKeyConfig{KeyName: "host", Registry: perkey.Config{MaxKeys: 500, IdleTimeout: time.Minute, SweepInterval: 10 * time.Second}}},
		{"never idle", `{idle_timeout: -1s}`, er.PerKeyConfig{Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: CIRCUIT_BREAKER\nper_key: "+tt.section+"\n"))
			require.NoError(t, err)
			require.NotNil(t, cfg.PerKey)
			// Compared as they resolve: a file's -1s and NoIdleTimeout
			// both mean no idle eviction.
			resolved := func(c er.PerKeyConfig) er.PerKeyConfig {
				r, err := c.Registry.Resolve()
				require.NoError(t, err)
				c.Registry = r
				return c
			}
			assert.Empty(t, cmp.Diff(resolved(tt.want), resolved(*cfg.PerKey), cmpopts.IgnoreFields(er.PerKeyConfig{}, "Key")))
			assert.Nil(t, cfg.PerKey.Key, "the key in the context")
			w, err := er.NewWorkflow(cfg)
			require.NoError(t, err)
			assert.True(t, w.PerKey())
		})
	}
}

func TestPerKeySectionNamesARegisteredKeyFunction(t *testing.T) {
	cfg, err := config.Parse[any]("x.yaml", []byte("primary: CIRCUIT_BREAKER\nper_key: {key: tenant}\n"))
	require.NoError(t, err)
	require.NotNil(t, cfg.PerKey.Key)
	assert.Equal(t, "tenant", cfg.PerKey.KeyName)
	w, err := er.NewWorkflow(cfg)
	require.NoError(t, err)
	ctx := context.WithValue(context.Background(), tenantKey{}, "acme")
	_, err = w.Execute(ctx, func(context.Context) (any, error) { return 1, nil })
	require.NoError(t, err)
	assert.Contains(t, w.HealthByKey(), "acme", "the registered function gave the key")
	assert.Contains(t, w.Dot(), "one per tenant")
}

func TestPerKeySectionProblemsNameTheirKey(t *testing.T) {
	for _, tt := range []struct {
		name, file, field string
	}{
		{"unknown key function", "primary: CIRCUIT_BREAKER\nper_key: {key: shard}\n", "per_key.key"},
		{"negative bound", "primary: CIRCUIT_BREAKER\nper_key: {max_keys: -1}\n", "per_key.max_keys"},
		{"sweep longer than idle", "primary: CIRCUIT_BREAKER\nper_key: {idle_timeout: 1m, sweep_interval: 2m}\n", "per_key.sweep_interval"},
		{"idle timeout too long", "primary: CIRCUIT_BREAKER\nper_key: {idle_timeout: 48h}\n", "per_key.idle_timeout"},
		{"nothing to keep per key", "primary: RETRY\nper_key: {}\n", "per_key"},
		{"not a duration", "primary: CIRCUIT_BREAKER\nper_key: {idle_timeout: soon}\n", "per_key.idle_timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse[any]("x.yaml", []byte(tt.file))
			es, ok := errors.AsType[config.Errors](err)
			require.True(t, ok, "%v", err)
			require.Len(t, es, 1, "%v", err)
			assert.Equal(t, tt.field, es[0].Field, "%v", err)
			if tt.name != "not a duration" {
				var ce *er.ConfigError
				assert.ErrorAs(t, err, &ce)
			}
		})
	}
}

func TestRegisterKeyRefusesBuiltInAndDuplicateNames(t *testing.T) {
	fn := func(context.Context) string { return "" }
	assert.Panics(t, func() { config.RegisterKey("host", fn) })
	assert.Panics(t, func() { config.RegisterKey("tenant", fn) })
	assert.Panics(t, func() { config.RegisterKey("", fn) })
	assert.Panics(t, func() { config.RegisterKey("region", nil) })
}
