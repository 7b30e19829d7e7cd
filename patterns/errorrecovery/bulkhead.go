package errorrecovery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// BulkheadState is a state of the bulkhead machine: how full the bulkhead
// is. A BulkheadExecutor reports it with State, from one atomic load.
type BulkheadState uint8

// The states, from empty to full. Which one the bulkhead is in follows
// from its counts alone: Saturated exactly when every slot is taken and
// the queue has room (or there is no queue), QueueFull exactly when every
// slot is taken and the queue holds MaxQueueSize >= 1 calls.
const (
	BulkheadAvailable BulkheadState = iota // a slot is free: a call runs at once
	BulkheadSaturated                      // every slot is taken: a call waits in the queue, or is rejected when there is no queue
	BulkheadQueueFull                      // every slot is taken and the queue is at capacity: a call is rejected at once
)

var bulkheadStateNames = []string{"Available", "Saturated", "QueueFull"}

// String returns the state's name, as diagrams and traces print it.
func (s BulkheadState) String() string {
	return enum.StringOr(bulkheadStateNames, s, "BulkheadState(?)")
}

// BulkheadEvent is an event of the bulkhead machine.
type BulkheadEvent uint8

// The events. Timeout and Cancel withdraw a queued call: its place in the
// queue or, when a slot was handed to it at the same moment, that slot,
// which goes on to the next call in the queue.
const (
	BulkheadAcquire BulkheadEvent = iota // a call asks for a slot
	BulkheadRelease                      // a call that held a slot gives it back
	BulkheadTimeout                      // a queued call waited QueueTimeout
	BulkheadCancel                       // a queued call's context ended
)

var bulkheadEventNames = []string{"acquire", "release", "timeout", "cancel"}

// String returns the event's name.
func (e BulkheadEvent) String() string {
	return enum.StringOr(bulkheadEventNames, e, "BulkheadEvent(?)")
}

// BulkheadData is the bulkhead machine's data: its limits, its counts and
// its queue of waiting calls. Only the actions of BulkheadDefinition change
// it, under the Instance's lock; the accessors let guards of a custom
// definition, and observers, read it.
type BulkheadData struct {
	maxActive int // MaxConcurrent
	maxQueue  int // MaxQueueSize
	active    int // calls holding a slot
	queued    int // calls in the queue, the length of head…tail

	// The queue, first in first out: head is the oldest waiter. A waiter
	// leaves from the head when a slot is handed to it, from anywhere when
	// it withdraws.
	head, tail *bhWaiter
}

// MaxConcurrent is the number of slots.
func (d *BulkheadData) MaxConcurrent() int { return d.maxActive }

// MaxQueueSize is the capacity of the queue.
func (d *BulkheadData) MaxQueueSize() int { return d.maxQueue }

// Active is the number of calls holding a slot.
func (d *BulkheadData) Active() int { return d.active }

// Queued is the number of calls waiting in the queue.
func (d *BulkheadData) Queued() int { return d.queued }

// bhWaiter is a call waiting in the queue. Its wait ends when ctx is done:
// cancelled with the cause errBulkheadGranted when a slot is handed to it,
// or because the caller's context, ctx's parent, ended. Everything else
// it tells is under the Instance's lock.
type bhWaiter struct {
	ctx        context.Context
	grant      context.CancelCauseFunc
	prev, next *bhWaiter
	queued     bool
	// since is when the call joined the queue, on the machine's clock: its
	// QueueTimeout runs from there, not from whenever its goroutine gets
	// to sleep, so a clock advanced in between cannot strand it.
	since time.Time
}

// errBulkheadGranted is the cause with which a waiter's context ends when
// a slot is handed to it.
var errBulkheadGranted = errors.New("errorrecovery: bulkhead slot granted")

// errBulkheadMisuse reports an action of the bulkhead machine run where
// it cannot be: an acquire action fired by something other than a
// BulkheadExecutor, or a release with nothing to release.
var errBulkheadMisuse = errors.New("errorrecovery: bulkhead action used out of place")

// push appends w at the tail of the queue.
func (d *BulkheadData) push(w *bhWaiter) {
	w.prev, w.next, w.queued = d.tail, nil, true
	if d.tail != nil {
		d.tail.next = w
	} else {
		d.head = w
	}
	d.tail = w
	d.queued++
}

// unlink removes w, which is queued, from the queue.
func (d *BulkheadData) unlink(w *bhWaiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		d.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		d.tail = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	d.queued--
}

// free gives back what the caller of the step holds: w's place in the
// queue when w is still queued; otherwise a slot, which is handed to the
// oldest waiter if there is one (active stays the same) or else becomes
// free. It reports false, changing nothing, when there is nothing to give
// back.
func (d *BulkheadData) free(w *bhWaiter) bool {
	switch {
	case w != nil && w.queued:
		d.unlink(w)
	case d.head != nil:
		h := d.head
		d.unlink(h)
		h.grant(errBulkheadGranted)
	case d.active > 0:
		d.active--
	default:
		return false
	}
	return true
}

// bhOutcome is what an acquire step did for its caller.
type bhOutcome uint8

const (
	bhNone     bhOutcome = iota // no acquire action ran: the call is rejected
	bhAdmitted                  // the call holds a slot
	bhQueued                    // the call waits in the queue as bhCall.w
	bhRejected                  // the reject action ran
)

// bhCall is the argument a BulkheadExecutor fires each step with
// (engine.FireWith). It carries what the step's actions need from the
// caller (its context, the waiter that withdraws) and what they hand back
// (the outcome, the waiter enqueued), so each caller learns the result of
// its own step. The machine commits regardless of the caller's context: a
// step that has begun changing the counts is never stopped halfway.
//
// bhCalls are recycled through a pool (an argument escapes to the heap),
// and hold no context or waiter while in it.
type bhCall struct {
	parent  context.Context
	w       *bhWaiter
	outcome bhOutcome
}

var bhCallPool = sync.Pool{New: func() any { return new(bhCall) }}

type bulkheadMachine = states.Machine[BulkheadState, BulkheadEvent, BulkheadData]

// The actions of the bulkhead machine. Each checks that it can do its
// work before changing anything, and otherwise returns an error, which
// leaves the machine as it was.
var (
	bhTakeSlot = states.Do("take slot", func(_ context.Context, m bulkheadMachine) error {
		c, ok := engine.ArgOf[bhCall](m)
		if !ok {
			return errBulkheadMisuse
		}
		m.Data().active++
		c.outcome = bhAdmitted
		return nil
	})
	bhEnqueue = states.Do("enqueue", func(_ context.Context, m bulkheadMachine) error {
		c, ok := engine.ArgOf[bhCall](m)
		if !ok || c.parent == nil {
			return errBulkheadMisuse
		}
		w := &bhWaiter{since: m.Now()}
		w.ctx, w.grant = context.WithCancelCause(c.parent)
		m.Data().push(w)
		c.w, c.outcome = w, bhQueued
		return nil
	})
	bhReject = states.Do("reject", func(_ context.Context, m bulkheadMachine) error {
		if c, ok := engine.ArgOf[bhCall](m); ok {
			c.outcome = bhRejected
		}
		return nil
	})
	bhFreeSlot = states.Do("free slot", func(ctx context.Context, m bulkheadMachine) error {
		if !m.Data().free(nil) {
			return errBulkheadMisuse
		}
		return nil
	})
	bhWithdraw = states.Do("withdraw", func(_ context.Context, m bulkheadMachine) error {
		c, ok := engine.ArgOf[bhCall](m)
		if !ok || c.w == nil || !m.Data().free(c.w) {
			return errBulkheadMisuse
		}
		return nil
	})
)

// The guards, on the counts only.
var (
	bhSpareSlot = transitions.If("spare slot", func(m bulkheadMachine) bool {
		d := m.Data()
		return d.active < d.maxActive-1
	})
	bhSpareRoom = transitions.If("spare room", func(m bulkheadMachine) bool {
		d := m.Data()
		return d.queued < d.maxQueue-1
	})
	bhQueueRoom = transitions.If("queue room", func(m bulkheadMachine) bool {
		d := m.Data()
		return d.queued < d.maxQueue
	})
	bhWaiting = transitions.If("waiting", func(m bulkheadMachine) bool {
		return m.Data().queued > 0
	})
)

var bulkheadDefinition = sync.OnceValue(buildBulkheadDefinition)

// BulkheadDefinition returns the bulkhead machine that every
// BulkheadExecutor runs unless given another with WithBulkheadDefinition.
// Its limits are in its data, so one definition serves every bulkhead.
//
// An acquire takes a slot while one is free ("spare slot": more than one
// is, so the bulkhead stays Available), else joins the queue while it has
// room ("spare room": room for more after this one), else is rejected. A
// release hands the slot to the oldest waiter when one is "waiting", else
// frees it. A timeout or cancel withdraws a queued call, with the same
// effect on the counts as a release: one fewer in the queue, or, when the
// slot had just been handed to it, that slot handed on. The states follow
// the counts, as BulkheadState describes.
func BulkheadDefinition() *fsm.Definition[BulkheadState, BulkheadEvent, BulkheadData] {
	return bulkheadDefinition()
}

func buildBulkheadDefinition() *fsm.Definition[BulkheadState, BulkheadEvent, BulkheadData] {
	b := fsm.New[BulkheadState, BulkheadEvent, BulkheadData]("bulkhead")
	b.CommitRegardless() // its steps move slots: never stopped halfway
	b.State(BulkheadAvailable, states.Initial)
	b.State(BulkheadSaturated, states.Normal)
	b.State(BulkheadQueueFull, states.Normal)

	b.Internal(BulkheadAvailable, BulkheadAcquire).When(bhSpareSlot).Do(bhTakeSlot)
	b.On(BulkheadAvailable, BulkheadAcquire, BulkheadSaturated).Do(bhTakeSlot)
	b.Internal(BulkheadSaturated, BulkheadAcquire).When(bhSpareRoom).Do(bhEnqueue)
	b.On(BulkheadSaturated, BulkheadAcquire, BulkheadQueueFull).When(bhQueueRoom).Do(bhEnqueue)
	b.Internal(BulkheadSaturated, BulkheadAcquire).Do(bhReject)
	b.Internal(BulkheadQueueFull, BulkheadAcquire).Do(bhReject)

	// A release, a timeout and a cancel each take one call off the books:
	// a slot or a place in the queue. Their edges are the same.
	for _, ev := range []BulkheadEvent{BulkheadRelease, BulkheadTimeout, BulkheadCancel} {
		act := bhWithdraw
		if ev == BulkheadRelease {
			act = bhFreeSlot
		}
		b.Internal(BulkheadAvailable, ev).Do(act)
		b.Internal(BulkheadSaturated, ev).When(bhWaiting).Do(act)
		b.On(BulkheadSaturated, ev, BulkheadAvailable).Do(act)
		b.On(BulkheadQueueFull, ev, BulkheadSaturated).Do(act)
	}
	return b.MustBuild()
}
