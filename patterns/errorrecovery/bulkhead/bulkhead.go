package bulkhead

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Bulkhead bounds the calls in flight to a dependency: at most
// MaxConcurrent run at once, at most MaxQueueSize more wait for a slot,
// first in, first out, and the rest are rejected at once. It is a shared
// Instance of its machine (Definition): every change of its counts is an
// action of a transition of that machine, so the machine can be drawn,
// observed and, with engine.WithDefinition, changed.
//
// A Bulkhead is safe for concurrent use and must not be copied. One may
// be shared by any number of callers and workflows.
type Bulkhead struct {
	_ noCopy
	// slots counts the calls holding a slot; the admission fast path
	// takes and frees them (see slots). completed counts the calls that
	// ran (Release adds one). Every caller writes both, so they are kept
	// first, in the same 16 bytes and so on one cache line (heap objects
	// this size are 16-byte aligned): the release's compare-and-swap
	// brings the line to the releasing core and the add that follows
	// finds it there, instead of pulling a second contended line.
	slots     slots
	completed atomic.Uint64
	stepper
	clock  engine.Clock
	cfg    Config      // resolved: no zero field
	closed atomic.Bool // set by Close, never cleared
	// realClock: queued calls wait as pooled waiters from waiters (see
	// waiter). The pool is the Bulkhead's own, so that a waiter's channel
	// and timer stay inside the testing/synctest bubble, if any, of the
	// Bulkhead that made them.
	realClock bool
	waiters   sync.Pool
	pool      *pool // nil unless UseWorkerPool

	// Outcomes, counted when each call ends (completed is kept beside
	// slots, above). Active and queued calls are counted by the machine's
	// data.
	rejected, timedOut, cancelled atomic.Uint64

	// Made once, returned to every call they reject.
	errFull, errTimeout, errClosed *Error
}

// noCopy makes go vet's copylocks check report a copied Bulkhead.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Metrics are a bulkhead's gauges and counters. Every call that has begun
// is in exactly one of Active, Queued, Completed, Rejected, TimedOut and
// Cancelled.
type Metrics struct {
	// Active is the number of calls holding a slot, Queued the number
	// waiting for one (read together, from the machine's data).
	Active, Queued int
	// Completed counts calls that ran: their function returned, with or
	// without an error, or panicked. With Acquire and Release, it counts
	// releases.
	Completed uint64
	// Rejected counts calls refused at once: the queue was full, or the
	// bulkhead was closed.
	Rejected uint64
	// TimedOut counts calls that waited QueueTimeout in the queue.
	TimedOut uint64
	// Cancelled counts calls whose context ended before they got a slot.
	Cancelled uint64
}

// New returns a bulkhead for cfg, or the *setup.ConfigError (an
// errorrecovery.ConfigError) of the first invalid field. It reads
// engine.WithClock (the clock queue timeouts run on; tests pass an
// enginetest.Clock, on which a queued call with a QueueTimeout sleeps, so
// BlockUntilWaiters counts it), engine.WithObserver (sees every step, from
// every caller, in order) and engine.WithDefinition (a machine to run
// instead of Definition, such as a copy of it with an edge removed or a
// guard changed; New reads only what its actions, those of Definition
// reused by name, do). With UseWorkerPool it starts MaxConcurrent
// goroutines, which Close stops.
func New(cfg Config, opts ...engine.Option) (*Bulkhead, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, err := setup.Read[State, Event, Data](configName, Definition, opts)
	if err != nil {
		return nil, err
	}
	if !o.Def.CommitsRegardless() {
		return nil, fmt.Errorf("errorrecovery: bulkhead definition %q does not commit regardless of the caller's context (fsm.Builder.CommitRegardless): its steps move slots and must not stop halfway", o.Def.Name())
	}
	cfg = cfg.resolved()
	queue, timeout := max(cfg.MaxQueueSize, 0), max(cfg.QueueTimeout, 0)
	b := &Bulkhead{clock: o.Clock, cfg: cfg}
	switch o.Clock.(type) {
	case engine.RealClock, *engine.RealClock:
		b.realClock = true
		b.waiters.New = newPooledWaiter
	}
	data := Data{maxActive: cfg.MaxConcurrent, maxQueue: queue, slots: &b.slots}
	inst, err := engine.NewInstance(o.Def, data, o.EngineOptions()...)
	if err != nil {
		return nil, err
	}
	b.stepper = stepper{inst: inst, slots: &b.slots,
		fast: o.Def == Definition() && o.Observer == nil}
	if b.fast && inst.State() == StateAvailable {
		b.slots.w.Or(fastBit)
	}
	rejection := func(r Reason) *Error {
		return &Error{Reason: r, MaxConcurrent: cfg.MaxConcurrent, MaxQueueSize: queue, QueueTimeout: timeout}
	}
	b.errFull, b.errTimeout, b.errClosed = rejection(ReasonFull), rejection(ReasonTimedOut), rejection(ReasonClosed)
	if cfg.UseWorkerPool {
		b.pool = newPool(b, cfg.MaxConcurrent)
	}
	return b, nil
}

// Protect runs fn once the bulkhead admits it, and returns fn's error, or
// an *Error when fn did not run:
//
//   - at once, with ErrFull, when every slot is taken and the queue is
//     full (or there is no queue);
//   - after waiting in the queue, with ErrQueueTimeout when QueueTimeout
//     passed, or with the caller's context error (errors.Is
//     context.Canceled or context.DeadlineExceeded) when ctx ended;
//   - with ErrClosed after Close.
//
// A call waits only while queued; ctx is not checked otherwise, except
// that a call whose ctx has already ended is not admitted. fn runs in the
// caller's goroutine, or on a worker of the pool with UseWorkerPool; the
// caller waits for it either way. A panic in fn releases the slot and goes
// on, with its original value, in the caller's goroutine.
//
// Admission when a slot is free allocates nothing, and so does waiting in
// the queue on the real clock once the Bulkhead's pool holds a waiter; on
// another clock a queued call allocates its waiter and context. The
// worker-pool mode allocates per call.
func (b *Bulkhead) Protect(ctx context.Context, fn func(context.Context) error) error {
	if err := b.Acquire(ctx); err != nil {
		return err
	}
	if b.pool != nil {
		return b.pool.protect(ctx, fn)
	}
	defer b.Release()
	return fn(ctx)
}

// Execute runs fn through b as Protect does, and returns fn's result and
// error, or T's zero value and an *Error when fn did not run. In the
// worker-pool mode fn runs on a worker and its result comes back to the
// caller with its error. It allocates as Protect does: nothing when a slot
// is free, outside the worker-pool mode.
func Execute[T any](ctx context.Context, b *Bulkhead, fn func(context.Context) (T, error)) (T, error) {
	if err := b.Acquire(ctx); err != nil {
		var zero T
		return zero, err
	}
	if b.pool != nil {
		return execute(ctx, b.pool, fn)
	}
	defer b.Release()
	return fn(ctx)
}

// Acquire takes a slot, waiting in the queue if need be, for work the
// caller runs itself; it returns nil when the caller holds a slot, which
// it must give back with Release, and otherwise an error as Protect does.
// With UseWorkerPool, Acquire reserves a slot but runs nothing on the
// pool.
func (b *Bulkhead) Acquire(ctx context.Context) error {
	if b.closed.Load() {
		b.rejected.Add(1)
		return b.errClosed
	}
	if err := ctx.Err(); err != nil {
		b.cancelled.Add(1)
		return &Error{Reason: ReasonCancelled, Err: err}
	}
	if b.slots.tryTake(b.cfg.MaxConcurrent) || b.yielded() {
		return nil
	}
	c := callPool.Get().(*call)
	c.parent = ctx
	if b.realClock {
		c.w = b.waiters.Get().(*waiter)
	}
	err := b.step(ctx, EventAcquire, c)
	out, w := c.outcome, c.w
	*c = call{}
	callPool.Put(c)
	switch out {
	case outAdmitted:
		b.putWaiter(w)
		return nil
	case outQueued:
		if w.ready != nil {
			return b.waitReady(ctx, w)
		}
		return b.wait(ctx, w)
	}
	b.putWaiter(w)
	b.rejected.Add(1)
	if err != nil && !errors.Is(err, engine.ErrUnhandled) {
		return err
	}
	return b.errFull
}

// yielded lets the goroutines that hold every slot run before the caller
// joins the queue, and reports whether a slot was then free on the fast
// path. It yields only when the step would queue the caller: every slot
// taken (Saturated) and a queue to wait in; a rejection stays immediate.
//
// With more goroutines than processors, the holders of the slots are
// mostly goroutines that are runnable but not running (descheduled
// between Acquire and Release, or just handed a slot). A caller that
// queued at once would park, and each release would then hand the slot to
// a parked waiter and the releaser, calling again, would queue and park
// behind it: a convoy in which every call costs a park, a wake-up and two
// steps under the lock, and which, first in first out, never drains (with
// 64 goroutines on 2 processors, 9 calls in 10 queued, at 1.2 µs a call).
// One yield first lets the holders run and release, as a mutex spins
// before it parks; the queue then rarely forms. A call that still finds
// every slot taken queues behind those already waiting, so the yield
// changes nobody's place in the queue.
func (b *Bulkhead) yielded() bool {
	if b.cfg.MaxQueueSize <= 0 || b.inst.State() != StateSaturated {
		return false
	}
	runtime.Gosched()
	return b.slots.tryTake(b.cfg.MaxConcurrent)
}

// wait waits in the queue as w until a slot is handed to w, QueueTimeout
// passes on the clock, or ctx ends, whichever happens first.
func (b *Bulkhead) wait(ctx context.Context, w *waiter) error {
	var err error
	if b.cfg.QueueTimeout > 0 {
		err = engine.SleepUntil(b.clock, w.ctx, w.since.Add(b.cfg.QueueTimeout))
	} else {
		<-w.ctx.Done()
		err = w.ctx.Err()
	}
	if err != nil && context.Cause(w.ctx) == errGranted {
		if b.closed.Load() {
			b.release()
			b.rejected.Add(1)
			return b.errClosed
		}
		return nil
	}
	// The wait ended first: withdraw. If a slot was handed to w meanwhile,
	// the machine hands it on.
	ev := EventCancel
	if err == nil {
		ev = EventTimeout
	}
	ferr := b.withdraw(ctx, ev, w)
	w.grant(nil) // detach w's context from ctx
	return b.withdrawn(ctx, ev, ferr)
}

// waitReady is wait for a pooled waiter, on the real clock: it waits on
// w.ready, ctx and w's timer, and puts w back in the pool.
func (b *Bulkhead) waitReady(ctx context.Context, w *waiter) error {
	var timeout <-chan time.Time
	if b.cfg.QueueTimeout > 0 {
		// Relative, with no clock read of our own: on the real clock the
		// microseconds since the step that queued w are not worth two.
		w.timer.Reset(b.cfg.QueueTimeout)
		timeout = w.timer.C
	}
	ev := EventCancel
	select {
	case <-w.ready:
		return b.granted(w)
	case <-ctx.Done():
	case <-timeout:
		ev = EventTimeout
	}
	select { // a slot handed over meanwhile wins, as in wait
	case <-w.ready:
		return b.granted(w)
	default:
	}
	ferr := b.withdraw(ctx, ev, w)
	select { // the slot handed over after all was handed on by the withdrawal
	case <-w.ready:
	default:
	}
	b.putWaiter(w)
	return b.withdrawn(ctx, ev, ferr)
}

// granted ends the wait of a pooled waiter that was handed a slot.
func (b *Bulkhead) granted(w *waiter) error {
	b.putWaiter(w)
	if b.closed.Load() {
		b.release()
		b.rejected.Add(1)
		return b.errClosed
	}
	return nil
}

// withdraw takes w, whose wait ended with ev, out of the queue, or hands
// on the slot handed to it meanwhile.
func (b *Bulkhead) withdraw(ctx context.Context, ev Event, w *waiter) error {
	c := callPool.Get().(*call)
	c.w = w
	err := b.step(ctx, ev, c)
	*c = call{}
	callPool.Put(c)
	return err
}

// withdrawn is the error of a call withdrawn with ev.
func (b *Bulkhead) withdrawn(ctx context.Context, ev Event, ferr error) error {
	if ferr != nil {
		panic(fmt.Sprintf("errorrecovery: the bulkhead machine did not withdraw a queued call: %v", ferr))
	}
	if ev == EventTimeout {
		b.timedOut.Add(1)
		return b.errTimeout
	}
	b.cancelled.Add(1)
	return &Error{Reason: ReasonCancelled, Err: ctx.Err()}
}

func newPooledWaiter() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &waiter{ready: make(chan struct{}, 1), timer: t}
}

// putWaiter puts w, if it is a pooled waiter out of the queue, back in the
// pool.
func (b *Bulkhead) putWaiter(w *waiter) {
	if w == nil || w.ready == nil {
		return
	}
	w.timer.Stop()
	*w = waiter{ready: w.ready, timer: w.timer}
	b.waiters.Put(w)
}

// Release gives back the slot taken by a successful Acquire, handing it to
// the oldest queued call if there is one. Calling it without a slot held
// is a programming error and panics.
func (b *Bulkhead) Release() {
	b.release()
	b.completed.Add(1)
}

func (b *Bulkhead) release() {
	if b.slots.tryFree() {
		return
	}
	if err := b.step(context.Background(), EventRelease, nil); err != nil {
		panic(fmt.Sprintf("errorrecovery: bulkhead release with no slot held, or a definition that does not release: %v", err))
	}
}

// State reports how full the bulkhead is. It takes no lock.
func (b *Bulkhead) State() State { return b.inst.State() }

// Definition returns the machine the bulkhead runs.
func (b *Bulkhead) Definition() *fsm.Definition[State, Event, Data] {
	return b.inst.Definition()
}

// Config returns the config the bulkhead runs with, resolved: each zero
// field of the Config given to New replaced by its default, and "none"
// spelled NoQueue or NoTimeout. Two bulkheads whose configs mean the same
// return equal Configs.
func (b *Bulkhead) Config() Config { return b.cfg }

// Metrics returns the bulkhead's gauges, read together under the
// machine's lock (Active may move on the fast path meanwhile, but only
// while Queued is zero and a slot is free), and its counters, each read
// atomically.
func (b *Bulkhead) Metrics() Metrics {
	var m Metrics
	b.inst.Do(func(_ State, d *Data) { m.Active, m.Queued = d.Active(), d.queued })
	m.Completed = b.completed.Load()
	m.Rejected = b.rejected.Load()
	m.TimedOut = b.timedOut.Load()
	m.Cancelled = b.cancelled.Load()
	return m
}

// Close stops the bulkhead: calls that have not begun to run, new ones and
// those still queued (when a slot comes to them), are rejected with
// ErrClosed; calls running finish. With UseWorkerPool, Close waits until
// the workers have run what they were given and exited, or until ctx
// ends, and then returns ctx's error; calling it again waits again.
// Without a pool there is nothing to wait for and Close returns nil.
func (b *Bulkhead) Close(ctx context.Context) error {
	b.closed.Store(true)
	if b.pool == nil {
		return nil
	}
	return b.pool.close(ctx)
}
