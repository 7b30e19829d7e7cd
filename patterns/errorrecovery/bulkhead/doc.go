// Package bulkhead bounds the calls in flight to a dependency, so that a
// slow dependency cannot take every goroutine, connection or thread of
// its callers with it. A Bulkhead lets at most Config.MaxConcurrent calls
// run at once, at most Config.MaxQueueSize more wait for a slot, first in,
// first out, and rejects the rest at once:
//
//	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 4, QueueTimeout: 500 * time.Millisecond})
//	if err != nil {
//		return err // an *errorrecovery.ConfigError naming the field
//	}
//	defer b.Close(context.Background())
//
//	page, err := bulkhead.Execute(ctx, b, render) // render(ctx) (Page, error), once a slot is free
//	switch {
//	case errors.Is(err, bulkhead.ErrFull):
//		// four running, 100 queued: rejected at once, render not called
//	case errors.Is(err, bulkhead.ErrQueueTimeout):
//		// queued for 500ms without getting a slot
//	}
//
// # The machine
//
// A Bulkhead is a shared engine.Instance of Definition, whose states say
// how full it is (StateAvailable, StateSaturated, StateQueueFull) and whose
// events are a call asking for a slot, giving it back, and a queued call
// withdrawing when its queue timeout passes or its context ends. Every
// change of the counts is an action of one of its transitions, so the
// bulkhead can be drawn (Definition().Dot()), watched (engine.WithObserver)
// and changed (engine.WithDefinition with a copy of Definition whose edges
// or guards differ). A released slot is handed straight to the oldest
// waiter, so nobody overtakes a queued call.
//
// # Admission without the lock
//
// The number of calls holding a slot lives in one atomic word beside the
// Instance. While the bulkhead is Available and more than one slot is
// free, Acquire takes a slot, and Release gives one back, with a single
// compare-and-swap of that word: the compiled form of Available's two
// internal transitions (acquire [spare slot] / take slot, and release /
// free slot), which change no state. Everything else is a step of the
// Instance, under its lock: taking the last slot (Available → Saturated),
// queueing, rejecting, the hand-over to a waiter and withdrawals. A step
// closes the fast path before its guards read the count and opens it again
// after its commit only if the machine is then Available, so State and
// admission never disagree. The fast path is on only for Definition
// itself with no observer; any other definition, and an observer, see
// every step through the Instance. A call that finds every slot taken
// yields the processor once before it queues, so that holders that are
// runnable but descheduled can release: queueing at once would make the
// first-in-first-out queue a convoy of parked callers under contention.
// The yield changes nobody's place in the queue.
//
// On the real clock a queued call waits as a waiter from the Bulkhead's
// own pool, whose channel and timer are made once: a slot handed over is
// a value sent on the channel. On another clock (a manual one in tests) it
// waits on a context derived from the caller's and sleeps on the clock
// for its queue timeout, so that the clock counts it as a waiter.
//
// # Protect, Execute, Acquire and Release
//
// Bulkhead.Protect runs a func(context.Context) error once admitted and
// returns its error; the package-level Execute does the same for a
// function that returns a result too. Both release the slot when the
// function returns or panics (the panic goes on, with its value, in the
// caller's goroutine). Acquire and Release take and give back a slot
// around work the caller runs itself, as the per-call machine of package
// errorrecovery does. Admission while a slot is free allocates nothing,
// and neither, on the real clock, does waiting in the queue once the
// Bulkhead's pool holds a waiter.
//
// With Config.UseWorkerPool, admitted calls run on MaxConcurrent
// goroutines that New starts and Close stops; the caller still waits for
// its call.
//
// # Composing with errorrecovery
//
// Alone, a Bulkhead protects whatever calls it. As the BULKHEAD strategy
// of an errorrecovery.ErrorRecoveryConfig, it is either described by the
// Bulkhead field (a *Config; the workflow makes the Bulkhead) or passed in
// ready-made as SharedBulkhead, to share one bulkhead between workflows of
// any result types; the workflow's per-call machine takes a slot with
// Acquire and gives it back with Release, and the time queued counts
// against the workflow's overall timeout. A workflow refuses a config
// with UseWorkerPool: it takes slots in the caller's goroutine. To run a
// workflow's calls on a pool, share a pool-mode Bulkhead and call its
// Protect from the workflow's function.
//
// # Errors
//
// A call the bulkhead did not run gets an *Error whose Reason says why:
// ReasonFull (errors.Is ErrFull), ReasonTimedOut (ErrQueueTimeout; its
// Timeout method reports true), ReasonClosed (ErrClosed), or
// ReasonCancelled, which unwraps to the caller's context error
// (context.Canceled or context.DeadlineExceeded). The errors of full,
// timed out and closed are made once per Bulkhead, so rejecting allocates
// nothing; treat them as read-only. An invalid Config is an
// *errorrecovery.ConfigError naming the field.
//
// # Clock
//
// Queue timeouts run on the bulkhead's clock, the real one unless
// engine.WithClock gives another. A queued call with a queue timeout
// sleeps on that clock, so a test with an enginetest.Clock can wait until
// every queued call is parked (BlockUntilWaiters) and advance it, with no
// real sleeping; a call queued with NoTimeout waits on its context alone.
// The bulkhead starts no goroutine outside the worker-pool mode, and works
// inside a testing/synctest bubble.
package bulkhead
