package cache

import (
	"context"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// Key returns the key of a call's entry: Config.Key of ctx, or "" when
// Config.Key is nil.
func (c *Cache[T]) Key(ctx context.Context) string {
	if c.cfg.Key == nil {
		return ""
	}
	return c.cfg.Key(ctx)
}

// Lookup is what Cache.Lookup answers a call: the fresh value that
// answers it, or the flight it leads or joins, or neither (a miss: the
// call loads the value on its own).
type Lookup[T any] struct {
	// Value answers the call when Hit is set; Age is how old it is.
	Value T
	Age   time.Duration
	// Hit reports a fresh value: the call is answered, with no load.
	Hit bool
	// Flight, when not nil, is the load of the key in progress. When Lead
	// is set the call leads it: it loads the value, Puts it if it is to be
	// kept, and must Land the flight once, whatever happens. Otherwise it
	// joins it: it Waits for the leader's result.
	Flight *Flight[T]
	Lead   bool
}

// Lookup asks the entry machine for a fresh value of key (EventLookup),
// else, with coalescing, for the flight to join or (when there is none
// yet) to lead. It allocates only for a flight it hands a leader. Only a
// fresh value answers here: a stale one answers only a failure, through
// Get.
func (c *Cache[T]) Lookup(key string) Lookup[T] {
	var l Lookup[T]
	switch a := c.step(key, EventLookup); a.verdict {
	case verdictFresh:
		l.Value, l.Age, l.Hit = a.value, a.age, true
	case verdictLead:
		l.Flight, l.Lead = a.flight, true
	case verdictJoin:
		l.Flight = a.flight
	}
	return l
}

// Flight is a load of one key's value in progress, which the lookups of
// that key join while it lasts: one caller, its leader, loads the value
// and lands the flight with its result; the others wait for it and share
// it. A Flight is safe for concurrent use. It must not be copied.
type Flight[T any] struct {
	_    noCopy
	c    *Cache[T]
	key  string
	done chan struct{} // closed by Land
	res  Result[T]     // written once by Land, before done is closed
}

// Result is what a flight's leader lands and its followers get.
type Result[T any] struct {
	// Value is the leader's answer; Err its error, when it failed. A
	// follower of a leader that failed loads the value on its own: the
	// error may be the leader's alone (its context ended, its attempt
	// timed out).
	Value T
	Err   error
	// Age is how old Value is, when the leader's answer came from a
	// cache; zero otherwise.
	Age time.Duration
	// Origin is the leader's own label for where Value came from. The
	// cache keeps it for the followers and gives it no meaning; an
	// errorrecovery workflow stores its Source here, so that a follower
	// reports what the leader got, as what it is.
	Origin int
}

// Land ends the flight with its leader's result (EventRelease: the entry
// machine ends the entry's flight, and the next lookup that misses leads
// a flight of its own) and lets every follower go with r, even should the
// entry machine panic. Only the leader lands its flight, once; it Puts
// the value first, when the value is to be kept, so that lookups after
// the landing find it. Landing twice panics. Should the entry machine
// keep the flight (a definition with no release), lookups that join it
// later get r at once.
func (f *Flight[T]) Land(r Result[T]) {
	select {
	case <-f.done:
		panic("cache: Land called twice for one flight")
	default:
	}
	defer func() {
		f.res = r
		close(f.done)
	}()
	f.c.release(f)
}

// release ends f for its entry (EventRelease), unless the entry machine
// has already ended it.
func (c *Cache[T]) release(f *Flight[T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[f.key]; e != nil && e.flight == f {
		c.stepLocked(f.key, EventRelease, nil)
	}
}

// Wait blocks until the flight lands and returns what its leader landed,
// or until ctx is done and returns ctx.Err(). It waits on a channel, not
// on the cache's clock.
func (f *Flight[T]) Wait(ctx context.Context) (Result[T], error) {
	select {
	case <-f.done:
		return f.res, nil
	case <-engine.Quiet(ctx).Done(): // a follower's wait, not one on the clock
		return Result[T]{}, ctx.Err()
	}
}
