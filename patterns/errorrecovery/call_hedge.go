package errorrecovery

import (
	"context"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/nohedge"
)

// The states of the per-call machine with HEDGE (call.go declares them).
// Each attempt the retry makes is a round: Attempt starts the round's
// first attempt in a goroutine of its own, with the permits the states
// before it took, and waits for an acceptable answer. When the hedge
// delay passes first and hedges are left, it leaves by EventSlow for
// Hedge, which takes a breaker, rate and adaptive permit of its own (the
// hedge is a call of the dependency like any other), starts another
// attempt, and goes back to Attempt to wait for either. The first
// acceptable answer (a success, or an error retrying would not follow)
// ends the round; the others are cancelled and their results discarded.
// A retryable failure waits for the attempts still running, and a round
// whose attempts all failed leaves as one retryable attempt. Waits are on
// the workflow's clock; the attempts' goroutines touch only the round's
// shared state (hedging), never the pooled execution.

// hedging is what a hedged execution shares with its attempts'
// goroutines, from its first round until release.
type hedging[T any] struct {
	fn     func(context.Context) (T, error)
	parent context.Context // the caller's, seen through engine.Quiet
	undo   *undoList
	off    bool // the caller's context says the call must not run twice at once: no hedge (internal/nohedge)

	mu      sync.Mutex // guards the fields below
	round   int        // the round whose answers are awaited; 0 between rounds
	rctx    context.Context
	cancel  context.CancelFunc // cancels rctx, the parent of the round's attempts' contexts
	answers []hedgeAnswer[T]   // answers of the round not read yet
	running int                // attempts (of any round) whose function has not returned
	slot    *bulkhead.Bulkhead // set when the execution ended with attempts running: the last to return releases it
	wake    context.CancelFunc // ends the executor's current wait (a clock other than the real one)

	// On the real clock, the executor waits on signal, which each answer
	// of the round sends to without blocking (it holds one), and on a
	// timer reused from wait to wait: no context or timer is made per
	// wait. Both live as long as the hedging, which a pooled execution
	// keeps from one execution to the next once no attempt uses it.
	signal chan struct{}
	timer  *time.Timer

	// The executor's own, used in its goroutine only.
	waiting []*hedgeAttempt // the round's attempts not answered yet
	started int             // attempts the round started or tried to (hedges refused included)
	next    time.Time       // when the next hedge is due
}

// hedgeAttempt is one attempt of a round and the permits it holds.
type hedgeAttempt struct {
	round    int
	hedge    bool      // started by Hedge, not the round's first
	deadline time.Time // its own (attempt timeout or overall); zero when none
	attemptPermits
	// abandoned (guarded by hedging.mu) is set when the executor stopped
	// waiting for the attempt at its deadline and settled its permits: its
	// late answer is discarded.
	abandoned bool
}

// hedgeAnswer is what an attempt's function returned.
type hedgeAnswer[T any] struct {
	a        *hedgeAttempt
	res      T
	err      error
	panicked bool
	value    any // the panic's
}

// callHedged is the Attempt state with HEDGE: start a round unless one is
// running (coming back from Hedge), then wait for its outcome or for the
// next hedge to fall due.
func (x *executor[T]) callHedged(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	h := d.hedge
	if h == nil {
		h = d.idleHedge
		d.idleHedge = nil
		if h == nil {
			h = new(hedging[T])
			if x.timers != nil {
				h.signal = make(chan struct{}, 1)
			}
		}
		h.fn, h.parent, h.undo, h.off = d.fn, engine.Quiet(d.ctx.parent), d.undo, nohedge.IsOff(d.ctx.parent)
		d.hedge = h
	}
	if len(h.waiting) == 0 {
		x.startRound(d, h)
	}
	return x.await(d, h), nil
}

// startRound starts a round and its first attempt, which takes over the
// permits the states before Attempt took.
func (x *executor[T]) startRound(d *execution[T], h *hedging[T]) {
	d.attempt++
	if x.stats.counting() {
		x.stats.attempts.Add(1)
	}
	if x.budget != nil && d.attempt == 1 {
		x.budget.Deposit() // an execution reaching the dependency earns retries once
	}
	rctx, cancel := context.WithCancel(h.parent)
	h.mu.Lock()
	h.round, h.rctx, h.cancel = d.attempt, rctx, cancel
	h.mu.Unlock()
	a := &hedgeAttempt{round: d.attempt, attemptPermits: d.attemptPermits}
	d.held, d.limited = false, false
	now := x.now(d)
	h.started, h.next = 1, now.Add(x.hedge.Delay)
	x.launch(d, h, a, now)
}

// startHedge is the Hedge state: take the permits a call of the
// dependency needs (a breaker permit, a rate permit free now, an adaptive
// limiter's permit) and start another attempt of the round. A hedge never
// waits for a permit: one refused counts against MaxHedges and the round
// goes on waiting for the attempts it has.
func (x *executor[T]) startHedge(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	h := d.hedge
	h.started++
	h.next = h.next.Add(x.hedge.Delay)
	a := &hedgeAttempt{round: d.attempt, hedge: true}
	if x.breaker != nil {
		p, err := x.breaker.Allow()
		if err != nil {
			return eventNoHedge, nil
		}
		a.permit, a.held = p, true
	}
	if x.rate != nil && !x.rate.Allow() {
		a.drop()
		return eventNoHedge, nil
	}
	if x.adaptive != nil {
		p, err := x.adaptive.Acquire()
		if err != nil {
			a.drop()
			return eventNoHedge, nil
		}
		a.limit, a.limited = p, true
	}
	d.hedges++
	if x.stats.counting() {
		x.stats.attempts.Add(1)
		x.stats.hedges.Add(1)
	}
	x.launch(d, h, a, x.now(d))
	return eventHedged, nil
}

// launch runs a's function in a goroutine of its own, with a context of
// its own (the round's, cancelled when the round ends; its deadline the
// attempt timeout or the overall deadline, whichever is first).
func (x *executor[T]) launch(d *execution[T], h *hedging[T], a *hedgeAttempt, now time.Time) {
	a.deadline = d.deadline.time()
	if t := x.deadline.AttemptTimeout; t > 0 {
		if ad := now.Add(t); a.deadline.IsZero() || ad.Before(a.deadline) {
			a.deadline = ad
		}
	}
	h.mu.Lock()
	h.running++
	cc := (&callCtx{parent: h.rctx, clock: x.clock, undo: h.undo}).begin(d.attempt, instantOf(a.deadline))
	h.mu.Unlock()
	h.waiting = append(h.waiting, a)
	engine.Go(x.clock, func() { h.run(a, cc) }) // a simulation's clock runs it in lockstep (engine.ProcClock)
}

// run is an attempt's goroutine.
func (h *hedging[T]) run(a *hedgeAttempt, cc *callCtx) {
	ans := hedgeAnswer[T]{a: a}
	defer func() {
		if v := recover(); v != nil {
			ans.panicked, ans.value = true, v
		}
		cc.end()
		h.deliver(ans)
	}()
	ans.res, ans.err = h.fn(cc)
}

// deliver hands an answer to the executor, if it still waits for it;
// otherwise the attempt lost (or was abandoned): its result is discarded,
// its permits given back (an abandoned one's were settled), and the last
// attempt to return gives back a bulkhead slot left to it.
func (h *hedging[T]) deliver(ans hedgeAnswer[T]) {
	a := ans.a
	h.mu.Lock()
	h.running--
	if a.round == h.round && !a.abandoned {
		h.answers = append(h.answers, ans)
		if h.signal != nil {
			select {
			case h.signal <- struct{}{}:
			default: // a signal is pending already
			}
		} else if h.wake != nil {
			h.wake()
		}
		h.mu.Unlock()
		return
	}
	var slot *bulkhead.Bulkhead
	if h.running == 0 {
		slot, h.slot = h.slot, nil
	}
	abandoned := a.abandoned
	h.mu.Unlock()
	if !abandoned {
		a.drop()
	}
	if slot != nil {
		slot.Release()
	}
}

// await waits for the round's outcome: the first acceptable answer, the
// last of the round's failures, the deadline, or the caller giving up;
// or for the next hedge to fall due (EventSlow).
func (x *executor[T]) await(d *execution[T], h *hedging[T]) callEvent {
	for {
		if ans, ok := h.take(); ok {
			if ev, over := x.judge(d, h, ans); over {
				return ev
			}
			continue
		}
		if cerr := d.ctx.parent.Err(); cerr != nil {
			h.closeRound()
			d.err = cerr
			return eventPermanent
		}
		now := x.now(d)
		var at time.Time // when to look again; zero: at an answer
		var expired *hedgeAttempt
		for _, a := range h.waiting {
			if a.deadline.IsZero() {
				continue
			}
			if !now.Before(a.deadline) {
				expired = a
				break
			}
			at = earlier(at, a.deadline)
		}
		if expired != nil {
			// Its deadline passed: the round stops waiting for it, as a
			// walk-away does (it runs in a goroutine of its own anyway),
			// and it answers with its context's error.
			if h.abandon(expired) {
				if ev, over := x.judge(d, h, hedgeAnswer[T]{a: expired, err: context.DeadlineExceeded}); over {
					return ev
				}
			}
			continue
		}
		if x.hedgesLeft(d, h) {
			if !now.Before(h.next) {
				return eventSlow
			}
			at = earlier(at, h.next)
		}
		h.sleep(x.clock, at)
	}
}

// hedgesLeft reports whether the round may try another hedge: MaxHedges
// not reached, ErrorRecoveryConfig.MaxTotalAttempts not reached, the next
// hedge due before the overall deadline, and the call not marked as one
// that must not run twice at once.
func (x *executor[T]) hedgesLeft(d *execution[T], h *hedging[T]) bool {
	return !h.off && h.started <= x.hedge.MaxHedges &&
		(x.maxCalls == 0 || d.attempt+d.hedges < x.maxCalls) &&
		(d.deadline.none() || h.next.Before(d.deadline.time()))
}

// judge settles an answer of the round (permits, classification) and
// reports the event the round ends with, or false when the round goes on:
// a retryable failure while other attempts of the round still run.
func (x *executor[T]) judge(d *execution[T], h *hedging[T], ans hedgeAnswer[T]) (callEvent, bool) {
	a := ans.a
	for i, w := range h.waiting {
		if w == a {
			h.waiting = append(h.waiting[:i], h.waiting[i+1:]...)
			break
		}
	}
	d.result, d.err = ans.res, ans.err
	d.attemptPermits = a.attemptPermits
	if ans.panicked {
		// Not retried, not fallen back: the others are cancelled, and
		// executeInto records the failure with the permits and panics on.
		h.closeRound()
		panic(ans.value)
	}
	var in time.Duration // a's deadline as the time since d.start, as classify compares it
	if !a.deadline.IsZero() {
		in = a.deadline.Sub(d.start.time())
	}
	ev := x.settleAttempt(d, in)
	if ev == eventRetryable && len(h.waiting) > 0 {
		return ev, false
	}
	h.closeRound()
	if ev == eventSuccess && a.hedge && x.stats.counting() {
		x.stats.hedgeWins.Add(1)
	}
	return ev, true
}

// take returns an answer of the round not read yet.
func (h *hedging[T]) take() (hedgeAnswer[T], bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.answers) == 0 {
		return hedgeAnswer[T]{}, false
	}
	ans := h.answers[0]
	h.answers = h.answers[1:]
	return ans, true
}

// abandon marks a as abandoned unless its answer has come meanwhile.
func (h *hedging[T]) abandon(a *hedgeAttempt) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ans := range h.answers {
		if ans.a == a {
			return false
		}
	}
	a.abandoned = true
	return true
}

// sleep waits on clk until at, or until an answer comes or the caller
// gives up.
func (h *hedging[T]) sleep(clk engine.Clock, at time.Time) {
	h.mu.Lock()
	if len(h.answers) > 0 {
		h.mu.Unlock()
		return
	}
	if h.signal != nil {
		h.mu.Unlock()
		h.sleepReal(at)
		return
	}
	wctx, wake := context.WithCancel(h.parent)
	h.wake = wake
	h.mu.Unlock()
	if at.IsZero() {
		engine.Wait(clk, wctx)
	} else {
		_ = engine.SleepUntil(clk, wctx, at) // why it ended, await reads
	}
	h.mu.Lock()
	h.wake = nil
	h.mu.Unlock()
	wake()
}

// sleepReal is sleep on the real clock. An answer that came after sleep
// looked for one has sent its signal already, so it is not missed; a
// signal left by an answer read meanwhile only wakes await to look again.
func (h *hedging[T]) sleepReal(at time.Time) {
	var due <-chan time.Time
	if !at.IsZero() {
		left := time.Until(at)
		if left <= 0 {
			return
		}
		if h.timer == nil {
			h.timer = time.NewTimer(left)
		} else {
			h.timer.Reset(left)
		}
		due = h.timer.C
	}
	select {
	case <-h.signal:
	case <-due:
	case <-h.parent.Done():
	}
	if due != nil {
		h.timer.Stop() // and, since Go 1.23, nothing left to read from C
	}
}

// closeRound ends the round: the attempts still running are cancelled,
// and they and the answers not read yet lose.
func (h *hedging[T]) closeRound() {
	h.mu.Lock()
	h.round = 0
	late, cancel := h.answers, h.cancel
	h.answers, h.cancel = nil, nil
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	for _, ans := range late {
		ans.a.drop()
	}
	h.waiting = h.waiting[:0]
}

// end ends the execution's hedging, and reports whether the bulkhead slot
// it holds (admitted) was left to the attempts still running.
func (h *hedging[T]) end(admitted bool, b *bulkhead.Bulkhead) bool {
	h.closeRound()
	if !admitted {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running == 0 {
		return false
	}
	h.slot = b
	return true
}

// idle reports whether no attempt's goroutine runs any more, so that
// nothing but the execution holds h, which may then keep it for the next
// execution (see recycle); the round must be closed. An idle h lets go of
// what the execution gave it (its function, context, undos, the last
// round's context and attempts) and of a signal nobody read.
func (h *hedging[T]) idle() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running > 0 {
		return false
	}
	h.fn, h.parent, h.undo, h.rctx = nil, nil, nil, nil
	clear(h.waiting[:cap(h.waiting)])
	if h.signal != nil {
		select {
		case <-h.signal:
		default:
		}
	}
	return true
}

// earlier returns the earlier of t and u, a zero t standing for none.
func earlier(t, u time.Time) time.Time {
	if t.IsZero() || u.Before(t) {
		return u
	}
	return t
}
