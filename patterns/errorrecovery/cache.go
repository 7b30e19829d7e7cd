package errorrecovery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
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

// CacheOption configures a ResultCache.
type CacheOption func(*cacheOptions)

type cacheOptions struct {
	def      *fsm.Definition[CacheEntryState, CacheEntryEvent, CacheEntryData]
	observer engine.Observer
}

// WithCacheDefinition makes the cache run def instead of
// CacheEntryDefinition, such as a copy of it with an edge removed or a
// guard changed. The cache carries out what def's actions decide: which
// value is served, as fresh or stale, which call leads the load of a
// value and which join it, what is stored, dropped and released. Only the
// actions of CacheEntryDefinition can decide (CacheEntryData keeps its
// decision fields to them), so def reuses them, from its Transitions.
// Whatever def decides, the cache serves only a value it holds, and a
// call in flight has one leader. Nil means CacheEntryDefinition.
func WithCacheDefinition(def *fsm.Definition[CacheEntryState, CacheEntryEvent, CacheEntryData]) CacheOption {
	return func(o *cacheOptions) { o.def = def }
}

// WithCacheObserver attaches an observer to every run of the cache's
// machine: two steps or more for each lookup, store, release and
// eviction. Nil means none.
func WithCacheObserver(obs engine.Observer) CacheOption {
	return func(o *cacheOptions) { o.observer = obs }
}

// ResultCache is the CACHE strategy's shared cache: an LRU of results
// with a time to live. What a key's entry answers, and what becomes of it,
// the cache entry machine decides (Definition, CacheEntryDefinition by
// default): each lookup, store, release of a coalesced call and eviction
// is one engine Run of that machine over the entry's record, taken under
// the cache's lock, and the cache carries out what the run decided. A hit
// allocates nothing.
//
// A ResultCache is safe for concurrent use and may be shared by workflows
// of the same result type.
type ResultCache[T any] struct {
	cfg    CacheConfig
	clock  engine.Clock
	runner *engine.Runner[CacheEntryState, CacheEntryEvent, CacheEntryData]

	mu sync.Mutex // guards the fields below; every run of the machine is taken under it
	// entries holds every key with a value or a call in flight.
	entries map[string]*cacheEntry[T]
	// head and tail are the entries holding a value, most recently used
	// first; n counts them.
	head, tail *cacheEntry[T]
	n          int
	// spare is the record of the last key dropped from entries, reused
	// by the next key added, so that a key evicted for another, or a call
	// led and released for a key with no value, allocates no record.
	spare *cacheEntry[T]
}

// cacheEntry is one key's record.
type cacheEntry[T any] struct {
	key        string
	value      T
	stored     time.Time      // when value was stored; zero when there is none
	call       *cacheCall[T]  // the call in flight for the key, or nil
	linked     bool           // in the LRU list: stored is set
	prev, next *cacheEntry[T] // in the LRU list
}

// cacheCall is a call in flight that coalesced callers wait for. Its
// fields are written once, by its leader, before done is closed.
type cacheCall[T any] struct {
	done   chan struct{}
	value  T
	source Source        // where the leader's answer came from
	age    time.Duration // of the leader's answer, when it came from a cache
	err    error
}

// cacheAnswer is what one run of the entry machine answers its caller.
type cacheAnswer[T any] struct {
	verdict cacheVerdict
	value   T             // cacheServeFresh, cacheServeStale
	age     time.Duration // of value
	call    *cacheCall[T] // cacheJoin, cacheLead
}

// NewResultCache returns an empty ResultCache, or the *ConfigError of the
// first invalid field. A nil clock means the real one.
func NewResultCache[T any](cfg CacheConfig, clock engine.Clock, opts ...CacheOption) (*ResultCache[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o cacheOptions
	for _, opt := range opts {
		opt(&o)
	}
	if clock == nil {
		clock = engine.RealClock{}
	}
	if o.def == nil {
		o.def = CacheEntryDefinition()
	}
	eopts := []engine.Option{engine.WithClock(clock)}
	if o.observer != nil {
		eopts = append(eopts, engine.WithObserver(o.observer))
	}
	c := &ResultCache[T]{cfg: cfg, clock: clock, entries: map[string]*cacheEntry[T]{}}
	c.runner = engine.NewRunner(o.def, eopts...)
	return c, nil
}

// Definition returns the cache entry machine the cache runs.
func (c *ResultCache[T]) Definition() *fsm.Definition[CacheEntryState, CacheEntryEvent, CacheEntryData] {
	return c.runner.Definition()
}

// Config returns the cache's configuration.
func (c *ResultCache[T]) Config() CacheConfig { return c.cfg }

// Len reports the number of entries holding a value, stale ones included.
func (c *ResultCache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// EntryState reports where key's entry stands now: the state a run of
// the machine places it in. Like every lookup, it drops a value past use.
func (c *ResultCache[T]) EntryState(key string) CacheEntryState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, _ := c.stepLocked(key, CacheEntryRecall, nil)
	return s
}

// key returns the entry key of a call.
func (c *ResultCache[T]) key(ctx context.Context) string {
	if c.cfg.Key == nil {
		return ""
	}
	return c.cfg.Key(ctx)
}

// Get returns the value for key and its age, as a failed call would read
// it (the read event): fresh reports a value within its TTL; a stale one
// (past its TTL, kept because StaleOnError is set, within MaxStale) comes
// with fresh false; ok is false when there is neither. A value past all
// use is dropped.
func (c *ResultCache[T]) Get(key string) (value T, age time.Duration, fresh, ok bool) {
	a := c.read(key)
	switch a.verdict {
	case cacheServeFresh:
		return a.value, a.age, true, true
	case cacheServeStale:
		return a.value, a.age, false, true
	}
	return value, 0, false, false
}

// Put stores value under key (the store event), then evicts the least
// recently used value when there are more than MaxEntries.
func (c *ResultCache[T]) Put(key string, value T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stepLocked(key, CacheEntryStore, &value)
	if c.n > c.cfg.MaxEntries {
		c.stepLocked(c.tail.key, CacheEntryEvict, nil)
	}
}

// Clear evicts every value. Calls in flight go on, and are released as
// usual.
func (c *ResultCache[T]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.head; e != nil; {
		next := e.next
		c.stepLocked(e.key, CacheEntryEvict, nil)
		e = next
	}
}

// lookup is the lookup event, for the Lookup state of a call: a fresh
// value, the call in flight to join, or the call to lead.
func (c *ResultCache[T]) lookup(key string) cacheAnswer[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, a := c.stepLocked(key, CacheEntryLookup, nil)
	return a
}

// read is the read event, for Get and the Fallback state of a call.
func (c *ResultCache[T]) read(key string) cacheAnswer[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, a := c.stepLocked(key, CacheEntryRead, nil)
	return a
}

// publish ends the call a leader led (the release event), and hands its
// result to those who joined it. They are let go whatever the machine
// decides; while the machine keeps the call in flight, later lookups that
// join it get the same result at once.
func (c *ResultCache[T]) publish(key string, call *cacheCall[T], value T, source Source, age time.Duration, err error) {
	c.mu.Lock()
	if e := c.entries[key]; e != nil && e.call == call {
		c.stepLocked(key, CacheEntryRelease, nil)
	}
	c.mu.Unlock()
	call.value, call.source, call.age, call.err = value, source, age, err
	close(call.done)
}

// stepLocked runs the entry machine for key: recall, then ev (unless ev is
// the recall itself), and carries out what the run decided; value is what
// a store stores. It returns the state the run ended in and its answer.
// c.mu must be held.
func (c *ResultCache[T]) stepLocked(key string, ev CacheEntryEvent, value *T) (CacheEntryState, cacheAnswer[T]) {
	now := c.clock.Now()
	e := c.entries[key]
	data := CacheEntryData{cfg: &c.cfg}
	if e != nil {
		data.loading = e.call != nil
		if e.linked {
			data.held, data.age = true, now.Sub(e.stored)
		}
	}
	s, d := c.run(data, ev)
	var a cacheAnswer[T]
	if e == nil {
		if d.effects&cacheStored == 0 && d.verdict != cacheLead {
			return s, a // nothing to keep, nothing to serve
		}
		if e = c.spare; e != nil {
			c.spare = nil
		} else {
			e = new(cacheEntry[T])
		}
		e.key = key
		c.entries[key] = e
	}
	if d.effects&cacheDropped != 0 && e.linked {
		var zero T
		c.unlink(e)
		e.value, e.stored = zero, time.Time{}
	}
	if d.effects&cacheStored != 0 && value != nil {
		e.value, e.stored = *value, now
		c.toFront(e)
	}
	switch a.verdict = d.verdict; a.verdict {
	case cacheServeFresh, cacheServeStale:
		if !e.linked {
			a.verdict = cacheNothing // no value to serve
			break
		}
		if a.verdict == cacheServeFresh {
			c.toFront(e)
		}
		a.value, a.age = e.value, data.age
		if d.effects&cacheStored != 0 {
			a.age = 0
		}
	case cacheLead:
		if e.call != nil {
			a.verdict = cacheJoin // one leader per call
		} else {
			e.call = &cacheCall[T]{done: make(chan struct{})}
		}
		a.call = e.call
	case cacheJoin:
		if a.call = e.call; a.call == nil {
			a.verdict = cacheNothing // no call to join
		}
	}
	if d.effects&cacheReleased != 0 {
		e.call = nil
	}
	if !e.linked && e.call == nil {
		delete(c.entries, key)
		*e = cacheEntry[T]{}
		c.spare = e
	}
	return s, a
}

// run takes one run of the machine from data: recall, then ev unless ev
// is the recall itself. It returns the state the run ended in and what it
// decided. An event the machine does not handle changes nothing further;
// a panic in a guard or action goes on, with its original value.
func (c *ResultCache[T]) run(data CacheEntryData, ev CacheEntryEvent) (CacheEntryState, runDecision) {
	ctx := context.Background()
	r, err := c.runner.Start(ctx, data)
	if err == nil {
		_, err = r.Fire(ctx, CacheEntryRecall)
	}
	if err == nil && ev != CacheEntryRecall {
		_, err = r.Fire(ctx, ev)
	}
	d := r.Data()
	s, dec := r.State(), runDecision{verdict: d.verdict, effects: d.effects}
	r.Release()
	if err != nil {
		if pe, ok := errors.AsType[*engine.PanicError](err); ok {
			panic(pe.Value)
		}
	}
	return s, dec
}

// runDecision is what a run of the entry machine decided.
type runDecision struct {
	verdict cacheVerdict
	effects cacheEffect
}

// toFront makes e, which holds a value, the most recently used.
func (c *ResultCache[T]) toFront(e *cacheEntry[T]) {
	if c.head == e {
		return
	}
	if e.linked {
		c.unlink(e)
	}
	e.linked, e.prev, e.next = true, nil, c.head
	if c.head != nil {
		c.head.prev = e
	} else {
		c.tail = e
	}
	c.head = e
	c.n++
}

// unlink takes e out of the LRU list.
func (c *ResultCache[T]) unlink(e *cacheEntry[T]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.linked, e.prev, e.next = false, nil, nil
	c.n--
}
