package cache_test

import (
	"errors"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// minuteCache is a cache whose entries are fresh for a minute, then kept
// stale for an hour, with coalescing.
func minuteCache(t *testing.T, clk *enginetest.Clock, opts ...engine.Option) *cache.Cache[string] {
	t.Helper()
	return mustCache(t, cache.Config{TTL: time.Minute, MaxStale: time.Hour}, clk, opts...)
}

func wantEntry(t *testing.T, c *cache.Cache[string], key string, want cache.State) {
	t.Helper()
	if got := c.State(key); got != want {
		t.Errorf("entry %q is %v, want %v", key, got, want)
	}
}

func TestCacheTTLIsHonoured(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{TTL: time.Minute, MaxStale: -1}, clk)
	c.Put("k", "v")
	clk.Advance(59 * time.Second)
	if v, age, fresh, ok := c.Get("k"); !ok || !fresh || v != "v" || age != 59*time.Second {
		t.Errorf("at 59s: %q %v fresh=%v ok=%v", v, age, fresh, ok)
	}
	clk.Advance(time.Second)
	if _, _, _, ok := c.Get("k"); ok {
		t.Error("an expired entry was served")
	}
	if c.Len() != 0 {
		t.Errorf("expired entry kept: len %d", c.Len())
	}
	wantEntry(t, c, "k", cache.StateAbsent)
}

func TestCacheStaleEntriesServeOnlyAsStaleWithTheirAge(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	c.Put("k", "v")
	clk.Advance(30 * time.Minute)
	v, age, fresh, ok := c.Get("k")
	if !ok || fresh || v != "v" || age != 30*time.Minute {
		t.Errorf("stale: %q %v fresh=%v ok=%v; want a stale entry 30m old", v, age, fresh, ok)
	}
	if l := c.Lookup("k"); l.Hit {
		t.Errorf("a lookup was answered by the stale entry: %+v", l)
	}
	clk.Advance(31 * time.Minute)
	if _, _, _, ok := c.Get("k"); ok {
		t.Error("served past MaxStale")
	}
}

// A zero MaxStale keeps a stale entry until it is evicted.
func TestCacheZeroMaxStaleKeepsStaleEntriesUntilEvicted(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{TTL: time.Minute, MaxEntries: 1}, clk)
	c.Put("a", "1")
	clk.Advance(1000 * time.Hour)
	if v, _, fresh, ok := c.Get("a"); !ok || fresh || v != "1" {
		t.Errorf("1000h after the store: %q fresh=%v ok=%v, want the stale entry", v, fresh, ok)
	}
	c.Put("b", "2")
	if _, _, _, ok := c.Get("a"); ok {
		t.Error("a, evicted by b, was served")
	}
}

func TestCacheLRUBound(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := mustCache(t, cache.Config{MaxEntries: 2}, clk)
	c.Put("a", "1")
	c.Put("b", "2")
	c.Get("a") // a is now the most recent
	c.Put("c", "3")
	if _, _, _, ok := c.Get("b"); ok {
		t.Error("b, the least recently used, was not evicted")
	}
	for _, k := range []string{"a", "c"} {
		if _, _, _, ok := c.Get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if c.Len() != 2 {
		t.Errorf("len %d, want 2", c.Len())
	}
	c.Clear()
	if c.Len() != 0 {
		t.Errorf("len %d after Clear", c.Len())
	}
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
	if c.Len() != 1 {
		t.Errorf("len %d, want the stale entry kept", c.Len())
	}
	clk.Advance(time.Nanosecond) // age == TTL + MaxStale: past use
	wantEntry(t, c, "k", cache.StateAbsent)
	if c.Len() != 0 {
		t.Errorf("len %d, want the entry past use dropped", c.Len())
	}
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
	if _, _, _, ok := c.Get("k"); ok {
		t.Error("a value past use was served")
	}
	want := []string{"Unknown -recall-> Expired", "Expired -evict-> Absent", "Absent -read-> Absent"}
	if len(steps) != len(want) {
		t.Fatalf("steps %q, want %q", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d: %q, want %q", i, steps[i], want[i])
		}
	}
}

// editDefinition rebuilds Definition with its transitions passed through
// edit, which may change one and reports whether to keep it.
func editDefinition(t *testing.T, edit func(*transitions.Spec[cache.State, cache.Event, cache.Data]) bool) *fsm.Definition[cache.State, cache.Event, cache.Data] {
	t.Helper()
	def, err := cache.Definition().Edit(edit).Build()
	if err != nil {
		t.Fatal(err)
	}
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
		if c.Definition() != def {
			t.Error("Definition() is not the definition given")
		}
		c.Put("k", "old")
		clk.Advance(90 * time.Second)
		if l := c.Lookup("k"); !l.Hit || l.Value != "old" || l.Age != 90*time.Second {
			t.Errorf("90s after the store: %+v, want the entry, served fresh", l)
		}
		wantEntry(t, c, "k", cache.StateFresh)
	})
	t.Run("without the lead edges: no coalescing, though the config asks for it", func(t *testing.T) {
		def := editDefinition(t, func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
			return !actionNamed(tr, "lead")
		})
		c := minuteCache(t, enginetest.NewClock(time.Time{}), engine.WithDefinition(def))
		for i := range 2 {
			if l := c.Lookup("k"); l.Flight != nil || l.Hit {
				t.Errorf("lookup %d: %+v, want a plain miss", i, l)
			}
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
		if _, _, _, ok := c.Get("k"); ok {
			t.Error("Get served the stale entry")
		}
	})
	t.Run("without the recall into Fresh: nothing is ever served fresh", func(t *testing.T) {
		def := editDefinition(t, func(tr *transitions.Spec[cache.State, cache.Event, cache.Data]) bool {
			return !(tr.Event == cache.EventRecall && tr.To == cache.StateFresh)
		})
		c := minuteCache(t, enginetest.NewClock(time.Time{}), engine.WithDefinition(def))
		c.Put("k", "old")
		if l := c.Lookup("k"); l.Hit {
			t.Errorf("with no way to Fresh: %+v, want no hit", l)
		}
	})
}

func TestADefinitionOfAnotherMachineIsRefused(t *testing.T) {
	other := fsm.New[int, int, struct{}]("other")
	other.State(0, states.Initial)
	other.State(1, states.Final)
	other.On(0, 0, 1)
	_, err := cache.New[string](cache.Config{}, engine.WithDefinition(other.MustBuild()))
	var ce *setup.ConfigError
	if !errors.As(err, &ce) || ce.Config != "cache.Config" || ce.Field != "Definition" {
		t.Errorf("New with a definition of other types: %v, want a *ConfigError naming Definition", err)
	}
}

func TestInvalidConfigNamesTheField(t *testing.T) {
	for field, cfg := range map[string]cache.Config{
		"TTL":        {TTL: -time.Second},
		"MaxEntries": {MaxEntries: -1},
	} {
		_, err := cache.New[int](cfg)
		var ce *setup.ConfigError
		if !errors.As(err, &ce) || ce.Config != "cache.Config" || ce.Field != field {
			t.Errorf("%s: %v", field, err)
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
		if err != nil {
			t.Fatal(err)
		}
		got := c.Config()
		if got.TTL != def.TTL || got.MaxEntries != def.MaxEntries || got.MaxStale != def.MaxStale ||
			got.DisableCoalescing != def.DisableCoalescing || got.Key != nil {
			t.Errorf("%s resolves to %+v, want %+v", name, got, def)
		}
	}
	if def.TTL != 300*time.Second || def.MaxEntries != 1000 || def.MaxStale != 0 || def.DisableCoalescing || def.Key != nil {
		t.Errorf("DefaultConfig() = %+v, want a 300s TTL, 1000 entries, stale until evicted, coalescing, one key", def)
	}
	c, err := cache.New[int](cache.Config{TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Config(); got.TTL != time.Second || got.MaxEntries != 1000 {
		t.Errorf("a Config naming only its TTL resolves to %+v, want that TTL and 1000 entries", got)
	}
}
