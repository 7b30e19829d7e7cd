package perkey

import "time"

// Idle eviction. The hot path reads no clock: a use only numbers itself
// (Registry.seq). Every SweepInterval a sweep, on the registry's clock,
// takes a mark: the time and a fresh number, larger than every use's so
// far. An entry whose last use is numbered below a mark taken at or
// before now-IdleTimeout has not been used since then, so it has been
// idle at least IdleTimeout, and is evicted unless a lease on it is held.
// A key is thus evicted between IdleTimeout and IdleTimeout plus two
// SweepIntervals after its last use (plus one when SweepInterval divides
// IdleTimeout, as the default does). The sweep runs only while the
// registry holds keys.

// mark is a sweep's time and use number.
type mark struct {
	at  time.Time
	seq uint64
}

// armSweep arms the next sweep if none is armed and idle eviction is on.
// r.mu must be held.
func (r *Registry[K, M]) armSweep() {
	if r.timer != nil || r.closed || r.cfg.IdleTimeout < 0 {
		return
	}
	r.timer = r.clock.AfterFunc(r.cfg.SweepInterval, r.sweep)
}

// sweep takes a mark and evicts the keys idle since a mark at least
// IdleTimeout old, then arms the next sweep while keys are left.
func (r *Registry[K, M]) sweep() {
	now := r.clock.Now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.timer = nil
	r.marks = append(r.marks, mark{at: now, seq: r.seq.Add(1)})
	cutoff := now.Add(-r.cfg.IdleTimeout)
	i := -1
	for j, m := range r.marks {
		if m.at.After(cutoff) {
			break
		}
		i = j
	}
	var out []*entry[K, M]
	if i >= 0 {
		bound := r.marks[i].seq
		r.marks = r.marks[i:]
		for _, e := range r.all {
			if e.last.Load() < bound && e.state.Load() == 0 {
				if r.evict(e) {
					out = append(out, e)
				}
				r.evictedIdle.Add(1)
			}
		}
		r.lru.compact(len(r.all))
	}
	if len(r.all) > 0 {
		r.armSweep()
	} else {
		r.marks = r.marks[:0]
	}
	r.mu.Unlock()
	r.retireAll(out)
}
