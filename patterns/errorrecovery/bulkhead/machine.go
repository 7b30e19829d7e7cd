package bulkhead

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

// State is a state of the bulkhead machine: how full the bulkhead is. A
// Bulkhead reports it with its State method, from one atomic load.
type State uint8

// The states, from empty to full. Which one the bulkhead is in follows
// from its counts alone: Saturated exactly when every slot is taken and
// the queue has room (or there is no queue), QueueFull exactly when every
// slot is taken and the queue holds MaxQueueSize >= 1 calls.
const (
	StateAvailable State = iota // a slot is free: a call runs at once
	StateSaturated              // every slot is taken: a call waits in the queue, or is rejected when there is no queue
	StateQueueFull              // every slot is taken and the queue is at capacity: a call is rejected at once
)

var stateNames = []string{"Available", "Saturated", "QueueFull"}

// String returns the state's name, as diagrams and traces print it.
func (s State) String() string {
	return enum.StringOr(stateNames, s, "State(?)")
}

// Event is an event of the bulkhead machine.
type Event uint8

// The events. Timeout and Cancel withdraw a queued call: its place in the
// queue or, when a slot was handed to it at the same moment, that slot,
// which goes on to the next call in the queue.
const (
	EventAcquire Event = iota // a call asks for a slot
	EventRelease              // a call that held a slot gives it back
	EventTimeout              // a queued call waited QueueTimeout
	EventCancel               // a queued call's context ended
)

var eventNames = []string{"acquire", "release", "timeout", "cancel"}

// String returns the event's name.
func (e Event) String() string {
	return enum.StringOr(eventNames, e, "Event(?)")
}

// Data is the bulkhead machine's data: its limits, its counts and its
// queue of waiting calls. Only the actions of Definition change it, under
// the Instance's lock; the accessors let guards of a custom definition,
// and observers, read it.
type Data struct {
	maxActive int    // MaxConcurrent
	maxQueue  int    // MaxQueueSize
	slots     *slots // calls holding a slot, in the word the admission fast path shares
	queued    int    // calls in the queue, the length of head…tail

	// The queue, first in first out: head is the oldest waiter. A waiter
	// leaves from the head when a slot is handed to it, from anywhere when
	// it withdraws.
	head, tail *waiter
}

// MaxConcurrent is the number of slots.
func (d *Data) MaxConcurrent() int { return d.maxActive }

// MaxQueueSize is the capacity of the queue: 0 when there is none.
func (d *Data) MaxQueueSize() int { return d.maxQueue }

// Active is the number of calls holding a slot.
func (d *Data) Active() int { return d.count().active() }

// count is the slot word: the Bulkhead's, or one of the data's own for
// data made elsewhere (a zero Data run by another Instance).
func (d *Data) count() *slots {
	if d.slots == nil {
		d.slots = new(slots)
	}
	return d.slots
}

// Queued is the number of calls waiting in the queue.
func (d *Data) Queued() int { return d.queued }

// waiter is a call waiting in the queue. It waits in one of two ways.
// On a clock other than the real one, its wait ends when ctx is done:
// cancelled with the cause errGranted when a slot is handed to it, or
// because the caller's context, ctx's parent, ended; it sleeps on the
// clock for its QueueTimeout, so that a manual clock counts it among its
// waiters. On the real clock (ready != nil) it comes from the Bulkhead's
// pool with a channel and a timer made once: a slot handed to it is a
// value sent on ready, and it waits on ready, the caller's context and
// the timer, allocating nothing. Everything else it tells is under the
// Instance's lock.
type waiter struct {
	ctx        context.Context
	grant      context.CancelCauseFunc
	ready      chan struct{} // buffered, 1: the slot handed over; nil when waiting on ctx
	timer      *time.Timer   // QueueTimeout on the real clock; with ready
	prev, next *waiter
	queued     bool
	// since is when the call joined the queue, on the machine's clock: its
	// QueueTimeout runs from there, not from whenever its goroutine gets
	// to sleep, so a clock advanced in between cannot strand it. Not set
	// for a pooled waiter, whose timer runs on the real clock from the
	// moment its goroutine arms it, just after the step that queued it.
	since time.Time
}

// errGranted is the cause with which a waiter's context ends when a slot
// is handed to it.
var errGranted = errors.New("errorrecovery: bulkhead slot granted")

// errMisuse reports an action of the bulkhead machine run where it cannot
// be: an acquire action fired by something other than a Bulkhead, or a
// release with nothing to release.
var errMisuse = errors.New("errorrecovery: bulkhead action used out of place")

// push appends w at the tail of the queue.
func (d *Data) push(w *waiter) {
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
func (d *Data) unlink(w *waiter) {
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
func (d *Data) free(w *waiter) bool {
	switch {
	case w != nil && w.queued:
		d.unlink(w)
	case d.head != nil:
		h := d.head
		d.unlink(h)
		h.handOver()
	case d.count().active() > 0:
		d.count().add(-1)
	default:
		return false
	}
	return true
}

// handOver gives w the slot its caller waits for. A waiter is handed at
// most one slot per wait, so the send on ready never blocks.
func (w *waiter) handOver() {
	if w.ready != nil {
		w.ready <- struct{}{}
		return
	}
	w.grant(errGranted)
}

// outcome is what an acquire step did for its caller.
type outcome uint8

const (
	outNone     outcome = iota // no acquire action ran: the call is rejected
	outAdmitted                // the call holds a slot
	outQueued                  // the call waits in the queue as call.w
	outRejected                // the reject action ran
)

// call is the argument a Bulkhead fires each step with (engine.FireWith).
// An acquire on the real clock brings in w the pooled waiter to enqueue
// should it have to wait.
// It carries what the step's actions need from the caller (its context,
// the waiter that withdraws) and what they hand back (the outcome, the
// waiter enqueued), so each caller learns the result of its own step.
// The machine commits regardless of the caller's context: a step that has
// begun changing the counts is never stopped halfway.
//
// A call is recycled through a pool (an argument escapes to the heap), and
// holds no context or waiter while in it.
type call struct {
	parent  context.Context
	w       *waiter
	outcome outcome
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// machine is what the guards and actions see of the running machine.
type machine = states.Machine[State, Event, Data]

// The actions of the bulkhead machine. Each checks that it can do its
// work before changing anything, and otherwise returns an error, which
// leaves the machine as it was.
var (
	actTakeSlot = states.Do("take slot", func(_ context.Context, m machine) error {
		c, ok := engine.ArgOf[call](m)
		if !ok {
			return errMisuse
		}
		m.Data().count().add(1)
		c.outcome = outAdmitted
		return nil
	})
	actEnqueue = states.Do("enqueue", func(_ context.Context, m machine) error {
		c, ok := engine.ArgOf[call](m)
		if !ok || c.parent == nil {
			return errMisuse
		}
		w := c.w // a pooled waiter the caller brought, on the real clock
		if w == nil {
			w = new(waiter)
			// Deriving is not waiting: engine.Quiet keeps a parent whose
			// deadline runs on a counting clock (enginetest's) from
			// counting as waited on; the wait itself is on the clock
			// (QueueTimeout) or on w.ctx.
			w.ctx, w.grant = context.WithCancelCause(engine.Quiet(c.parent))
		}
		if w.ready == nil { // a pooled waiter's timer runs from its Reset: see waitReady
			w.since = m.Now()
		}
		m.Data().push(w)
		c.w, c.outcome = w, outQueued
		return nil
	})
	actReject = states.Do("reject", func(_ context.Context, m machine) error {
		if c, ok := engine.ArgOf[call](m); ok {
			c.outcome = outRejected
		}
		return nil
	})
	actFreeSlot = states.Do("free slot", func(ctx context.Context, m machine) error {
		if !m.Data().free(nil) {
			return errMisuse
		}
		return nil
	})
	actWithdraw = states.Do("withdraw", func(_ context.Context, m machine) error {
		c, ok := engine.ArgOf[call](m)
		if !ok || c.w == nil || !m.Data().free(c.w) {
			return errMisuse
		}
		return nil
	})
)

// The guards, on the counts only.
var (
	ifSpareSlot = transitions.If("spare slot", func(m machine) bool {
		d := m.Data()
		return d.count().active() < d.maxActive-1
	})
	ifSpareRoom = transitions.If("spare room", func(m machine) bool {
		d := m.Data()
		return d.queued < d.maxQueue-1
	})
	ifQueueRoom = transitions.If("queue room", func(m machine) bool {
		d := m.Data()
		return d.queued < d.maxQueue
	})
	ifWaiting = transitions.If("waiting", func(m machine) bool {
		return m.Data().queued > 0
	})
)

var definition = sync.OnceValue(buildDefinition)

// Definition returns the bulkhead machine that every Bulkhead runs
// unless New is given another with engine.WithDefinition. Its limits are
// in its data, so one definition serves every bulkhead.
//
// An acquire takes a slot while one is free ("spare slot": more than one
// is, so the bulkhead stays Available), else joins the queue while it has
// room ("spare room": room for more after this one), else is rejected. A
// release hands the slot to the oldest waiter when one is "waiting", else
// frees it. A timeout or cancel withdraws a queued call, with the same
// effect on the counts as a release: one fewer in the queue, or, when the
// slot had just been handed to it, that slot handed on. The states follow
// the counts, as State describes.
func Definition() *fsm.Definition[State, Event, Data] {
	return definition()
}

func buildDefinition() *fsm.Definition[State, Event, Data] {
	b := fsm.New[State, Event, Data]("bulkhead")
	b.CommitRegardless() // its steps move slots: never stopped halfway
	b.State(StateAvailable, states.Initial)
	b.State(StateSaturated, states.Normal)
	b.State(StateQueueFull, states.Normal)

	b.Internal(StateAvailable, EventAcquire).When(ifSpareSlot).Do(actTakeSlot)
	b.On(StateAvailable, EventAcquire, StateSaturated).Do(actTakeSlot)
	b.Internal(StateSaturated, EventAcquire).When(ifSpareRoom).Do(actEnqueue)
	b.On(StateSaturated, EventAcquire, StateQueueFull).When(ifQueueRoom).Do(actEnqueue)
	b.Internal(StateSaturated, EventAcquire).Do(actReject)
	b.Internal(StateQueueFull, EventAcquire).Do(actReject)

	// A release, a timeout and a cancel each take one call off the books:
	// a slot or a place in the queue. Their edges are the same.
	for _, ev := range []Event{EventRelease, EventTimeout, EventCancel} {
		act := actWithdraw
		if ev == EventRelease {
			act = actFreeSlot
		}
		b.Internal(StateAvailable, ev).Do(act)
		b.Internal(StateSaturated, ev).When(ifWaiting).Do(act)
		b.On(StateSaturated, ev, StateAvailable).Do(act)
		b.On(StateQueueFull, ev, StateSaturated).Do(act)
	}
	return b.MustBuild()
}
