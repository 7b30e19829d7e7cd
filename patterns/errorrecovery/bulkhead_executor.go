package errorrecovery

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// BulkheadExecutor bounds the calls in flight to a dependency: at most
// MaxConcurrent run at once, at most MaxQueueSize more wait for a slot,
// first in, first out, and the rest are rejected at once. It is a shared
// Instance of its machine (Definition): every change of its counts is an
// action of a transition of that machine, so the machine can be drawn,
// observed and, with WithBulkheadDefinition, changed.
//
// A BulkheadExecutor is safe for concurrent use and must not be copied.
// One may be shared by any number of callers and workflows.
type BulkheadExecutor struct {
	inst    *engine.Instance[BulkheadState, BulkheadEvent, BulkheadData]
	clock   engine.Clock
	timeout time.Duration // QueueTimeout
	closed  atomic.Bool   // set by Close, never cleared
	pool    *bhPool       // nil unless UseWorkerPool

	// Outcomes, counted when each call ends. Active and queued calls are
	// counted by the machine's data.
	completed, rejected, timedOut, cancelled atomic.Uint64

	// Made once, returned to every call they reject.
	errFull, errTimeout, errClosed *BulkheadError
}

// BulkheadMetrics are a bulkhead's gauges and counters. Every call that
// has begun is in exactly one of Active, Queued, Completed, Rejected,
// TimedOut and Cancelled.
type BulkheadMetrics struct {
	// Active is the number of calls holding a slot, Queued the number
	// waiting for one (read together, from the machine's data).
	Active, Queued int
	// Completed counts calls that ran: their function returned, with or
	// without an error, or panicked. With Acquire and Release, it counts
	// releases.
	Completed uint64
	// Rejected counts calls refused at once: the queue was full, or the
	// executor was closed.
	Rejected uint64
	// TimedOut counts calls that waited QueueTimeout in the queue.
	TimedOut uint64
	// Cancelled counts calls whose context ended before they got a slot.
	Cancelled uint64
}

// NewBulkheadExecutor returns a bulkhead for cfg, or the *ConfigError of
// the first invalid field. With UseWorkerPool it starts MaxConcurrent
// goroutines, which Close stops.
func NewBulkheadExecutor(cfg BulkheadConfig, opts ...BulkheadOption) (*BulkheadExecutor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o bulkheadOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = engine.RealClock{}
	}
	if o.def == nil {
		o.def = BulkheadDefinition()
	}
	if !o.def.CommitsRegardless() {
		return nil, fmt.Errorf("errorrecovery: bulkhead definition %q does not commit regardless of the caller's context (fsm.Builder.CommitRegardless): its steps move slots and must not stop halfway", o.def.Name())
	}
	eopts := []engine.Option{engine.WithClock(o.clock)}
	if o.observer != nil {
		eopts = append(eopts, engine.WithObserver(o.observer))
	}
	data := BulkheadData{maxActive: cfg.MaxConcurrent, maxQueue: cfg.MaxQueueSize}
	inst, err := engine.NewInstance(o.def, data, eopts...)
	if err != nil {
		return nil, err
	}
	b := &BulkheadExecutor{inst: inst, clock: o.clock, timeout: cfg.QueueTimeout}
	rejection := func(r BulkheadReason) *BulkheadError {
		return &BulkheadError{Reason: r, MaxConcurrent: cfg.MaxConcurrent, MaxQueueSize: cfg.MaxQueueSize, QueueTimeout: cfg.QueueTimeout}
	}
	b.errFull, b.errTimeout, b.errClosed = rejection(BulkheadFull), rejection(BulkheadTimedOut), rejection(BulkheadClosed)
	if cfg.UseWorkerPool {
		b.pool = newBulkheadPool(b, cfg.MaxConcurrent)
	}
	return b, nil
}

// Execute runs fn once the bulkhead admits it, and returns fn's error, or
// a *BulkheadError when fn did not run:
//
//   - at once, with ErrBulkheadFull, when every slot is taken and the
//     queue is full (or there is no queue);
//   - after waiting in the queue, with ErrQueueTimeout when QueueTimeout
//     passed, or with the caller's context error (errors.Is
//     context.Canceled or context.DeadlineExceeded) when ctx ended;
//   - with ErrBulkheadClosed after Close.
//
// A call waits only while queued; ctx is not checked otherwise, except
// that a call whose ctx has already ended is not admitted. fn runs in the
// caller's goroutine, or on a worker of the pool with UseWorkerPool; the
// caller waits for it either way. A panic in fn releases the slot and goes
// on, with its original value, in the caller's goroutine.
//
// Admission when a slot is free allocates nothing; waiting in the queue
// does (the waiter and its context), and so does the worker-pool mode.
func (b *BulkheadExecutor) Execute(ctx context.Context, fn func(context.Context) error) error {
	if err := b.Acquire(ctx); err != nil {
		return err
	}
	if b.pool != nil {
		return b.pool.run(ctx, fn)
	}
	defer b.Release()
	return fn(ctx)
}

// Acquire takes a slot, waiting in the queue if need be, for work the
// caller runs itself; it returns nil when the caller holds a slot, which
// it must give back with Release, and otherwise an error as Execute does.
// With UseWorkerPool, Acquire reserves a slot but runs nothing on the
// pool.
func (b *BulkheadExecutor) Acquire(ctx context.Context) error {
	if b.closed.Load() {
		b.rejected.Add(1)
		return b.errClosed
	}
	if err := ctx.Err(); err != nil {
		b.cancelled.Add(1)
		return &BulkheadError{Reason: BulkheadCancelled, Err: err}
	}
	c := bhCallPool.Get().(*bhCall)
	c.parent = ctx
	_, err := engine.FireWith(ctx, b.inst, BulkheadAcquire, c)
	outcome, w := c.outcome, c.w
	*c = bhCall{}
	bhCallPool.Put(c)
	switch outcome {
	case bhAdmitted:
		return nil
	case bhQueued:
		return b.wait(ctx, w)
	}
	b.rejected.Add(1)
	if err != nil && !errors.Is(err, engine.ErrUnhandled) {
		return err
	}
	return b.errFull
}

// wait waits in the queue as w until a slot is handed to w, QueueTimeout
// passes on the clock, or ctx ends, whichever happens first.
func (b *BulkheadExecutor) wait(ctx context.Context, w *bhWaiter) error {
	var err error
	if b.timeout > 0 {
		err = engine.SleepUntil(b.clock, w.ctx, w.since.Add(b.timeout))
	} else {
		<-w.ctx.Done()
		err = w.ctx.Err()
	}
	if err != nil && context.Cause(w.ctx) == errBulkheadGranted {
		if b.closed.Load() {
			b.release()
			b.rejected.Add(1)
			return b.errClosed
		}
		return nil
	}
	// The wait ended first: withdraw. If a slot was handed to w meanwhile,
	// the machine hands it on.
	ev := BulkheadCancel
	if err == nil {
		ev = BulkheadTimeout
	}
	c := bhCallPool.Get().(*bhCall)
	c.w = w
	_, ferr := engine.FireWith(ctx, b.inst, ev, c)
	*c = bhCall{}
	bhCallPool.Put(c)
	w.grant(nil) // detach w's context from ctx
	if ferr != nil {
		panic(fmt.Sprintf("errorrecovery: the bulkhead machine did not withdraw a queued call: %v", ferr))
	}
	if ev == BulkheadTimeout {
		b.timedOut.Add(1)
		return b.errTimeout
	}
	b.cancelled.Add(1)
	return &BulkheadError{Reason: BulkheadCancelled, Err: ctx.Err()}
}

// Release gives back the slot taken by a successful Acquire, handing it to
// the oldest queued call if there is one. Calling it without a slot held
// is a programming error and panics.
func (b *BulkheadExecutor) Release() {
	b.release()
	b.completed.Add(1)
}

func (b *BulkheadExecutor) release() {
	if _, err := b.inst.Fire(context.Background(), BulkheadRelease); err != nil {
		panic(fmt.Sprintf("errorrecovery: bulkhead release with no slot held, or a definition that does not release: %v", err))
	}
}

// State reports how full the bulkhead is. It takes no lock.
func (b *BulkheadExecutor) State() BulkheadState { return b.inst.State() }

// Definition returns the machine the executor runs.
func (b *BulkheadExecutor) Definition() *fsm.Definition[BulkheadState, BulkheadEvent, BulkheadData] {
	return b.inst.Definition()
}

// Metrics returns the bulkhead's gauges, read together under the
// machine's lock, and its counters, each read atomically.
func (b *BulkheadExecutor) Metrics() BulkheadMetrics {
	var m BulkheadMetrics
	b.inst.Do(func(_ BulkheadState, d *BulkheadData) { m.Active, m.Queued = d.active, d.queued })
	m.Completed = b.completed.Load()
	m.Rejected = b.rejected.Load()
	m.TimedOut = b.timedOut.Load()
	m.Cancelled = b.cancelled.Load()
	return m
}

// Close stops the bulkhead: calls that have not begun to run, new ones and
// those still queued (when a slot comes to them), are rejected with
// ErrBulkheadClosed; calls running finish. With UseWorkerPool, Close waits
// until the workers have run what they were given and exited, or until ctx
// ends, and then returns ctx's error; calling it again waits again.
// Without a pool there is nothing to wait for and Close returns nil.
func (b *BulkheadExecutor) Close(ctx context.Context) error {
	b.closed.Store(true)
	if b.pool == nil {
		return nil
	}
	return b.pool.close(ctx)
}
