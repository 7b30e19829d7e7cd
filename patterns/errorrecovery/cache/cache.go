package cache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Cache is a read-through cache of results: an LRU with a time to live.
// What a key's entry answers, and what becomes of it, the cache entry
// machine decides (Definition by default, or the one given with
// engine.WithDefinition): each lookup, read, store, release of a flight
// and eviction is one engine Run of that machine over the entry's record,
// taken under the cache's lock, and the cache carries out what the run
// decided. A hit allocates nothing.
//
// Get, Put and Clear use it as a plain cache; Key, Lookup and the Flight
// a lookup hands out are the read-through protocol a caller (such as an
// errorrecovery workflow) builds on.
//
// A Cache is safe for concurrent use and may be shared by workflows of the
// same result type. It must not be copied after first use.
type Cache[T any] struct {
	_      noCopy
	cfg    Config // resolved: no zero field means a default
	clock  engine.Clock
	runner *engine.Runner[State, Event, Data]

	mu sync.Mutex // guards the fields below; every run of the machine is taken under it
	// entries holds every key with a value or a flight in progress.
	entries map[string]*entry[T]
	// head and tail are the entries holding a value, most recently used
	// first; n counts them.
	head, tail *entry[T]
	n          int
	// spare is the record of the last key dropped from entries, reused by
	// the next key added, so that a key evicted for another, or a flight
	// led and landed for a key with no value, allocates no record.
	spare *entry[T]
}

// noCopy makes go vet's copylocks check report a copy of the struct that
// holds it, as sync's own does.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// entry is one key's record.
type entry[T any] struct {
	key        string
	value      T
	stored     time.Time  // when value was stored; zero when there is none
	flight     *Flight[T] // the flight in progress for the key, or nil
	linked     bool       // in the LRU list: stored is set
	prev, next *entry[T]  // in the LRU list
}

// answer is what one run of the entry machine answers its caller.
type answer[T any] struct {
	verdict verdict
	value   T             // verdictFresh, verdictStale
	age     time.Duration // of value
	flight  *Flight[T]    // verdictJoin, verdictLead
}

// New returns an empty Cache, or the *errorrecovery.ConfigError of the
// first invalid field of cfg (see Config.Validate), or of an
// engine.WithDefinition whose definition is not of the cache entry
// machine's types. Of the options, engine.WithClock sets the clock
// entries age on (nil or none: the real clock), engine.WithObserver an
// observer of every run of the entry machine, and engine.WithDefinition
// the entry machine to run instead of Definition(): the cache carries out
// what its actions decide (which value is served, as fresh or stale, which
// lookup leads a flight and which join it, what is stored, dropped and
// released). Only the actions of Definition can decide (Data keeps its
// decision fields to them), so such a definition reuses them, from
// Definition().Transitions(). Whatever it decides, the cache serves only
// a value it holds, and a flight has one leader.
func New[T any](cfg Config, opts ...engine.Option) (*Cache[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, err := setup.Read[State, Event, Data]("cache.Config", Definition, opts)
	if err != nil {
		return nil, err
	}
	c := &Cache[T]{cfg: cfg.resolved(), clock: o.Clock, entries: map[string]*entry[T]{}}
	c.runner = engine.NewRunner(o.Def, o.EngineOptions()...)
	return c, nil
}

// Definition returns the cache entry machine the cache runs.
func (c *Cache[T]) Definition() *fsm.Definition[State, Event, Data] {
	return c.runner.Definition()
}

// Config returns the cache's configuration, each zero field of the one it
// was made with resolved to its default: TTL and MaxEntries are never
// zero.
func (c *Cache[T]) Config() Config { return c.cfg }

// Len reports the number of entries holding a value, stale ones included.
func (c *Cache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// State reports where key's entry stands now: the state a run of the
// machine places it in (EventRecall alone). Like every run, it drops a
// value past use.
func (c *Cache[T]) State(key string) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, _ := c.stepLocked(key, EventRecall, nil)
	return s
}

// Get returns the value for key and its age, as a call that failed would
// read it (EventRead): fresh reports a value within its TTL; a stale one
// (past its TTL, kept within MaxStale) comes with fresh false; ok is false
// when there is neither. A value past all use is dropped.
func (c *Cache[T]) Get(key string) (value T, age time.Duration, fresh, ok bool) {
	switch a := c.step(key, EventRead); a.verdict {
	case verdictFresh:
		return a.value, a.age, true, true
	case verdictStale:
		return a.value, a.age, false, true
	}
	return value, 0, false, false
}

// Put stores value under key (EventStore), then evicts the least recently
// used value when there are more than MaxEntries. A flight in progress
// for key goes on; those who join it still get what its leader lands.
func (c *Cache[T]) Put(key string, value T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stepLocked(key, EventStore, &value)
	if c.n > c.cfg.MaxEntries {
		c.stepLocked(c.tail.key, EventEvict, nil)
	}
}

// Clear evicts every value. Flights in progress go on, and land as usual.
func (c *Cache[T]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.head; e != nil; {
		next := e.next
		c.stepLocked(e.key, EventEvict, nil)
		e = next
	}
}

// step is stepLocked for an event that stores nothing, under the lock
// (released should the machine panic).
func (c *Cache[T]) step(key string, ev Event) answer[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, a := c.stepLocked(key, ev, nil)
	return a
}

// stepLocked runs the entry machine for key: recall, then ev (unless ev is
// the recall itself), and carries out what the run decided; value is what
// a store stores. It returns the state the run ended in and its answer.
// c.mu must be held.
func (c *Cache[T]) stepLocked(key string, ev Event, value *T) (State, answer[T]) {
	now := c.clock.Now()
	e := c.entries[key]
	data := Data{cfg: &c.cfg}
	if e != nil {
		data.loading = e.flight != nil
		if e.linked {
			data.held, data.age = true, now.Sub(e.stored)
		}
	}
	s, d := c.run(data, ev)
	var a answer[T]
	if e == nil {
		if d.effects&effectStored == 0 && d.verdict != verdictLead {
			return s, a // nothing to keep, nothing to serve
		}
		if e = c.spare; e != nil {
			c.spare = nil
		} else {
			e = new(entry[T])
		}
		e.key = key
		c.entries[key] = e
	}
	if d.effects&effectDropped != 0 && e.linked {
		var zero T
		c.unlink(e)
		e.value, e.stored = zero, time.Time{}
	}
	if d.effects&effectStored != 0 && value != nil {
		e.value, e.stored = *value, now
		c.toFront(e)
	}
	switch a.verdict = d.verdict; a.verdict {
	case verdictFresh, verdictStale:
		if !e.linked {
			a.verdict = verdictNone // no value to serve
			break
		}
		if a.verdict == verdictFresh {
			c.toFront(e)
		}
		a.value, a.age = e.value, data.age
		if d.effects&effectStored != 0 {
			a.age = 0
		}
	case verdictLead:
		if e.flight != nil {
			a.verdict = verdictJoin // one leader per flight
		} else {
			e.flight = &Flight[T]{c: c, key: key, done: make(chan struct{})}
		}
		a.flight = e.flight
	case verdictJoin:
		if a.flight = e.flight; a.flight == nil {
			a.verdict = verdictNone // no flight to join
		}
	}
	if d.effects&effectReleased != 0 {
		e.flight = nil
	}
	if !e.linked && e.flight == nil {
		delete(c.entries, key)
		*e = entry[T]{}
		c.spare = e
	}
	return s, a
}

// run takes one run of the machine from data: recall, then ev unless ev
// is the recall itself. It returns the state the run ended in and what it
// decided. An event the machine does not handle changes nothing further;
// a panic in a guard or action goes on, with its original value.
func (c *Cache[T]) run(data Data, ev Event) (State, decision) {
	ctx := context.Background()
	r, err := c.runner.Start(ctx, data)
	if err == nil {
		_, err = r.Fire(ctx, EventRecall)
	}
	if err == nil && ev != EventRecall {
		_, err = r.Fire(ctx, ev)
	}
	d := r.Data()
	s, dec := r.State(), decision{verdict: d.verdict, effects: d.effects}
	r.Release()
	if err != nil {
		if pe, ok := errors.AsType[*engine.PanicError](err); ok {
			panic(pe.Value)
		}
	}
	return s, dec
}

// decision is what a run of the entry machine decided.
type decision struct {
	verdict verdict
	effects effect
}

// toFront makes e, which holds a value, the most recently used.
func (c *Cache[T]) toFront(e *entry[T]) {
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
func (c *Cache[T]) unlink(e *entry[T]) {
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
