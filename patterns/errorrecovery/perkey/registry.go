package perkey

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/statecraft/statecraft/engine"
)

// Registry gives each key its own machine M, made by the create function
// given to New on the key's first use, and evicts it when it has been idle
// for Config.IdleTimeout or when Config.MaxKeys machines are held and
// another key comes (the least recently used key goes). A machine is
// closed (see New) once it has been evicted and the last Lease on it has
// been released, so an eviction never breaks a call that is using it; the
// key's next Acquire creates a new machine.
//
// A Registry is safe for concurrent use and must not be copied.
type Registry[K comparable, M any] struct {
	_ noCopy

	// read is a snapshot of the keys' entries that Acquire reads without a
	// lock. It may be stale: missing keys created since, and holding
	// entries evicted since (their state says so). It is replaced by a
	// copy of all once as many lookups have missed it as all has keys, so
	// the copying costs O(1) per miss.
	read atomic.Pointer[map[K]*entry[K, M]]
	// seq numbers the uses of keys: each use that is not of the key used
	// last takes the next number, so the entry with the smallest last
	// number is the least recently used one. A sweep takes a number too,
	// as a mark.
	seq atomic.Uint64
	// hot is the last key used twice in a row. Acquire and Get look at
	// it before the snapshot, so that a hot key's lookup is a comparison
	// of keys, not a hash and a probe. A key used once changes nothing
	// here: keys that rotate pay a load and a comparison, and no write
	// to this shared word. Evicting an entry clears it; one evicted while
	// being made hot can be left in it, which sends its key's next lookup
	// the slow way, where the live entry takes its place.
	hot atomic.Pointer[entry[K, M]]

	create func(K) (M, error)
	close  func(M)
	clock  engine.Clock
	cfg    Config // resolved

	mu     sync.Mutex // guards the fields below
	all    map[K]*entry[K, M]
	lru    lruHeap[K, M]
	misses int
	marks  []mark       // sweep marks, oldest first
	timer  engine.Timer // the pending sweep, nil when none is armed
	closed bool

	created, createFailed, evictedIdle, evictedBound, retired atomic.Uint64
}

// noCopy makes go vet's copylocks check report a copied Registry.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// The bits of entry.state above the count of leases.
const (
	evictedBit int64 = 1 << 62 // the entry has left the registry
	closedBit  int64 = 1 << 61 // its machine has been closed, or is being
)

// entry is one key's machine. Its state counts the leases held on it, plus
// evictedBit once it is evicted and closedBit once someone has taken on
// closing it: whoever brings the state to exactly evictedBit (no lease,
// not closed) and then swaps in closedBit closes the machine, so it is
// closed exactly once, after its last lease.
type entry[K comparable, M any] struct {
	key   K
	m     M
	r     *Registry[K, M]
	last  atomic.Uint64 // the number of its last use (Registry.seq)
	state atomic.Int64
	gone  bool // removed from all; under Registry.mu
}

// hold takes a lease on e unless it has been evicted.
func (e *entry[K, M]) hold() bool {
	if e.state.Add(1)&evictedBit == 0 {
		return true
	}
	e.unhold()
	return false
}

// unhold gives a lease back, and closes the machine when it was the last
// one on an evicted entry.
func (e *entry[K, M]) unhold() {
	if e.state.Add(-1) == evictedBit && e.state.CompareAndSwap(evictedBit, evictedBit|closedBit) {
		e.r.retire(e)
	}
}

// Lease is the use of one key's machine, from Registry.Acquire to
// Release. While a lease is held, the machine is not closed, even if the
// registry evicts it meanwhile. A Lease is a small value; the zero Lease
// (returned with an error) holds nothing.
type Lease[K comparable, M any] struct {
	e *entry[K, M]
}

// Machine returns the key's machine, or M's zero value for the zero Lease.
func (l Lease[K, M]) Machine() M {
	if l.e == nil {
		var zero M
		return zero
	}
	return l.e.m
}

// Key returns the key the lease is for, or K's zero value for the zero
// Lease.
func (l Lease[K, M]) Key() K {
	if l.e == nil {
		var zero K
		return zero
	}
	return l.e.key
}

// Release gives the lease back. Call it exactly once per lease, when the
// call using the machine has ended (after a breaker permit's Done, a
// bulkhead's Release). Releasing the zero Lease does nothing.
func (l Lease[K, M]) Release() {
	if l.e != nil {
		l.e.unhold()
	}
}

// Metrics are a registry's gauge and counters.
type Metrics struct {
	// Keys is the number of keys with a machine in the registry.
	Keys int
	// Created counts the machines made; CreateFailed the calls of the
	// create function that returned an error.
	Created, CreateFailed uint64
	// EvictedIdle counts machines evicted for being idle IdleTimeout,
	// EvictedBound those evicted as least recently used to make room.
	EvictedIdle, EvictedBound uint64
	// Closed counts machines closed: evicted (or dropped by
	// Registry.Close) and with no lease left. Those evicted and still
	// leased are the difference.
	Closed uint64
}

// New returns a registry that makes each key's machine with create, on
// the key's first use, or the *setup.ConfigError (an
// errorrecovery.ConfigError) of the first invalid field of cfg.
//
// A machine leaves the registry when it is evicted or the registry is
// closed, and is closed once its last lease is released: with its Close
// method, when it has one of the forms Close(), Close() error or
// Close(context.Context) error (the last called with
// context.Background()), as breaker.Breaker and bulkhead.Bulkhead do.
// create runs under the registry's lock, one key at a time: it should be
// quick and must not use the registry.
//
// New reads engine.WithClock: the clock idle eviction runs on (the real
// one by default; tests pass an enginetest.Clock). Other options are for
// the machines, which create makes itself.
func New[K comparable, M any](cfg Config, create func(K) (M, error), opts ...engine.Option) (*Registry[K, M], error) {
	cfg, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	if create == nil {
		return nil, errNilCreate
	}
	r := &Registry[K, M]{
		create: create,
		close:  closerOf[M](),
		clock:  engine.SettingsOf(opts...).Clock,
		cfg:    cfg,
		all:    make(map[K]*entry[K, M]),
	}
	r.read.Store(&map[K]*entry[K, M]{})
	return r, nil
}

// closerOf returns the function that closes an M: its Close method in
// one of the known forms, or nothing.
func closerOf[M any]() func(M) {
	var m M
	switch any(m).(type) {
	case interface{ Close() }:
		return func(m M) { any(m).(interface{ Close() }).Close() }
	case interface{ Close() error }:
		return func(m M) { _ = any(m).(interface{ Close() error }).Close() }
	case interface{ Close(context.Context) error }:
		return func(m M) { _ = any(m).(interface{ Close(context.Context) error }).Close(context.Background()) }
	}
	return func(m M) {
		switch c := any(m).(type) {
		case interface{ Close() }:
			c.Close()
		case interface{ Close() error }:
			_ = c.Close()
		case interface{ Close(context.Context) error }:
			_ = c.Close(context.Background())
		}
	}
}

// Acquire returns a lease on key's machine, creating the machine if the
// key has none, and marks the key as used now. Release the lease when the
// call that uses the machine ends. It returns an error, and the zero
// Lease, when the registry is closed (ErrClosed) or the create function
// failed (a *CreateError, unwrapping to its error; nothing is kept, so the
// next Acquire tries again).
//
// For a key that has a machine, Acquire takes no lock and reads no clock:
// a map lookup (a comparison of keys for the last key used twice in a
// row) and one atomic add, plus a second (to number the use) unless the key
// was also the last one used. It allocates nothing.
func (r *Registry[K, M]) Acquire(key K) (Lease[K, M], error) {
	if e := r.find(key); e != nil && e.hold() {
		r.use(e)
		return Lease[K, M]{e}, nil
	}
	return r.acquireSlow(key)
}

// find returns key's entry, from the hot entry or else the snapshot; nil
// when the snapshot has none. The entry may have been evicted since.
func (r *Registry[K, M]) find(key K) *entry[K, M] {
	if e := r.hot.Load(); e != nil && e.key == key {
		return e
	}
	return (*r.read.Load())[key]
}

// use marks e as used now: it numbers the use, unless e's was the last
// one numbered, when e, used twice in a row, becomes the hot entry.
func (r *Registry[K, M]) use(e *entry[K, M]) {
	if s := r.seq.Load(); e.last.Load() != s {
		e.last.Store(r.seq.Add(1))
	} else if r.hot.Load() != e {
		r.hot.Store(e)
	}
}

// Get returns key's machine, creating it if the key has none, and marks
// the key as used now, as Acquire does, but takes no lease: the registry
// may evict and close the machine while the caller still uses it. Use it
// for machines whose Close leaves calls already admitted, and even new
// ones, working, as breaker.Breaker's does (it only stops the open
// timer, so an evicted breaker that is open stays open for whoever still
// holds it); use Acquire for machines whose Close refuses calls, as
// bulkhead.Bulkhead's does.
//
// For a key that has a machine, Get takes no lock, reads no clock and
// makes no atomic write unless the key was not the last one used: a map
// lookup (a comparison of keys for the last key used twice in a row) and
// four atomic loads. It
// allocates nothing.
func (r *Registry[K, M]) Get(key K) (M, error) {
	if e := r.find(key); e != nil && e.state.Load()&evictedBit == 0 {
		r.use(e)
		return e.m, nil
	}
	l, err := r.acquireSlow(key)
	m := l.Machine()
	l.Release()
	return m, err
}

func (r *Registry[K, M]) acquireSlow(key K) (Lease[K, M], error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return Lease[K, M]{}, ErrClosed
	}
	e := r.all[key]
	var out []*entry[K, M]
	if e != nil {
		e.state.Add(1) // in all, so not evicted: evicting takes r.mu
		e.last.Store(r.seq.Add(1))
	} else {
		m, err := r.create(key)
		if err != nil {
			r.mu.Unlock()
			r.createFailed.Add(1)
			return Lease[K, M]{}, &CreateError{Key: key, Err: err}
		}
		e = &entry[K, M]{key: key, m: m, r: r}
		e.state.Store(1)
		e.last.Store(r.seq.Add(1))
		r.all[key] = e
		r.lru.push(e, e.last.Load())
		r.created.Add(1)
		out = r.evictOverBound()
		r.armSweep()
	}
	if h := r.hot.Load(); h != nil && h != e && h.key == key {
		r.hot.CompareAndSwap(h, e) // the key's evicted entry, left hot (see hot)
	}
	if r.misses++; r.misses >= len(r.all) {
		r.publish()
	}
	r.mu.Unlock()
	r.retireAll(out)
	return Lease[K, M]{e}, nil
}

// publish replaces the snapshot read by a copy of all. r.mu must be held.
func (r *Registry[K, M]) publish() {
	m := maps.Clone(r.all)
	r.read.Store(&m)
	r.misses = 0
}

// evictOverBound evicts the least recently used keys until the bound
// holds, and returns those whose machines must be closed now. r.mu must
// be held.
//
// The heap holds one record per entry in all, with the number of a use
// of it, its last or an earlier one; the record with the smallest number
// is popped, and if its entry has been used since, pushed back with the
// entry's last number. A record whose number is its entry's last is the
// least recently used entry: every other entry's last number is at least
// its record's, which is larger. Re-pushing costs one heap operation per
// use between two evictions at most.
func (r *Registry[K, M]) evictOverBound() (out []*entry[K, M]) {
	for len(r.all) > r.cfg.MaxKeys {
		rec := r.lru.pop()
		e := rec.e
		if e.gone {
			continue
		}
		if last := e.last.Load(); last != rec.seq {
			r.lru.push(e, last)
			continue
		}
		if r.evict(e) {
			out = append(out, e)
		}
		r.evictedBound.Add(1)
	}
	return out
}

// evict removes e from the registry and reports whether the caller must
// close its machine (no lease was held). r.mu must be held.
func (r *Registry[K, M]) evict(e *entry[K, M]) bool {
	delete(r.all, e.key)
	r.hot.CompareAndSwap(e, nil)
	e.gone = true
	r.misses++ // the snapshot holds a dead entry
	return e.state.Or(evictedBit) == 0 && e.state.CompareAndSwap(evictedBit, evictedBit|closedBit)
}

// retire closes e's machine: it has been evicted and no lease is left.
func (r *Registry[K, M]) retire(e *entry[K, M]) {
	r.close(e.m)
	r.retired.Add(1)
}

func (r *Registry[K, M]) retireAll(out []*entry[K, M]) {
	for _, e := range out {
		r.retire(e)
	}
}

// Peek returns key's machine without creating one, taking a lease or
// counting a use, for reports such as a health check. The machine may be
// evicted and closed at any time after Peek returns.
func (r *Registry[K, M]) Peek(key K) (M, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.all[key]; ok {
		return e.m, true
	}
	var zero M
	return zero, false
}

// Range calls fn for each key and its machine, in no particular order,
// until fn returns false, without taking leases or counting uses. It
// iterates over a copy taken under the lock, so fn may use the registry;
// a machine may be evicted and closed while fn looks at it.
func (r *Registry[K, M]) Range(fn func(key K, m M) bool) {
	r.mu.Lock()
	es := make([]*entry[K, M], 0, len(r.all))
	for _, e := range r.all {
		es = append(es, e)
	}
	r.mu.Unlock()
	for _, e := range es {
		if !fn(e.key, e.m) {
			return
		}
	}
}

// Len returns the number of keys with a machine.
func (r *Registry[K, M]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// Config returns the config the registry runs with, resolved.
func (r *Registry[K, M]) Config() Config { return r.cfg }

// Metrics returns the registry's size and counters.
func (r *Registry[K, M]) Metrics() Metrics {
	return Metrics{
		Keys:         r.Len(),
		Created:      r.created.Load(),
		CreateFailed: r.createFailed.Load(),
		EvictedIdle:  r.evictedIdle.Load(),
		EvictedBound: r.evictedBound.Load(),
		Closed:       r.retired.Load(),
	}
}

// Close stops the idle sweep and drops every machine: each is closed at
// once, or when its last lease is released. Acquire then returns
// ErrClosed. Calling Close again does nothing.
func (r *Registry[K, M]) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	var out []*entry[K, M]
	for _, e := range r.all {
		if r.evict(e) {
			out = append(out, e)
		}
	}
	r.lru = nil
	r.marks = nil
	r.publish()
	r.mu.Unlock()
	r.retireAll(out)
}
