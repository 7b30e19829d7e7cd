package errorrecovery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// The CACHE strategy in a workflow: the per-call machine follows the
// cache's read-through protocol (package cache tests the cache itself).

// minuteCache is a cache whose entries are fresh for a minute, then kept
// stale for an hour, with coalescing.
func minuteCache(t *testing.T, clk *enginetest.Clock, opts ...engine.Option) *cache.Cache[string] {
	t.Helper()
	c, err := cache.New[string](cache.Config{TTL: time.Minute, MaxStale: time.Hour}, append([]engine.Option{engine.WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	return c
}

// cacheOnly is a workflow with CACHE alone, over c.
func cacheOnly(t *testing.T, c *cache.Cache[string], clk *enginetest.Clock) *er.Workflow[string] {
	t.Helper()
	return mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, SharedCache: c}, engine.WithClock(clk))
}

func answer(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return v, nil }
}

func failWith(context.Context) (string, error) { return "", errFlaky }

func wantEntry(t *testing.T, c *cache.Cache[string], key string, want cache.State) {
	t.Helper()
	assert.Equal(t, want, c.State(key), "entry %q", key)
}

// An expired entry is never served as fresh: once its age reaches the TTL,
// a call gets the function's answer, whether or not the entry is kept
// stale.
func TestCacheExpiredEntryIsNeverServedAsFresh(t *testing.T) {
	for _, maxStale := range []time.Duration{-1, 0} {
		clk := enginetest.NewClock(time.Time{})
		c, err := cache.New[string](cache.Config{TTL: time.Minute, MaxStale: maxStale}, engine.WithClock(clk))
		require.NoError(t, err)
		w := cacheOnly(t, c, clk)
		ctx := context.Background()
		w.Execute(ctx, answer("old"))
		clk.Advance(time.Minute - time.Nanosecond)
		r, _ := w.ExecuteResult(ctx, answer("new"))
		assert.Equal(t, "old", r.Value, "MaxStale %v, just within the TTL: want the fresh entry", maxStale)
		assert.Equal(t, er.SourceCache, r.Source, "MaxStale %v, just within the TTL: want the fresh entry", maxStale)
		clk.Advance(time.Nanosecond)
		r, _ = w.ExecuteResult(ctx, answer("new"))
		assert.Equal(t, "new", r.Value, "MaxStale %v, at the TTL: want the function's answer", maxStale)
		assert.Equal(t, er.SourceFunction, r.Source, "MaxStale %v, at the TTL: want the function's answer", maxStale)
	}
}

// A stale entry answers only a call that failed, with its age, and only
// within MaxStale.
func TestCacheStaleEntryAnswersOnlyFailuresWithinMaxStale(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	w := cacheOnly(t, c, clk)
	ctx := context.Background()
	w.Execute(ctx, answer("old"))
	clk.Advance(30 * time.Minute)
	r, err := w.ExecuteResult(ctx, failWith)
	assert.NoError(t, err, "a failure 30m after the store")
	if diff := cmp.Diff(er.Result[string]{Value: "old", Source: er.SourceStaleCache, Age: 30 * time.Minute}, r, cmpopts.IgnoreFields(er.Result[string]{}, "Attempts")); diff != "" {
		t.Errorf("a failure 30m after the store: want the stale entry, 30m old (-want +got):\n%s", diff)
	}
	r, _ = w.ExecuteResult(ctx, answer("new"))
	assert.Equal(t, "new", r.Value, "a success while the entry is stale: want the function's answer")
	assert.Equal(t, er.SourceFunction, r.Source, "a success while the entry is stale: want the function's answer")
	clk.Advance(time.Minute + time.Hour) // "new" is now past TTL + MaxStale
	_, err = w.ExecuteResult(ctx, failWith)
	assert.ErrorIs(t, err, errFlaky, "a failure past MaxStale: want the function's error")
	wantEntry(t, c, "", cache.StateAbsent)
}

// A negative MaxStale turns stale on error off: a failure is the
// function's, and the workflow has no Fallback state for it.
func TestCacheNegativeMaxStaleServesNoStaleEntry(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute, MaxStale: -1}}, engine.WithClock(clk))
	ctx := context.Background()
	w.Execute(ctx, answer("old"))
	clk.Advance(2 * time.Minute)
	_, err := w.ExecuteResult(ctx, failWith)
	assert.ErrorIs(t, err, errFlaky, "a failure after the TTL: want the function's error")
	for _, s := range w.Definition().StateSpecs() {
		assert.NotEqual(t, "Fallback", s.ID.String(), "the workflow has a Fallback state, with nothing to fall back on")
	}
}

// While a leader's call is in flight the entry is Loading; a follower
// joins it and gets its answer, as a hit of age zero, and the entry is
// Fresh once the leader has stored it.
func TestCacheFollowersJoinTheLoadInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := enginetest.NewClock(time.Time{})
		c := minuteCache(t, clk)
		w := cacheOnly(t, c, clk)
		var calls atomic.Int32
		release := make(chan struct{})
		slow := func(context.Context) (string, error) {
			calls.Add(1)
			<-release
			return "v", nil
		}
		results := make(chan er.Result[string], 3)
		for range 3 {
			go func() {
				r, _ := w.ExecuteResult(context.Background(), slow)
				results <- r
			}()
		}
		synctest.Wait()
		wantEntry(t, c, "", cache.StateLoading)
		close(release)
		var hits int
		for range 3 {
			r := <-results
			if assert.Equal(t, "v", r.Value, "result %+v", r) && r.Source == er.SourceCache {
				hits++
				assert.Zero(t, r.Age, "a follower's age: want the leader's fresh answer, 0 old")
			}
		}
		assert.Equal(t, int32(1), calls.Load(), "calls of the function")
		assert.Equal(t, 2, hits, "hits")
		wantEntry(t, c, "", cache.StateFresh)
	})
}

// TestWorkflowFollowsTheCacheEntryDefinition gives a shared cache an
// entry machine whose guard keeps a value fresh for twice the TTL: the
// workflow serves it as a hit past the TTL, as the machine decides.
func TestWorkflowFollowsTheCacheEntryDefinition(t *testing.T) {
	type machine = states.Machine[cache.State, cache.Event, cache.Data]
	twice := transitions.If("age < 2 TTL", func(m machine) bool {
		d := m.Data()
		age, ok := d.Age()
		return ok && age < 2*d.Config().TTL
	})
	def, err := cache.Definition().Edit(func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
		if tr.Guard.Name() == "age < TTL" {
			tr.Guard = twice
		}
		return true
	}).Build()
	require.NoError(t, err)
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk, engine.WithDefinition(def))
	w := cacheOnly(t, c, clk)
	ctx := context.Background()
	w.Execute(ctx, answer("old"))
	clk.Advance(90 * time.Second)
	r, _ := w.ExecuteResult(ctx, answer("new"))
	if diff := cmp.Diff(er.Result[string]{Value: "old", Source: er.SourceCache, Age: 90 * time.Second}, r, cmpopts.IgnoreFields(er.Result[string]{}, "Attempts")); diff != "" {
		t.Errorf("90s after the store: want the entry, served fresh (-want +got):\n%s", diff)
	}
}

// A workflow named CACHE with no Cache config makes its cache from a zero
// cache.Config: its defaults, stale on error and coalescing included.
func TestCacheWithoutConfigUsesTheDefaults(t *testing.T) {
	w := mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache})
	got := w.Cache().Config()
	def := cache.DefaultConfig()
	if diff := cmp.Diff(def, got, cmpopts.IgnoreFields(cache.Config{}, "Key")); diff != "" {
		t.Errorf("cache config (-want +got):\n%s", diff)
	}
	var fallback bool
	for _, s := range w.Definition().StateSpecs() {
		fallback = fallback || s.ID.String() == "Fallback"
	}
	assert.True(t, fallback, "no Fallback state: stale on error is off by default")
}
