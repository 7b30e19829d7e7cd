package errorrecovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// FallbackConfig.UseCache: keyed like CACHE, and one TTL rule per cache.

type pathKey struct{}

// withPath is a context carrying a request path, the key of the tests.
func withPath(path string) context.Context {
	return context.WithValue(context.Background(), pathKey{}, path)
}

func pathOfCtx(ctx context.Context) string {
	p, _ := ctx.Value(pathKey{}).(string)
	return p
}

func TestAFallbackCacheKeyNeverAnswersForAnotherKey(t *testing.T) {
	cases := map[string]func() er.ErrorRecoveryConfig[string]{
		"without CACHE, keyed by FallbackConfig.Key": func() er.ErrorRecoveryConfig[string] {
			return er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback,
				Fallback: &er.FallbackConfig[string]{UseCache: true, Key: pathOfCtx}}
		},
		"with CACHE, keyed by its Key": func() er.ErrorRecoveryConfig[string] {
			return er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute, Key: pathOfCtx},
				Fallback: &er.FallbackConfig[string]{UseCache: true, CacheTTL: 10 * time.Minute}}
		},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			w := mustWorkflow(t, cfg(), engine.WithClock(clk))
			_, err := w.Execute(withPath("/users"), answer("users body"))
			require.NoError(t, err)
			clk.Advance(2 * time.Minute) // past CACHE's TTL: only a failure reads the entry
			res, err := w.ExecuteResult(withPath("/orders"), failWith)
			assert.ErrorIs(t, err, errFlaky, "/orders failed: another key's entry answered")
			assert.Empty(t, res.Value, "/orders failed and got a value from %v: another key's entry answered", res.Source)
			res, err = w.ExecuteResult(withPath("/users"), failWith)
			assert.NoError(t, err, "/users failed: want its own entry")
			assert.Equal(t, "users body", res.Value, "/users failed and got a value from %v: want its own entry", res.Source)
		})
	}
}

func TestUseCacheNeedsAKeyOfItsOwnOrCACHEs(t *testing.T) {
	shared, err := cache.New[string](cache.Config{Key: pathOfCtx})
	require.NoError(t, err)
	cases := []struct {
		name  string
		cfg   er.ErrorRecoveryConfig[string]
		field string // "" when accepted
	}{
		{"no CACHE, no Key", er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback,
			Fallback: &er.FallbackConfig[string]{UseCache: true}}, "Key"},
		{"no CACHE, a Key", er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback,
			Fallback: &er.FallbackConfig[string]{UseCache: true, Key: pathOfCtx}}, ""},
		{"CACHE and a Key of the fallback's", er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache,
			Fallback: &er.FallbackConfig[string]{UseCache: true, Key: pathOfCtx}}, "Key"},
		{"CACHE with no Key", er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache,
			Fallback: &er.FallbackConfig[string]{UseCache: true}}, ""},
		{"a shared cache", er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, SharedCache: shared,
			Fallback: &er.FallbackConfig[string]{UseCache: true}}, "UseCache"},
		{"no UseCache, no Key", er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback,
			Fallback: ptr(er.FallbackValue(""))}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := er.NewWorkflow(tc.cfg)
			if tc.field == "" {
				assert.NoError(t, err, "refused")
				return
			}
			if ce, refused := errors.AsType[*er.ConfigError](err); assert.True(t, refused, "got %v, want a *ConfigError naming FallbackConfig.%s", err, tc.field) {
				assert.Equal(t, "FallbackConfig", ce.Config, "got %v", err)
				assert.Equal(t, tc.field, ce.Field, "got %v", err)
			}
		})
	}
}

// TestOneTTLRuleForTheCacheWhoeverReadsIt is the seed's CACHE primary with
// FallbackConfig{UseCache, CacheTTL: 600s}: the CACHE's entries (300 s
// TTL, stale until evicted by default) answer a failure only while younger
// than 600 s, and the cache itself says so, to the workflow and to any
// other reader.
func TestOneTTLRuleForTheCacheWhoeverReadsIt(t *testing.T) {
	cases := []struct {
		name   string
		cc     cache.Config
		age    time.Duration
		want   er.Source // SourceNone: the failure is not answered
		called bool      // a failure reached the function: the entry is not fresh
	}{
		{"fresh", cache.Config{}, 4*time.Minute + 59*time.Second, er.SourceCache, false},
		{"stale at the TTL", cache.Config{}, 5 * time.Minute, er.SourceStaleCache, true},
		{"stale within CacheTTL", cache.Config{}, 9*time.Minute + 59*time.Second, er.SourceStaleCache, true},
		{"at CacheTTL", cache.Config{}, 10 * time.Minute, er.SourceNone, true},
		{"the issue's 11m41s", cache.Config{}, 11*time.Minute + 41*time.Second, er.SourceNone, true},
		{"MaxStale shorter than CacheTTL, within it", cache.Config{MaxStale: 2 * time.Minute}, 6*time.Minute + 59*time.Second, er.SourceStaleCache, true},
		{"MaxStale shorter than CacheTTL, past it", cache.Config{MaxStale: 2 * time.Minute}, 7 * time.Minute, er.SourceNone, true},
		{"no stale entries: CacheTTL extends nothing", cache.Config{MaxStale: er.None}, 5 * time.Minute, er.SourceNone, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			cc := tc.cc
			w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cc,
				Fallback: &er.FallbackConfig[string]{UseCache: true, CacheTTL: 600 * time.Second}}, engine.WithClock(clk))
			ctx := context.Background()
			_, err := w.Execute(ctx, answer("kept"))
			require.NoError(t, err)
			clk.Advance(tc.age)
			// What any reader of the cache sees, before the workflow reads.
			_, _, fresh, held := w.Cache().Get("")
			called := false
			res, err := w.ExecuteResult(ctx, func(context.Context) (string, error) { called = true; return "", errFlaky })
			assert.Equal(t, tc.want, res.Source, "at %v: got %q, %v", tc.age, res.Value, err)
			assert.Equal(t, tc.called, called, "at %v: function called", tc.age)
			if tc.want == er.SourceNone {
				assert.ErrorIs(t, err, errFlaky, "unanswered failure: want the function's error")
			} else {
				assert.NoError(t, err, "answered")
				assert.Equal(t, "kept", res.Value, "answered")
				assert.Equal(t, tc.age, res.Age, "answered: age")
			}
			assert.Equal(t, tc.want != er.SourceNone, held, "Cache().Get says held; the workflow answered from %v", res.Source)
			assert.Equal(t, tc.want == er.SourceCache, fresh, "Cache().Get says fresh; the workflow answered from %v", res.Source)
		})
	}
}

func TestTheFallbackCacheWithoutCACHEExpiresAtCacheTTL(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	fb := er.FallbackConfig[string]{UseCache: true, CacheTTL: 600 * time.Second, Key: pathOfCtx}
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyFallback, Fallback: &fb}, engine.WithClock(clk))
	ctx := withPath("/users")
	_, err := w.Execute(ctx, answer("kept"))
	require.NoError(t, err)
	for _, step := range []struct {
		advance time.Duration
		want    er.Source
	}{
		{9*time.Minute + 59*time.Second, er.SourceFallbackCache},
		{time.Second, er.SourceNone}, // 10m: expired
		{101 * time.Second, er.SourceNone},
	} {
		clk.Advance(step.advance)
		res, _ := w.ExecuteResult(ctx, failWith)
		assert.Equal(t, step.want, res.Source, "at %v: %q", clk.Now().Sub(time.Time{}), res.Value)
	}
}
