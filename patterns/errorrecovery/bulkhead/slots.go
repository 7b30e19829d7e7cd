package bulkhead

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/statecraft/statecraft/engine"
)

// slots is the number of calls holding a slot, in one atomic word that the
// machine's actions and the admission fast path share. Bits 0-31 hold the
// count; fastBit, when set, lets a caller take or give back a slot with
// one compare-and-swap of the word, without the Instance's lock.
//
// The fast path is the compiled form of two internal transitions of
// Definition, and of nothing else:
//
//	Available --acquire [spare slot] / take slot   (internal)
//	Available --release / free slot                (internal, no waiter in Available)
//
// so it never changes the state: every change of state, the taking of the
// last slot (Available → Saturated), queueing, the hand-over to a waiter
// and every step of Saturated and QueueFull, is a step of the Instance.
// fastBit is set exactly while the Instance rests in StateAvailable and no
// step is under way: a step clears it before its guards read the count
// and sets it again after its commit only if the machine is then
// Available (Bulkhead.step, under stepMu). So a caller that wins the
// compare-and-swap does so in a state where the machine would have taken
// the same internal transition, with the same guard outcome, and a count
// that a step reads cannot change under it.
//
// The fast path is used only with Definition itself and no observer
// (Bulkhead.fast): a definition given with engine.WithDefinition, even an
// unchanged copy, and an observer, which must see every step, take every
// step through the Instance.
type slots struct {
	w atomic.Uint64
}

// fastBit marks the word as open to the fast path.
const fastBit = 1 << 63

// active is the number of calls holding a slot.
func (s *slots) active() int { return int(uint32(s.w.Load())) }

// add changes the count by n (±1). Only steps of the Instance call it,
// while fastBit is clear.
func (s *slots) add(n int) { s.w.Add(uint64(int64(n))) }

// tryTake takes a slot on the fast path while it is open and, after this
// one, a slot stays free (the guard "spare slot"), and reports whether it
// did.
func (s *slots) tryTake(limit int) bool {
	for {
		w := s.w.Load()
		if w&fastBit == 0 || int(uint32(w)) >= limit-1 {
			return false
		}
		if s.w.CompareAndSwap(w, w+1) {
			return true
		}
	}
}

// tryFree gives back a slot on the fast path while it is open and a slot
// is held, and reports whether it did.
func (s *slots) tryFree() bool {
	for {
		w := s.w.Load()
		if w&fastBit == 0 || uint32(w) == 0 {
			return false
		}
		if s.w.CompareAndSwap(w, w-1) {
			return true
		}
	}
}

// stepper takes the bulkhead's steps through its Instance: every step
// when the fast path is off, and otherwise those the fast path leaves to
// it, closing the fast path for the step's duration.
type stepper struct {
	inst   *engine.Instance[State, Event, Data]
	slots  *slots
	fast   bool       // the fast path is on: Definition, no observer
	stepMu sync.Mutex // held by a step while the fast path is closed; only when fast
}

// step fires ev with c (nil for none) and returns the Instance's error.
func (s *stepper) step(ctx context.Context, ev Event, c *call) error {
	if !s.fast {
		return s.fire(ctx, ev, c)
	}
	s.stepMu.Lock()
	defer s.stepMu.Unlock()
	s.slots.w.And(^uint64(fastBit))
	err := s.fire(ctx, ev, c)
	if s.inst.State() == StateAvailable {
		s.slots.w.Or(fastBit)
	}
	return err
}

func (s *stepper) fire(ctx context.Context, ev Event, c *call) error {
	var err error
	if c != nil {
		_, err = engine.FireWith(ctx, s.inst, ev, c)
	} else {
		_, err = s.inst.Fire(ctx, ev)
	}
	return err
}
