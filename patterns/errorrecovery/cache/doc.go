// Package cache is a read-through cache of results whose decisions are
// taken by a state machine: an LRU with a time to live, where what one
// key's entry answers (a fresh value, a stale one, a load in progress to
// wait for, or nothing) and what becomes of it is decided by the cache
// entry machine, [Definition], run by package engine.
//
// # The entry machine
//
// A [Cache] keeps, per key, a record: its value and when it was stored,
// and the [Flight] in progress that loads it. Each lookup, read, store,
// release of a flight and eviction is one engine Run of the entry machine
// over that record, under the cache's lock: [EventRecall] places the entry
// in [StateFresh], [StateStale], [StateLoading], [StateAbsent] or
// [StateExpired] from its value's age (against Config.TTL and
// Config.MaxStale) and its flight, then the caller's event decides the
// answer. The cache carries out what the run decided; it decides nothing
// itself, so a definition with a guard or an edge changed, given with
// engine.WithDefinition, changes what it does. [Cache.State] reports where
// an entry stands; engine.WithObserver shows every run's steps.
//
// # Read-through
//
// [Cache.Get], [Cache.Put] and [Cache.Clear] use it as a plain cache. A
// caller that loads values through it follows its protocol:
//
//	key := c.Key(ctx)
//	l := c.Lookup(key)
//	switch {
//	case l.Hit:
//		return l.Value, nil // fresh: nothing to load
//	case l.Flight != nil && !l.Lead:
//		if r, err := l.Flight.Wait(ctx); err == nil && r.Err == nil {
//			return r.Value, nil // the leader's answer
//		}
//		// the leader failed, or ctx ended: load alone
//	}
//	v, err := load(ctx)
//	if err == nil {
//		c.Put(key, v)
//	} else if old, _, _, ok := c.Get(key); ok {
//		v, err = old, nil // stale on error
//	}
//	if l.Lead {
//		l.Flight.Land(cache.Result[T]{Value: v, Err: err})
//	}
//	return v, err
//
// [Cache.Lookup] answers with a fresh value, or (with coalescing, the
// default) the flight to join or to lead: concurrent lookups of one key
// share one load, whose one leader lands it with a [Result] and lets its
// followers go. Only a fresh value answers a lookup; a value past its TTL
// but within Config.MaxStale answers only a call that failed, through
// [Cache.Get], with its age.
//
// # Composition
//
// Alone, a Cache is the above. As the CACHE strategy of an
// errorrecovery.ErrorRecoveryConfig (its Cache field, or a Cache to share
// in its SharedCache field), the workflow's per-call machine follows the
// protocol in its Lookup state, outermost of all the layers, reads a stale
// value in its Fallback state, stores only the function's own results and
// lands the flight it leads when the call ends, whatever the call's
// context does; its followers report the leader's answer with the
// leader's Source ([Result.Origin]). The workflow draws the entry machine
// as a cluster of its diagram.
//
// # Configuration and errors
//
// A zero [Config] means the defaults ([DefaultConfig]): a 300 s TTL, 1000
// entries, stale values served on error until evicted, one key for every
// call, coalescing on. Off is spelled explicitly: a negative MaxStale,
// DisableCoalescing. [New] refuses a negative TTL or MaxEntries, and a
// definition of other types than the entry machine's, with an
// *errorrecovery.ConfigError naming the field (Config "cache.Config").
//
// # Clock
//
// Entries age on the clock given with engine.WithClock (the real one by
// default): a run reads it once, so every guard of one run sees the same
// age, and the ageing of an entry (Fresh, then Stale, then Expired) is read
// from its age when it is looked at; the cache sets no timers. A
// follower's Flight.Wait waits on a channel, not on the clock, so a
// simulation on enginetest's manual clock does not count it as a waiter.
//
// # Example
//
//	rates, err := cache.New[float64](cache.Config{TTL: time.Minute, MaxStale: 10 * time.Minute})
//	if err != nil {
//		return err
//	}
//	rates.Put("EUR/USD", 1.08)
//	rate, age, fresh, ok := rates.Get("EUR/USD")
package cache
