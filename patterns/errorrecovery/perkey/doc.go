// Package perkey gives each key (a host, a tenant, a shard) its own
// machine: its own circuit breaker, bulkhead or limiter, so that one bad
// host opens its own breaker and not everyone's. A Registry makes a key's
// machine on the key's first use, from one create function, and keeps at
// most Config.MaxKeys of them, evicting the least recently used when
// another key comes and any that stays unused for Config.IdleTimeout:
//
//	hosts, err := perkey.New(perkey.Config{MaxKeys: 500}, func(host string) (*breaker.Breaker, error) {
//		return breaker.New(breaker.Config{FailureThreshold: 5})
//	})
//	if err != nil {
//		return err // an *errorrecovery.ConfigError naming the field
//	}
//	defer hosts.Close()
//
//	lease, err := hosts.Acquire(req.URL.Host)
//	if err != nil {
//		return err // a *CreateError, or ErrClosed
//	}
//	defer lease.Release()
//	return lease.Machine().Protect(ctx, send)
//
// # Leases and eviction
//
// Acquire returns a Lease on the key's machine; Release it when the call
// has ended. Evicting a key removes its machine from the registry at
// once, so the key's next Acquire makes a new one, but closes the old one
// (its Close method: breaker.Breaker.Close stops its open timer,
// bulkhead.Bulkhead.Close refuses new calls) only when its last lease is
// released. So no call is cut short by an eviction: a bulkhead slot taken
// before the eviction is given back to the machine it was taken from, a
// breaker permit reports its outcome to the breaker that admitted it, and
// the new machine starts with nothing in flight. Idle eviction leaves
// alone a key with a lease held; the bound evicts the least recently used
// key whatever it holds.
//
// Get is Acquire without the lease, for machines whose Close leaves them
// usable (a breaker's only stops its open timer): it is a lookup and a
// few atomic loads, and the machine may be closed while it is in use.
//
// # Order and time
//
// Least recently used is exact: each use of a key that was not the last
// key used takes the next number of a counter, and the bound evicts the
// key with the smallest number. Uses that overlap in time are ordered as
// their numbers were taken.
//
// Idle eviction runs on the registry's clock (engine.WithClock; tests
// pass an enginetest.Clock), by a sweep every Config.SweepInterval that
// compares each key's number with a mark it took at least IdleTimeout
// earlier. The hot path reads no clock, and the price is granularity: a
// key is evicted between IdleTimeout and IdleTimeout plus two
// SweepIntervals after its last use (plus one with the default interval,
// a quarter of IdleTimeout). The sweep is armed only while the registry
// holds keys.
//
// # Performance
//
// Acquire of a key that has a machine reads a snapshot of the keys
// without a lock (one atomic load and a map lookup) and takes the lease
// with one atomic add; Release is one more. Numbering the use is one
// more atomic add, skipped when the key was also the last one used, as a
// hot key mostly is. Nothing is allocated. A key missing from the
// snapshot takes the registry's lock; the snapshot is replaced by a copy
// once as many lookups have missed it as the registry has keys.
//
// # Metrics and diagrams
//
// Metrics reports the number of keys and counts the machines made,
// evicted (idle or by the bound) and closed. Range and Peek read the
// machines without counting a use, for a health report per key. Diagram
// draws the machine every key gets once, titled with what it is per and
// the registry's bounds.
//
// docs/perkey.md explains the choices, with figures.
package perkey
