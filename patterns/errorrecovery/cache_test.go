package errorrecovery_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

func mustCache(t *testing.T, cfg er.CacheConfig, clk *enginetest.Clock, opts ...er.CacheOption) *er.ResultCache[string] {
	t.Helper()
	c, err := er.NewResultCache[string](cfg, clk, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// minuteCache is a cache whose entries are fresh for a minute, then kept
// stale for an hour, with coalescing.
func minuteCache(t *testing.T, clk *enginetest.Clock, opts ...er.CacheOption) *er.ResultCache[string] {
	t.Helper()
	cfg := er.DefaultCacheConfig()
	cfg.TTL, cfg.MaxStale = time.Minute, time.Hour
	return mustCache(t, cfg, clk, opts...)
}

// cacheOnly is a workflow with CACHE alone, over c.
func cacheOnly(t *testing.T, c *er.ResultCache[string], clk *enginetest.Clock) *er.Workflow[string] {
	t.Helper()
	return mustWorkflow(t, er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, ResultCache: c}, engine.WithClock(clk))
}

func answer(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return v, nil }
}

func failWith(context.Context) (string, error) { return "", errFlaky }

func wantEntry(t *testing.T, c *er.ResultCache[string], key string, want er.CacheEntryState) {
	t.Helper()
	if got := c.EntryState(key); got != want {
		t.Errorf("entry %q is %v, want %v", key, got, want)
	}
}

func TestCacheTTLIsHonoured(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := er.DefaultCacheConfig()
	cfg.TTL, cfg.StaleOnError = time.Minute, false
	c := mustCache(t, cfg, clk)
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
	wantEntry(t, c, "k", er.CacheEntryAbsent)
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
	clk.Advance(31 * time.Minute)
	if _, _, _, ok := c.Get("k"); ok {
		t.Error("served past MaxStale")
	}
}

func TestCacheLRUBound(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := er.DefaultCacheConfig()
	cfg.MaxEntries = 2
	c := mustCache(t, cfg, clk)
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
	wantEntry(t, c, "a", er.CacheEntryAbsent)
}

// TestCacheEntryLifecycle follows one entry through its states on the
// manual clock: Absent, Fresh for TTL, Stale for MaxStale, then dropped.
func TestCacheEntryLifecycle(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	c := minuteCache(t, clk)
	wantEntry(t, c, "k", er.CacheEntryAbsent)
	c.Put("k", "v")
	wantEntry(t, c, "k", er.CacheEntryFresh)
	clk.Advance(time.Minute - time.Nanosecond)
	wantEntry(t, c, "k", er.CacheEntryFresh)
	clk.Advance(time.Nanosecond) // age == TTL: no longer fresh
	wantEntry(t, c, "k", er.CacheEntryStale)
	clk.Advance(time.Hour - time.Nanosecond)
	wantEntry(t, c, "k", er.CacheEntryStale)
	if c.Len() != 1 {
		t.Errorf("len %d, want the stale entry kept", c.Len())
	}
	clk.Advance(time.Nanosecond) // age == TTL + MaxStale: past use
	wantEntry(t, c, "k", er.CacheEntryAbsent)
	if c.Len() != 0 {
		t.Errorf("len %d, want the entry past use dropped", c.Len())
	}
	c.Put("k", "again")
	wantEntry(t, c, "k", er.CacheEntryFresh)
}

// TestCacheRunsAreObservable shows a lookup of an entry past use passing
// through Expired, where its value is dropped.
func TestCacheRunsAreObservable(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := er.DefaultCacheConfig()
	cfg.TTL, cfg.StaleOnError = time.Minute, false
	var steps []string
	obs := engine.ObserverFunc(func(r engine.Record) {
		step := r.From + " -" + r.Event + "-> " + r.To
		if r.Err != nil {
			step += " (unhandled)"
		}
		steps = append(steps, step)
	})
	c := mustCache(t, cfg, clk, er.WithCacheObserver(obs))
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

// An expired entry is never served as fresh: once its age reaches the TTL,
// a call gets the function's answer, whether or not the entry is kept
// stale.
func TestCacheExpiredEntryIsNeverServedAsFresh(t *testing.T) {
	for _, stale := range []bool{false, true} {
		clk := enginetest.NewClock(time.Time{})
		cfg := er.DefaultCacheConfig()
		cfg.TTL, cfg.StaleOnError = time.Minute, stale
		c := mustCache(t, cfg, clk)
		w := cacheOnly(t, c, clk)
		ctx := context.Background()
		w.Execute(ctx, answer("old"))
		clk.Advance(time.Minute - time.Nanosecond)
		if r, _ := w.ExecuteResult(ctx, answer("new")); r.Value != "old" || r.Source != er.SourceCache {
			t.Errorf("stale=%v, just within the TTL: %+v, want the fresh entry", stale, r)
		}
		clk.Advance(time.Nanosecond)
		if r, _ := w.ExecuteResult(ctx, answer("new")); r.Value != "new" || r.Source != er.SourceFunction {
			t.Errorf("stale=%v, at the TTL: %+v, want the function's answer", stale, r)
		}
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
	if err != nil || r.Value != "old" || r.Source != er.SourceStaleCache || r.Age != 30*time.Minute {
		t.Errorf("a failure 30m after the store: %+v %v, want the stale entry, 30m old", r, err)
	}
	if r, _ := w.ExecuteResult(ctx, answer("new")); r.Value != "new" || r.Source != er.SourceFunction {
		t.Errorf("a success while the entry is stale: %+v, want the function's answer", r)
	}
	clk.Advance(time.Minute + time.Hour) // "new" is now past TTL + MaxStale
	if _, err := w.ExecuteResult(ctx, failWith); !errors.Is(err, errFlaky) {
		t.Errorf("a failure past MaxStale: %v, want the function's error", err)
	}
	wantEntry(t, c, "", er.CacheEntryAbsent)
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
		wantEntry(t, c, "", er.CacheEntryLoading)
		close(release)
		var hits int
		for range 3 {
			switch r := <-results; {
			case r.Value != "v":
				t.Errorf("got %+v", r)
			case r.Source == er.SourceCache:
				hits++
				if r.Age != 0 {
					t.Errorf("a follower's age %v, want the leader's fresh answer, 0 old", r.Age)
				}
			}
		}
		if calls.Load() != 1 || hits != 2 {
			t.Errorf("%d calls of the function and %d hits, want 1 and 2", calls.Load(), hits)
		}
		wantEntry(t, c, "", er.CacheEntryFresh)
	})
}

// editCacheEntry rebuilds CacheEntryDefinition with its transitions passed
// through edit, which may change one and reports whether to keep it.
func editCacheEntry(t *testing.T, edit func(*transitions.Spec[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData]) bool) *fsm.Definition[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData] {
	t.Helper()
	std := er.CacheEntryDefinition()
	b := fsm.New[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData](std.Name())
	b.CommitRegardless()
	for _, s := range std.StateSpecs() {
		if s.Kind == states.Choice {
			b.Choice(s.ID, s.Choose)
		} else {
			b.State(s.ID, s.Kind)
		}
	}
	for _, tr := range std.Transitions() {
		if !edit(&tr) {
			continue
		}
		sp := b.On(tr.From, tr.Event, tr.To).When(tr.Guard).Do(tr.Actions...)
		if tr.Internal {
			sp.AsInternal()
		}
	}
	def, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func cacheActionNamed(tr *transitions.Spec[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData], name string) bool {
	return len(tr.Actions) > 0 && tr.Actions[0].Name == name
}

// TestCacheEntryDefinitionDrivesBehaviour edits a guard or an edge of the
// cache entry machine, and the cache behaves accordingly.
func TestCacheEntryDefinitionDrivesBehaviour(t *testing.T) {
	ctx := context.Background()
	t.Run("fresh for twice the TTL: a hit past the TTL", func(t *testing.T) {
		twice := transitions.If("age < 2 TTL", func(m states.Machine[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData]) bool {
			d := m.Data()
			age, ok := d.Age()
			return ok && age < 2*d.Config().TTL
		})
		def := editCacheEntry(t, func(tr *transitions.Spec[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData]) bool {
			if tr.Guard.Name() == "age < TTL" {
				tr.Guard = twice
			}
			return true
		})
		clk := enginetest.NewClock(time.Time{})
		c := minuteCache(t, clk, er.WithCacheDefinition(def))
		if c.Definition() != def {
			t.Error("Definition() is not the definition given")
		}
		w := cacheOnly(t, c, clk)
		w.Execute(ctx, answer("old"))
		clk.Advance(90 * time.Second)
		if r, _ := w.ExecuteResult(ctx, answer("new")); r.Value != "old" || r.Source != er.SourceCache || r.Age != 90*time.Second {
			t.Errorf("90s after the store: %+v, want the entry, served fresh", r)
		}
		wantEntry(t, c, "", er.CacheEntryFresh)
	})
	t.Run("without the lead edges: no coalescing, though the config asks for it", func(t *testing.T) {
		def := editCacheEntry(t, func(tr *transitions.Spec[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData]) bool {
			return !cacheActionNamed(tr, "lead")
		})
		synctest.Test(t, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			c := minuteCache(t, clk, er.WithCacheDefinition(def))
			w := cacheOnly(t, c, clk)
			var calls atomic.Int32
			release := make(chan struct{})
			done := make(chan struct{})
			for range 2 {
				go func() {
					defer func() { done <- struct{}{} }()
					w.Execute(ctx, func(context.Context) (string, error) {
						calls.Add(1)
						<-release
						return "v", nil
					})
				}()
			}
			synctest.Wait()
			wantEntry(t, c, "", er.CacheEntryAbsent) // no call in flight: nobody led one
			close(release)
			<-done
			<-done
			if calls.Load() != 2 {
				t.Errorf("%d calls of the function, want one per caller", calls.Load())
			}
		})
	})
	t.Run("without the serve-stale edges: a failure gets no stale answer", func(t *testing.T) {
		def := editCacheEntry(t, func(tr *transitions.Spec[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData]) bool {
			return !cacheActionNamed(tr, "serve stale")
		})
		clk := enginetest.NewClock(time.Time{})
		c := minuteCache(t, clk, er.WithCacheDefinition(def))
		w := cacheOnly(t, c, clk)
		w.Execute(ctx, answer("old"))
		clk.Advance(2 * time.Minute)
		if _, err := w.ExecuteResult(ctx, failWith); !errors.Is(err, errFlaky) {
			t.Errorf("a failure with a stale entry: %v, want the function's error", err)
		}
		if _, _, _, ok := c.Get(""); ok {
			t.Error("Get served the stale entry")
		}
	})
	t.Run("without the recall into Fresh: nothing is ever served fresh", func(t *testing.T) {
		def := editCacheEntry(t, func(tr *transitions.Spec[er.CacheEntryState, er.CacheEntryEvent, er.CacheEntryData]) bool {
			return !(tr.Event == er.CacheEntryRecall && tr.To == er.CacheEntryFresh)
		})
		clk := enginetest.NewClock(time.Time{})
		c := minuteCache(t, clk, er.WithCacheDefinition(def))
		w := cacheOnly(t, c, clk)
		w.Execute(ctx, answer("old"))
		if r, _ := w.ExecuteResult(ctx, answer("new")); r.Source != er.SourceFunction {
			t.Errorf("with no way to Fresh: %+v, want the function's answer", r)
		}
	})
}

func TestInvalidCacheConfigNamesTheField(t *testing.T) {
	for field, edit := range map[string]func(*er.CacheConfig){
		"TTL":        func(c *er.CacheConfig) { c.TTL = 0 },
		"MaxEntries": func(c *er.CacheConfig) { c.MaxEntries = 0 },
		"MaxStale":   func(c *er.CacheConfig) { c.MaxStale = -1 },
	} {
		cfg := er.DefaultCacheConfig()
		edit(&cfg)
		_, err := er.NewResultCache[int](cfg, nil)
		var ce *er.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}
