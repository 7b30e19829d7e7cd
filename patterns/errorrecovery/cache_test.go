package errorrecovery_test

import (
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func mustCache(t *testing.T, cfg er.CacheConfig, clk *enginetest.Clock) *er.ResultCache[string] {
	t.Helper()
	c, err := er.NewResultCache[string](cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	return c
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
	if c.Len() != 0 || c.State() != er.CacheEmpty {
		t.Errorf("expired entry kept: len %d, state %v", c.Len(), c.State())
	}
}

func TestCacheStaleEntriesServeOnlyAsStaleWithTheirAge(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := er.DefaultCacheConfig()
	cfg.TTL, cfg.MaxStale = time.Minute, time.Hour
	c := mustCache(t, cfg, clk)
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
}

func TestCacheMachineTracksEntries(t *testing.T) {
	c := mustCache(t, er.DefaultCacheConfig(), enginetest.NewClock(time.Time{}))
	if c.State() != er.CacheEmpty {
		t.Fatal(c.State())
	}
	c.Put("a", "1")
	c.Put("b", "2")
	if c.State() != er.CacheFilled {
		t.Errorf("state %v after puts", c.State())
	}
	c.Clear()
	if c.State() != er.CacheEmpty || c.Len() != 0 {
		t.Errorf("state %v len %d after Clear", c.State(), c.Len())
	}
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
