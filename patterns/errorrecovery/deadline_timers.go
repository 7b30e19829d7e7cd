package errorrecovery

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineTimers holds the deadlines of an executor's attempt contexts on
// the real clock that something asked for Done, with one runtime timer
// for the earliest of them. Arming a runtime timer per attempt (Reset when
// the context is asked for Done, Stop when the attempt ends) cost each
// such attempt two trips through the runtime's timer heap, its lock and a
// clock reading; here an attempt adds its context to a small heap of our
// own and takes it out, and the timer is set again only when a deadline
// earlier than the one it is set for comes in. An attempt that ends leaves
// the timer as it is: it fires at most once for nothing, finds no
// deadline due, and is set for the next one or left unset. Deadlines come
// in mostly in order (each is the attempt's start plus the same
// AttemptTimeout), so under steady load the timer is set about once per
// AttemptTimeout, however many attempts there are.
//
// The set is the executor's, not the package's, so that its timer stays
// inside the testing/synctest bubble, if any, of the workflow that made
// it; the executors of a workflow's keys share their workflow's.
type deadlineTimers struct {
	// anchor is a full reading of the real clock that starts read
	// (see now); nil until the first.
	anchor atomic.Pointer[time.Time]

	mu    sync.Mutex
	queue []timerEntry // a min-heap by key; each context's slot is 1 + its index
	timer *time.Timer  // made by the first add; runs fire
	// ref is the reading of the real clock, made by the first add, that
	// deadlines are ordered from: a context's key is its deadline as the
	// time since ref, on the monotonic clock.
	ref time.Time
	due time.Duration // the key timer is set to fire at, while set is
	set bool
}

// timerEntry is a context in deadlineTimers' heap, with its deadline as
// the time since the set's ref.
type timerEntry struct {
	key time.Duration
	c   *callCtx
}

// anchorAge is how long a full reading of the real clock serves as the
// anchor of the readings after it (see deadlineTimers.now).
const anchorAge = time.Second

// start reads the real clock for an execution's start: an anchor, a full
// reading (wall and monotonic) at most anchorAge old, plus the time since,
// from the monotonic clock alone. A full reading (time.Now) reads the wall
// clock too, and costs about twice a monotonic one (time.Since) on the
// virtual machines we measure on. The instant is the monotonic reading
// time.Now would have given, which is all that deadlines are compared and
// timers set with; as a time (instant.time), its wall-clock part is the
// anchor's plus the monotonic time since, so it lags a step of the
// system's clock by at most anchorAge. (A slewed clock moves both alike.)
func (p *deadlineTimers) start() instant {
	if a := p.anchor.Load(); a != nil {
		if since := time.Since(*a); since >= 0 && since < anchorAge {
			return instant{base: *a, off: since}
		}
	}
	t := time.Now()
	p.anchor.Store(&t)
	return instant{base: t}
}

// add puts c, whose deadline has not passed, in the set. The caller holds
// c.mu and has marked c queued.
func (p *deadlineTimers) add(c *callCtx) {
	p.mu.Lock()
	if p.ref.IsZero() {
		p.ref = time.Now()
	}
	key := c.deadline.base.Sub(p.ref) + c.deadline.off
	p.push(timerEntry{key: key, c: c})
	if !p.set || key < p.due {
		p.setLocked(key)
	}
	p.mu.Unlock()
}

// remove takes c out of the set, if it is still in it (fire takes out
// those it expires). The timer is left set.
func (p *deadlineTimers) remove(c *callCtx) {
	p.mu.Lock()
	if c.slot > 0 {
		p.removeAt(int(c.slot) - 1)
	}
	p.mu.Unlock()
}

// setLocked sets the timer to fire at key at.
func (p *deadlineTimers) setLocked(at time.Duration) {
	p.due, p.set = at, true
	d := at - time.Since(p.ref)
	if p.timer == nil {
		p.timer = time.AfterFunc(d, p.fire)
		return
	}
	p.timer.Reset(d)
}

// fire is the timer's function: it takes out the contexts whose deadline
// has passed, sets the timer for the earliest left, if any, and ends
// those contexts (outside p.mu: expiring one takes its own lock, which is
// held while add and remove take p.mu).
func (p *deadlineTimers) fire() {
	var buf [4]*callCtx
	due := buf[:0]
	p.mu.Lock()
	now := time.Since(p.ref)
	for len(p.queue) > 0 && p.queue[0].key <= now {
		due = append(due, p.queue[0].c)
		p.removeAt(0)
	}
	p.set = false
	if len(p.queue) > 0 {
		p.setLocked(p.queue[0].key)
	}
	p.mu.Unlock()
	for _, c := range due {
		c.expire(context.DeadlineExceeded)
	}
}

// push adds e to the heap.
func (p *deadlineTimers) push(e timerEntry) {
	p.queue = append(p.queue, e)
	e.c.slot = int32(len(p.queue))
	p.up(len(p.queue) - 1)
}

// removeAt takes the context at index i out of the heap.
func (p *deadlineTimers) removeAt(i int) {
	q := p.queue
	last := len(q) - 1
	q[i].c.slot = 0
	if i != last {
		q[i] = q[last]
		q[i].c.slot = int32(i + 1)
	}
	q[last] = timerEntry{}
	p.queue = q[:last]
	if i != last {
		p.down(i)
		p.up(i)
	}
}

func (p *deadlineTimers) less(i, j int) bool {
	return p.queue[i].key < p.queue[j].key
}

func (p *deadlineTimers) swap(i, j int) {
	q := p.queue
	q[i], q[j] = q[j], q[i]
	q[i].c.slot, q[j].c.slot = int32(i+1), int32(j+1)
}

func (p *deadlineTimers) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !p.less(i, parent) {
			return
		}
		p.swap(i, parent)
		i = parent
	}
}

func (p *deadlineTimers) down(i int) {
	n := len(p.queue)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && p.less(r, l) {
			m = r
		}
		if !p.less(m, i) {
			return
		}
		p.swap(i, m)
		i = m
	}
}
