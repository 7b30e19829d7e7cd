package errorrecovery

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// CacheConfig configures the CACHE strategy, and the cache a fallback uses
// (FallbackConfig.UseCache).
type CacheConfig struct {
	// TTL is how long an entry is fresh; it must be positive.
	TTL time.Duration
	// MaxEntries bounds the entries kept; the least recently used goes
	// first. It must be at least 1.
	MaxEntries int
	// Key computes the entry a call reads and writes from its context (a
	// user id, a URL). Nil means one entry for every call.
	Key func(ctx context.Context) string
	// StaleOnError keeps expired entries so that a failed call can be
	// answered with one, reporting its age. A stale entry is never served
	// as fresh.
	StaleOnError bool
	// MaxStale bounds how long after expiry a stale entry may be served.
	// Zero means until it is evicted.
	MaxStale time.Duration
	// Coalesce makes concurrent calls for the same key wait for one call
	// to the function and share its result.
	Coalesce bool
}

// DefaultCacheConfig returns a 300 s TTL (the original library's
// cache_ttl), 1000 entries, stale entries served on error, coalescing on.
func DefaultCacheConfig() CacheConfig {
	return CacheConfig{TTL: 300 * time.Second, MaxEntries: 1000, StaleOnError: true, Coalesce: true}
}

// Validate reports the first invalid field as a *ConfigError.
func (c *CacheConfig) Validate() error {
	const name = "CacheConfig"
	switch {
	case c.TTL <= 0:
		return configErr(name, "TTL", c.TTL, "must be positive")
	case c.MaxEntries < 1:
		return configErr(name, "MaxEntries", c.MaxEntries, "must be at least 1")
	case c.MaxStale < 0:
		return configErr(name, "MaxStale", c.MaxStale, "must not be negative (zero means until evicted)")
	}
	return nil
}

// CacheState is a state of the cache machine.
type CacheState uint8

// The cache's states.
const (
	CacheEmpty  CacheState = iota // no entry
	CacheFilled                   // at least one entry
)

var cacheStateNames = []string{"Empty", "Filled"}

// String returns the state's name.
func (s CacheState) String() string { return enum.StringOr(cacheStateNames, s, "Empty") }

// CacheEvent is an event of the cache machine.
type CacheEvent uint8

// The cache's events, fired while the cache's lock is held, after the
// entries changed.
const (
	CacheStored  CacheEvent = iota // an entry was stored
	CacheRemoved                   // an entry expired, was evicted or dropped
	CacheCleared                   // every entry was dropped
)

var cacheEventNames = []string{"stored", "removed", "cleared"}

// String returns the event's name.
func (e CacheEvent) String() string { return enum.StringOr(cacheEventNames, e, "CacheEvent(?)") }

// cacheEntries is the cache machine's data: where to read how many entries
// there are. The entries live in the ResultCache, under its lock, which is
// held whenever the machine fires.
type cacheEntries struct{ n *int }

type cacheMachine = states.Machine[CacheState, CacheEvent, cacheEntries]

var cacheDefinition = func() *fsm.Definition[CacheState, CacheEvent, cacheEntries] {
	b := fsm.New[CacheState, CacheEvent, cacheEntries]("cache")
	b.State(CacheEmpty, states.Initial)
	b.State(CacheFilled, states.Normal)
	empty := transitions.If("no entries left", func(m cacheMachine) bool { return *m.Data().n == 0 })
	b.On(CacheEmpty, CacheStored, CacheFilled)
	b.Internal(CacheFilled, CacheStored)
	b.On(CacheFilled, CacheRemoved, CacheEmpty).When(empty)
	b.Internal(CacheFilled, CacheRemoved)
	b.On(CacheFilled, CacheCleared, CacheEmpty)
	return b.MustBuild()
}()

// ResultCache is the CACHE strategy's shared machine: an LRU of results with a
// time to live, whose Empty/Filled state is an engine Instance of
// CacheDefinition. Every change to the entries fires the matching event
// while the cache's lock is held, so the machine's state always agrees
// with the entries when the lock is free. Lookups that change nothing but
// recency fire no event. A Cache is safe for concurrent use and may be
// shared by workflows of the same result type.
type ResultCache[T any] struct {
	cfg   CacheConfig
	clock engine.Clock
	inst  *engine.Instance[CacheState, CacheEvent, cacheEntries]

	mu       sync.Mutex // guards the fields below; taken before the Instance's lock
	n        int        // len(entries), read by the machine's guard
	entries  map[string]*list.Element
	lru      list.List // of *cacheEntry, most recent first
	inflight map[string]*cacheCall[T]
}

type cacheEntry[T any] struct {
	key    string
	value  T
	stored time.Time
}

// cacheCall is a call in flight that coalesced callers wait for.
type cacheCall[T any] struct {
	done   chan struct{}
	value  T
	source Source        // where the leader's answer came from
	age    time.Duration // of the leader's answer, when it came from a cache
	err    error
}

// CacheDefinition returns the cache machine every ResultCache runs.
func CacheDefinition() *fsm.Definition[CacheState, CacheEvent, cacheEntries] {
	return cacheDefinition
}

// NewResultCache returns an empty ResultCache, or the *ConfigError of the first
// invalid field. A nil clock means the real one.
func NewResultCache[T any](cfg CacheConfig, clock engine.Clock) (*ResultCache[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = engine.RealClock{}
	}
	c := &ResultCache[T]{cfg: cfg, clock: clock, entries: map[string]*list.Element{}, inflight: map[string]*cacheCall[T]{}}
	inst, err := engine.NewInstance(cacheDefinition, cacheEntries{n: &c.n}, engine.WithClock(clock))
	if err != nil {
		return nil, err
	}
	c.inst = inst
	return c, nil
}

// Definition returns the machine the cache runs.
func (c *ResultCache[T]) Definition() *fsm.Definition[CacheState, CacheEvent, cacheEntries] {
	return cacheDefinition
}

// State reports whether the cache is Empty or Filled, with no lock.
func (c *ResultCache[T]) State() CacheState { return c.inst.State() }

// Config returns the cache's configuration.
func (c *ResultCache[T]) Config() CacheConfig { return c.cfg }

// Len reports the number of entries, stale ones included.
func (c *ResultCache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// key returns the entry key of a call.
func (c *ResultCache[T]) key(ctx context.Context) string {
	if c.cfg.Key == nil {
		return ""
	}
	return c.cfg.Key(ctx)
}

// Get returns the entry for key and its age. fresh reports an entry within
// its TTL; a stale entry (past its TTL, kept because StaleOnError is set
// and within MaxStale) is returned with fresh false; ok is false when there
// is neither. An entry past all use is dropped.
func (c *ResultCache[T]) Get(key string) (value T, age time.Duration, fresh, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, e, age, fresh := c.lookupLocked(key)
	if el == nil {
		return value, 0, false, false
	}
	if fresh {
		return e.value, age, true, true
	}
	if c.cfg.StaleOnError && (c.cfg.MaxStale == 0 || age < c.cfg.TTL+c.cfg.MaxStale) {
		return e.value, age, false, true
	}
	c.removeLocked(el)
	return value, 0, false, false
}

// lookupLocked finds key's entry and its age; a fresh one becomes the most
// recently used. c.mu must be held.
func (c *ResultCache[T]) lookupLocked(key string) (el *list.Element, e *cacheEntry[T], age time.Duration, fresh bool) {
	el, found := c.entries[key]
	if !found {
		return nil, nil, 0, false
	}
	e = el.Value.(*cacheEntry[T])
	age = c.clock.Now().Sub(e.stored)
	if fresh = age < c.cfg.TTL; fresh {
		c.lru.MoveToFront(el)
	}
	return el, e, age, fresh
}

// Put stores value under key, evicting the least recently used entry when
// the cache is full.
func (c *ResultCache[T]) Put(key string, value T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if el, found := c.entries[key]; found {
		e := el.Value.(*cacheEntry[T])
		e.value, e.stored = value, now
		c.lru.MoveToFront(el)
		c.fire(CacheStored)
		return
	}
	if len(c.entries) >= c.cfg.MaxEntries {
		c.removeLocked(c.lru.Back())
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry[T]{key: key, value: value, stored: now})
	c.fire(CacheStored)
}

// Clear drops every entry.
func (c *ResultCache[T]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == 0 {
		return
	}
	clear(c.entries)
	c.lru.Init()
	c.fire(CacheCleared)
}

func (c *ResultCache[T]) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry[T]).key)
	c.lru.Remove(el)
	c.fire(CacheRemoved)
}

// fire records a change of the entries in the cache machine. c.mu must be
// held. The machine's actions cannot fail, so neither can fire.
func (c *ResultCache[T]) fire(e CacheEvent) {
	c.n = len(c.entries)
	c.inst.Fire(context.Background(), e)
}

// getOrJoin is Get for a fresh entry, and otherwise registers interest in
// the call in flight for key, under one lock: the first caller becomes the
// call's leader (and must publish), later callers follow and wait on its
// done channel. Checking and joining together means a caller cannot miss
// the entry a leader is about to store and then miss the leader too.
func (c *ResultCache[T]) getOrJoin(key string) (value T, age time.Duration, call *cacheCall[T], leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, e, age, fresh := c.lookupLocked(key); fresh {
		return e.value, age, nil, false
	}
	if f, ok := c.inflight[key]; ok {
		return value, 0, f, false
	}
	f := &cacheCall[T]{done: make(chan struct{})}
	c.inflight[key] = f
	return value, 0, f, true
}

// publish ends the call a leader led, handing its result to its followers.
func (c *ResultCache[T]) publish(key string, call *cacheCall[T], value T, source Source, age time.Duration, err error) {
	c.mu.Lock()
	if c.inflight[key] == call {
		delete(c.inflight, key)
	}
	c.mu.Unlock()
	call.value, call.source, call.age, call.err = value, source, age, err
	close(call.done)
}
