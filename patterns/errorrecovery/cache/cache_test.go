package cache_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

func mustCache(t *testing.T, cfg cache.Config, clk *enginetest.Clock, opts ...engine.Option) *cache.Cache[string] {
	t.Helper()
	c, err := cache.New[string](cfg, append([]engine.Option{engine.WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	return c
}

// getResult is what Cache.Get returns, in one value a test compares.
type getResult struct {
	v     string
	age   time.Duration
	fresh bool
	ok    bool
}

func get(c *cache.Cache[string], key string) getResult {
	v, age, fresh, ok := c.Get(key)
	return getResult{v, age, fresh, ok}
}

// minuteCache is a cache whose entries are fresh for a minute, then kept
// stale for an hour, with coalescing.
func minuteCache(t *testing.T, clk *enginetest.Clock, opts ...engine.Option) *cache.Cache[string] {
	t.Helper()
	return mustCache(t, cache.Config{TTL: time.Minute, MaxStale: time.Hour}, clk, opts...)
}

func wantEntry(t *testing.T, c *cache.Cache[string], key string, want cache.State) {
	t.Helper()
	assert.Equal(t, want, c.State(key), "entry %q", key)
}

func TestCacheTTLIsHonoured(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{TTL: time.Minute, MaxStale: -1}, clk)
	c.Put("k", "v")
	clk.Advance(59 * time.Second)
	assert.Equal(t, getResult{"v", 59 * time.Second, true, true}, get(c, "k"), "at 59s")
	clk.Advance(time.Second)
	_, _, _, ok := c.Get("k")
	assert.False(t, ok, "an expired entry was served")
	assert.Zero(t, c.Len(), "expired entry kept")
	wantEntry(t, c, "k", cache.StateAbsent)
}

func TestCacheStaleEntriesServeOnlyAsStaleWithTheirAge(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	c.Put("k", "v")
	clk.Advance(30 * time.Minute)
	assert.Equal(t, getResult{"v", 30 * time.Minute, false, true}, get(c, "k"), "stale: want a stale entry 30m old")
	l := c.Lookup("k")
	assert.False(t, l.Hit, "a lookup was answered by the stale entry: %+v", l)
	clk.Advance(31 * time.Minute)
	_, _, _, ok := c.Get("k")
	assert.False(t, ok, "served past MaxStale")
}

// A zero MaxStale keeps a stale entry until it is evicted.
func TestCacheZeroMaxStaleKeepsStaleEntriesUntilEvicted(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{TTL: time.Minute, MaxEntries: 1}, clk)
	c.Put("a", "1")
	clk.Advance(1000 * time.Hour)
	v, _, fresh, ok := c.Get("a")
	require.True(t, ok, "1000h after the store: want the stale entry")
	assert.False(t, fresh, "1000h after the store: want the stale entry")
	assert.Equal(t, "1", v, "1000h after the store: want the stale entry")
	c.Put("b", "2")
	_, _, _, ok = c.Get("a")
	assert.False(t, ok, "a, evicted by b, was served")
}

func TestCacheLRUBound(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{MaxEntries: 2}, clk)
	c.Put("a", "1")
	c.Put("b", "2")
	c.Get("a") // a is now the most recent
	c.Put("c", "3")
	_, _, _, ok := c.Get("b")
	assert.False(t, ok, "b, the least recently used, was not evicted")
	for _, k := range []string{"a", "c"} {
		_, _, _, ok := c.Get(k)
		assert.True(t, ok, "%s evicted", k)
	}
	assert.Equal(t, 2, c.Len(), "len")
	c.Clear()
	assert.Zero(t, c.Len(), "len after Clear")
	wantEntry(t, c, "a", cache.StateAbsent)
}

// TestCacheEntryLifecycle follows one entry through its states on the
// manual clock: Absent, Fresh for TTL, Stale for MaxStale, then dropped.
func TestCacheEntryLifecycle(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	wantEntry(t, c, "k", cache.StateAbsent)
	c.Put("k", "v")
	wantEntry(t, c, "k", cache.StateFresh)
	clk.Advance(time.Minute - time.Nanosecond)
	wantEntry(t, c, "k", cache.StateFresh)
	clk.Advance(time.Nanosecond) // age == TTL: no longer fresh
	wantEntry(t, c, "k", cache.StateStale)
	clk.Advance(time.Hour - time.Nanosecond)
	wantEntry(t, c, "k", cache.StateStale)
	assert.Equal(t, 1, c.Len(), "len: want the stale entry kept")
	clk.Advance(time.Nanosecond) // age == TTL + MaxStale: past use
	wantEntry(t, c, "k", cache.StateAbsent)
	assert.Zero(t, c.Len(), "len: want the entry past use dropped")
	c.Put("k", "again")
	wantEntry(t, c, "k", cache.StateFresh)
}

// TestCacheRunsAreObservable shows a read of an entry past use passing
// through Expired, where its value is dropped.
func TestCacheRunsAreObservable(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var steps []string
	obs := engine.ObserverFunc(func(r engine.Record) {
		step := r.From + " -" + r.Event + "-> " + r.To
		if r.Err != nil {
			step += " (unhandled)"
		}
		steps = append(steps, step)
	})
	c := mustCache(t, cache.Config{TTL: time.Minute, MaxStale: -1}, clk, engine.WithObserver(obs))
	c.Put("k", "v")
	clk.Advance(time.Minute)
	steps = nil
	_, _, _, ok := c.Get("k")
	assert.False(t, ok, "a value past use was served")
	want := []string{"Unknown -recall-> Expired", "Expired -evict-> Absent", "Absent -read-> Absent"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

// editDefinition rebuilds Definition with its transitions passed through
// edit, which may change one and reports whether to keep it.
func editDefinition(t *testing.T, edit func(*transitions.Spec[cache.State, cache.Event, cache.Data]) bool) *fsm.Definition[cache.State, cache.Event, cache.Data] {
	t.Helper()
	def, err := cache.Definition().Edit(edit).Build()
	require.NoError(t, err)
	return def
}

func actionNamed(tr *transitions.Spec[cache.State, cache.Event, cache.Data], name string) bool {
	return len(tr.Actions) > 0 && tr.Actions[0].Name == name
}

// TestDefinitionDrivesBehaviour edits a guard or an edge of the cache
// entry machine, and the cache behaves accordingly.
func TestDefinitionDrivesBehaviour(t *testing.T) {
	t.Run("fresh for twice the TTL: a hit past the TTL", func(t *testing.T) {
		twice := transitions.If("age < 2 TTL", func(m states.Machine[cache.State, cache.Event, cache.Data]) bool {
			d := m.Data()
			age, ok := d.Age()
			return ok && age < 2*d.Config().TTL
		})
		def := editDefinition(t, func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
			if tr.Guard.Name() == "age < TTL" {
				tr.Guard = twice
			}
			return true
		})
		clk := enginetest.NewClock(time.Time{})
		c := minuteCache(t, clk, engine.WithDefinition(def))
		assert.Same(t, def, c.Definition(), "Definition() is not the definition given")
		c.Put("k", "old")
		clk.Advance(90 * time.Second)
		l := c.Lookup("k")
		assert.True(t, l.Hit, "90s after the store: want the entry, served fresh")
		assert.Equal(t, "old", l.Value, "90s after the store")
		assert.Equal(t, 90*time.Second, l.Age, "90s after the store")
		wantEntry(t, c, "k", cache.StateFresh)
	})
	t.Run("without the lead edges: no coalescing, though the config asks for it", func(t *testing.T) {
		def := editDefinition(t, func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
			return !actionNamed(tr, "lead")
		})
		c := minuteCache(t, enginetest.NewClock(time.Time{}), engine.WithDefinition(def))
		for i := range 2 {
			l := c.Lookup("k")
			assert.Nil(t, l.Flight, "lookup %d: want a plain miss, no flight", i)
			assert.False(t, l.Hit, "lookup %d: want a plain miss", i)
		}
		wantEntry(t, c, "k", cache.StateAbsent) // no flight: nobody led one
	})
	t.Run("without the serve-stale edges: a failure gets no stale answer", func(t *testing.T) {
		def := editDefinition(t, func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
			return !actionNamed(tr, "serve stale")
		})
		clk := enginetest.NewClock(time.Time{})
		c := minuteCache(t, clk, engine.WithDefinition(def))
		c.Put("k", "old")
		clk.Advance(2 * time.Minute)
		wantEntry(t, c, "k", cache.StateStale)
		_, _, _, ok := c.Get("k")
		assert.False(t, ok, "Get served the stale entry")
	})
	t.Run("without the recall into Fresh: nothing is ever served fresh", func(t *testing.T) {
		def := editDefinition(t, func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
			return !(tr.Event == cache.EventRecall && tr.To == cache.StateFresh)
		})
		c := minuteCache(t, enginetest.NewClock(time.Time{}), engine.WithDefinition(def))
		c.Put("k", "old")
		l := c.Lookup("k")
		assert.False(t, l.Hit, "with no way to Fresh: %+v, want no hit", l)
	})
}

func TestADefinitionOfAnotherMachineIsRefused(t *testing.T) {
	other := fsm.New[int, int, struct{}]("other")
	other.State(0, states.Initial)
	other.State(1, states.Final)
	other.On(0, 0, 1)
	_, err := cache.New[string](cache.Config{}, engine.WithDefinition(other.MustBuild()))
	var ce *setup.ConfigError
	require.ErrorAs(t, err, &ce, "New with a definition of other types")
	assert.Equal(t, "cache.Config", ce.Config, "New with a definition of other types")
	assert.Equal(t, "Definition", ce.Field, "New with a definition of other types")
}

func TestInvalidConfigNamesTheField(t *testing.T) {
	for field, cfg := range map[string]cache.Config{
		"TTL":        {TTL: -time.Second},
		"MaxEntries": {MaxEntries: -1},
	} {
		_, err := cache.New[int](cfg)
		var ce *setup.ConfigError
		if assert.ErrorAs(t, err, &ce, field) {
			assert.Equal(t, "cache.Config", ce.Config, field)
			assert.Equal(t, field, ce.Field)
		}
	}
}

// A zero Config is DefaultConfig, field by field, and each zero field of
// a Config means its default.
func TestZeroConfigMeansTheDefaults(t *testing.T) {
	def := cache.DefaultConfig()
	for name, cfg := range map[string]cache.Config{
		"zero":          {},
		"DefaultConfig": def,
	} {
		c, err := cache.New[int](cfg)
		require.NoError(t, err)
		// Key is a func: cmp counts two funcs equal only when both are nil.
		if diff := cmp.Diff(def, c.Config()); diff != "" {
			t.Errorf("%s resolves to a config that is not DefaultConfig() (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff(cache.Config{TTL: 300 * time.Second, MaxEntries: 1000}, def); diff != "" {
		t.Errorf("DefaultConfig(): want a 300s TTL, 1000 entries, stale until evicted, coalescing, one key (-want +got):\n%s", diff)
	}
	c, err := cache.New[int](cache.Config{TTL: time.Second})
	require.NoError(t, err)
	got := c.Config()
	assert.Equal(t, time.Second, got.TTL, "a Config naming only its TTL: want that TTL")
	assert.Equal(t, 1000, got.MaxEntries, "a Config naming only its TTL: want 1000 entries")
}
