package errorrecovery

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// callState is a state of a per-call machine: the machine one execution
// runs through, whether its Workflow came from NewWorkflow, NewRetry or
// NewDeadline. A definition holds only the states of the layers that take
// part.
type callState uint8

// The states of one execution, outermost layer first. Lookup, Admit,
// CheckCircuit, RateLimit, AdaptiveLimit, Attempt, Retry, Fallback and
// Compensate are choice states (and Hedge, with HEDGE): entering one does
// its work (read the cache, take a bulkhead slot, ask the breaker, take a
// rate permit, take an adaptive limiter's permit, call the function,
// decide on another attempt, fall back, undo; start a hedge) and leaves by
// the outcome. A failing call's main path reads, in the design card's
// words, Attempt → Backoff → Retry → Fallback → Compensate, ending in a
// final beside Done (docs/compensate.md).
const (
	stateStart              callState = iota // before anything
	stateLookup                              // CACHE: read a fresh entry
	stateAdmit                               // BULKHEAD: take a slot, perhaps after queueing
	stateCheckCircuit                        // CIRCUIT_BREAKER: ask for a permit
	stateRateLimit                           // RATE_LIMIT: take a rate permit, perhaps after a wait
	stateAdaptiveLimit                       // ADAPTIVE_LIMIT: take a permit of the adaptive limit
	stateAttempt                             // call the function
	stateBackoff                             // RETRY: wait before the next attempt
	stateRetry                               // RETRY: may the next attempt start now?
	stateFallback                            // FALLBACK: answer a failed call another way
	stateCompensate                          // COMPENSATE: undo the effects the call registered
	stateDone                                // final: the function (or a fresh cache entry) answered, or a failed call's effects were all undone
	stateRecovered                           // final: a fallback answered
	stateExhausted                           // final: every attempt allowed failed
	stateFailed                              // final: a permanent error, a rejection, or the caller gave up
	stateTimedOut                            // final: the overall deadline passed
	stateCompensationFailed                  // final: the call failed and an undo failed too
	stateExecuting                           // RETRY: the composite of the states an attempt goes through again (breaker, limiters, Attempt, Backoff, Retry)
	stateRecovering                          // FALLBACK and COMPENSATE: the composite of Fallback and Compensate
	stateHedge                               // HEDGE: start another attempt beside the slow ones (call_hedge.go)
)

var callStateNames = []string{"Start", "Lookup", "Admit", "CheckCircuit", "RateLimit", "AdaptiveLimit", "Attempt", "Backoff", "Retry", "Fallback", "Compensate",
	"Done", "Recovered", "Exhausted", "Failed", "TimedOut", "CompensationFailed", "Executing", "Recovering", "Hedge"}

// String returns the state's name, as diagrams and traces print it.
func (s callState) String() string { return enum.StringOr(callStateNames, s, "State(?)") }

// callEvent is an event of a per-call machine: the outcome of a layer's
// work.
type callEvent uint8

// The events.
const (
	eventBegin      callEvent = iota // start the execution
	eventHit                         // a fresh cache entry (or a coalesced call's result) answers
	eventMiss                        // no fresh cache entry
	eventAdmitted                    // a bulkhead slot was taken
	eventRejected                    // the bulkhead refused
	eventAllowed                     // the breaker gave a permit
	eventOpen                        // the breaker refused
	eventSuccess                     // the attempt succeeded
	eventRetryable                   // the attempt failed in a way worth retrying
	eventPermanent                   // the attempt failed for good, or the caller's context ended
	eventDeadline                    // the overall deadline passed
	eventServed                      // a fallback answered
	eventUnserved                    // no fallback answered
	eventRetry                       // the next attempt may start
	eventUndone                      // every registered undo succeeded
	eventUndoFailed                  // an undo failed
	eventNotOwed                     // nothing was registered to undo
	eventLimited                     // a rate or adaptive limiter refused
	eventRefused                     // the retry budget refused another attempt
	eventSlow                        // HEDGE: the hedge delay passed with no acceptable answer, and hedges are left
	eventHedged                      // HEDGE: a hedge started
	eventNoHedge                     // HEDGE: the breaker or a limiter refused the hedge a permit
)

var callEventNames = []string{"begin", "hit", "miss", "admitted", "rejected", "allowed", "open",
	"success", "retryable", "permanent", "deadline", "served", "unserved", "retry", "undone", "undo failed", "nothing to undo",
	"limited", "over budget", "slow", "hedged", "hedge refused"}

// String returns the event's name.
func (e callEvent) String() string { return enum.StringOr(callEventNames, e, "Event(?)") }

// execution is the data of one execution, as the per-call machine's
// actions and guards see it.
type execution[T any] struct {
	// x is the executor whose machines the execution uses: the
	// workflow's, or with PerKey its key's (workflow_perkey.go), which
	// shares the workflow's definition. The states that use a machine kept
	// per key (Admit, CheckCircuit, RateLimit, AdaptiveLimit, Attempt, and
	// release) read it from here, not from the executor their action is
	// bound to.
	x              *executor[T]
	fn             func(context.Context) (T, error)
	ctx            *callCtx // the first context, kept with the pooled state while unseen (recycle)
	cc             *callCtx // the context in use: ctx until ctx was seen (see callCtx)
	attempt        int
	result         T
	err            error         // the last layer's error
	delay          time.Duration // the next backoff
	prev           time.Duration // the previous backoff, for DECORRELATED
	deadline       instant       // the overall deadline; none when none
	final          error         // the error the execution returns
	source         Source
	age            time.Duration    // of a cached result
	key            string           // the cache key
	lead           *cache.Flight[T] // the coalesced call this execution leads
	attemptPermits                  // the current attempt's breaker and adaptive permits
	admitted       bool             // a bulkhead slot is held
	waited         bool             // the bulkhead queued the call, or the rate limiter made it wait (see startsAttempt)
	walked         bool             // a walk-away attempt was abandoned: never recycle
	undone         bool             // COMPENSATE undid the failed call's effects: Done, but not answered
	start          instant          // read when a deadline is set or Metrics times executions; none otherwise
	undo           *undoList        // COMPENSATE: the undos registered; nil when it takes no part
	hedge          *hedging[T]      // HEDGE: the rounds' shared state, from the first round to release
	hedges         int              // HEDGE: the hedges started
	idleHedge      *hedging[T]      // HEDGE: the last execution's, which no attempt uses any more, kept for the next (recycle)
}

// attemptPermits are the permits one attempt holds: the breaker's and
// the adaptive limiter's. An execution holds its current attempt's; with
// HEDGE, each attempt of a round holds its own (hedgeAttempt).
type attemptPermits struct {
	permit  breaker.Permit
	limit   adaptive.Permit // ADAPTIVE_LIMIT: the attempt's permit, while limited is set
	held    bool            // a breaker permit is held
	limited bool            // an adaptive limiter's permit is held
}

// drop gives back the permits held without an outcome: an attempt that
// will not be made, or whose answer is discarded, says nothing about the
// dependency.
func (p *attemptPermits) drop() {
	if p.held {
		p.held = false
		p.permit.Drop()
	}
	if p.limited {
		p.limited = false
		p.limit.Drop()
	}
}

type callMachine[T any] = states.Machine[callState, callEvent, execution[T]]

// executor generates and runs a per-call machine. A Workflow is one
// configuration of it: which layers take part decides which states the
// definition has.
type executor[T any] struct {
	name     string
	def      *fsm.Definition[callState, callEvent, execution[T]]
	runner   *engine.Runner[callState, callEvent, execution[T]]
	retry    RetryConfig[T] // MaxAttempts 1 when RETRY does not take part
	retrying bool           // RETRY takes part
	deadline DeadlineConfig
	breaker  *breaker.Breaker
	bulkhead *bulkhead.Bulkhead
	rate     *ratelimit.Limiter // RATE_LIMIT
	budget   *budget.Budget     // BUDGET: asked before each retry
	adaptive *adaptive.Limiter  // ADAPTIVE_LIMIT
	cache    *cache.Cache[T]    // CACHE: read-through
	fbCache  *cache.Cache[T]    // FallbackConfig.UseCache without CACHE: read on failure only
	fallback *FallbackConfig[T]
	comp     *CompensationConfig // COMPENSATE; nil when it takes no part
	hedge    *HedgeConfig        // HEDGE, resolved; nil when it takes no part
	maxCalls int                 // HEDGE: ErrorRecoveryConfig.MaxTotalAttempts, which hedges count against
	stats    *workflowStats      // nil for the plain executors
	clock    engine.Clock
	timers   *deadlineTimers // the real clock's attempt deadlines (see callCtx), nil on another clock; shared by the executors of a workflow's keys
	random   func() float64
	opts     []engine.Option
}

// init completes x (definition, runner) for the clock, observer and
// random source s sets.
func (x *executor[T]) init(s engine.Settings) {
	x.clock, x.random = s.Clock, s.Random
	switch x.clock.(type) {
	case engine.RealClock, *engine.RealClock:
		x.timers = new(deadlineTimers)
	}
	if x.random == nil {
		x.random = rand.Float64
	}
	x.opts = []engine.Option{engine.WithClock(x.clock)}
	if s.Observer != nil {
		x.opts = append(x.opts, engine.WithObserver(s.Observer))
	}
	x.def = x.build()
	x.runner = engine.NewRunner(x.def, x.opts...)
}

func (x *executor[T]) hasFallback() bool {
	return x.fallback != nil || x.fbCache != nil || x.servesStale()
}

// servesStale reports whether CACHE takes part and keeps stale entries to
// answer failures: its MaxStale is not negative.
func (x *executor[T]) servesStale() bool {
	return x.cache != nil && x.cache.Config().MaxStale >= 0
}

// build declares the per-call machine of the layers taking part, outermost
// first: cache → bulkhead → breaker → rate limiter → adaptive limiter →
// attempt (with deadline, hedges, and retry asking the budget) → fallback
// → compensate.
func (x *executor[T]) build() *fsm.Definition[callState, callEvent, execution[T]] {
	b := fsm.New[callState, callEvent, execution[T]](x.name)
	// The steps give back slots and permits: a caller who gives up must
	// not strand the run halfway. The states consult the caller's context
	// themselves.
	b.CommitRegardless()
	b.State(stateStart, states.Initial)
	var chain []callState
	if x.cache != nil {
		chain = append(chain, stateLookup)
	}
	if x.bulkhead != nil {
		chain = append(chain, stateAdmit)
	}
	if x.breaker != nil {
		chain = append(chain, stateCheckCircuit)
	}
	if x.rate != nil {
		chain = append(chain, stateRateLimit)
	}
	if x.adaptive != nil {
		chain = append(chain, stateAdaptiveLimit)
	}
	chain = append(chain, stateAttempt)
	next := func(s callState) callState { return chain[slices.Index(chain, s)+1] }
	// A retry asks the breaker and the limiters again first.
	again := chain[slices.IndexFunc(chain, func(s callState) bool { return s > stateAdmit })]
	// With RETRY, the states an attempt goes through again are the
	// children of Executing, which handles once what ends retrying from
	// any of them (a permanent outcome, the overall deadline); with
	// FALLBACK and COMPENSATE, Fallback and Compensate are the children
	// of Recovering (docs/hierarchy.md). A retry starts Executing again
	// where it started.
	executing := func(s callState, sp *states.Spec[callState, callEvent, execution[T]]) {
		if x.retrying {
			sp.In(stateExecuting)
			if s == again {
				sp.First()
			}
		}
	}

	fallback := x.hasFallback()
	compensating := x.comp != nil
	finals := map[callState]bool{stateFailed: true}
	// to returns where a failure goes: the fallback, which may still
	// answer it; else Compensate, which undoes its effects; else its
	// final.
	to := func(final callState) callState {
		switch {
		case fallback:
			return stateFallback
		case compensating:
			return stateCompensate
		}
		finals[final] = true
		return final
	}
	exhausted := states.Do("exhausted", x.settle(stateExhausted))
	timedOut := states.Do("timed out", x.settle(stateTimedOut))
	failed := states.Do("failed", x.settle(stateFailed))

	b.On(stateStart, eventBegin, chain[0])
	if x.cache != nil {
		b.Choice(stateLookup, states.Chooser("read cache", x.lookup))
		b.On(stateLookup, eventHit, stateDone)
		b.On(stateLookup, eventMiss, next(stateLookup))
		if !x.cache.Config().DisableCoalescing && fallback {
			// A coalesced call whose leader was answered by a fallback
			// or a stale entry gets that answer, as what it is.
			b.On(stateLookup, eventServed, stateRecovered)
		}
	}
	if x.bulkhead != nil {
		b.Choice(stateAdmit, states.Chooser("take a slot", x.admit))
		b.On(stateAdmit, eventAdmitted, next(stateAdmit))
		b.On(stateAdmit, eventRejected, to(stateFailed)).Do(failed)
		if x.deadline.Timeout > 0 {
			b.On(stateAdmit, eventDeadline, to(stateTimedOut)).Do(timedOut)
		}
	}
	if x.retrying {
		b.State(stateExecuting, states.Normal)
	}
	if x.breaker != nil {
		executing(stateCheckCircuit, b.Choice(stateCheckCircuit, states.Chooser("ask breaker", x.checkCircuit)))
		b.On(stateCheckCircuit, eventAllowed, next(stateCheckCircuit))
		b.On(stateCheckCircuit, eventOpen, to(stateFailed)).Do(failed)
	}
	// A limiter's rejection, like the breaker's, is not retried: it goes
	// to the fallback (call_limits.go has the reasons).
	if x.rate != nil {
		executing(stateRateLimit, b.Choice(stateRateLimit, states.Chooser("take rate permit", x.takeRate)))
		b.On(stateRateLimit, eventAllowed, next(stateRateLimit))
		b.On(stateRateLimit, eventLimited, to(stateFailed)).Do(failed)
		if !x.retrying { // else Executing's
			b.On(stateRateLimit, eventPermanent, to(stateFailed)).Do(failed) // the caller gave up while waiting
		}
	}
	if x.adaptive != nil {
		executing(stateAdaptiveLimit, b.Choice(stateAdaptiveLimit, states.Chooser("take limit permit", x.takeLimit)))
		b.On(stateAdaptiveLimit, eventAllowed, stateAttempt)
		b.On(stateAdaptiveLimit, eventLimited, to(stateFailed)).Do(failed)
	}
	if x.hedge == nil {
		executing(stateAttempt, b.Choice(stateAttempt, states.Chooser("call function", x.call)))
	} else {
		// A round of attempts: Attempt starts the first and waits for an
		// acceptable answer; when the hedge delay passes without one it
		// leaves for Hedge, which starts another attempt (with permits of
		// its own) and comes back to wait (call_hedge.go).
		executing(stateAttempt, b.Choice(stateAttempt, states.Chooser("call function, hedge when slow", x.callHedged)))
		b.On(stateAttempt, eventSlow, stateHedge)
		executing(stateHedge, b.Choice(stateHedge, states.Chooser("start hedge", x.startHedge)))
		b.On(stateHedge, eventHedged, stateAttempt)
		b.On(stateHedge, eventNoHedge, stateAttempt)
	}
	b.On(stateAttempt, eventSuccess, stateDone)
	if x.retrying {
		// Whether another attempt is allowed at all (attempts left) and
		// whether its backoff ends before the deadline are settled when
		// the attempt fails, so that nothing waits for an attempt that
		// cannot come; Retry settles, when the backoff ends, whether it
		// may start now.
		attemptsLeft := transitions.If("attempts left", func(m callMachine[T]) bool {
			d := m.Data()
			// With HEDGE, hedges count against MaxTotalAttempts (maxCalls).
			return d.attempt < x.retry.MaxAttempts && (x.maxCalls == 0 || d.attempt+d.hedges < x.maxCalls)
		})
		fits := transitions.If("backoff ends before deadline", func(m callMachine[T]) bool {
			d := m.Data()
			return d.deadline.none() || d.delay < -d.deadline.since(x.clock, d.ctx.timers != nil)
		})
		b.State(stateBackoff, states.Normal).In(stateExecuting)
		b.On(stateAttempt, eventRetryable, stateBackoff).When(transitions.And(attemptsLeft, fits)).Do(states.Do("on retry", x.onRetry))
		if x.deadline.Timeout > 0 {
			b.On(stateAttempt, eventRetryable, to(stateTimedOut)).When(attemptsLeft).Do(timedOut)
		}
		b.On(stateAttempt, eventRetryable, to(stateExhausted)).Do(exhausted)
		if x.bulkhead != nil && x.deadline.WalkAway {
			// An abandoned attempt keeps its slot until its function
			// returns, so each attempt takes a slot of its own.
			again = stateAdmit
		}
		b.AfterFunc(stateBackoff, "backoff", func(m callMachine[T]) time.Duration { return m.Data().delay }, stateRetry)
		b.Choice(stateRetry, states.Chooser("may retry", x.mayRetry)).In(stateExecuting)
		b.On(stateRetry, eventRetry, again)
		// Retry's refusal is its own edge, not Executing's: it is the
		// card's step Retry → Fallback.
		b.On(stateRetry, eventPermanent, to(stateFailed)).Do(failed)
		if x.budget != nil {
			b.On(stateRetry, eventRefused, to(stateExhausted)).Do(states.Do("retry refused", x.refused))
		}
		// From any of its children: a permanent outcome (or the caller's
		// context ending during a backoff or a rate wait), the deadline.
		b.On(stateExecuting, eventPermanent, to(stateFailed)).Do(failed)
		if x.deadline.Timeout > 0 {
			b.On(stateExecuting, eventDeadline, to(stateTimedOut)).Do(timedOut)
		}
	} else {
		b.On(stateAttempt, eventRetryable, to(stateFailed)).Do(failed)
		b.On(stateAttempt, eventPermanent, to(stateFailed)).Do(failed)
		if x.deadline.Timeout > 0 {
			b.On(stateAttempt, eventDeadline, to(stateTimedOut)).Do(timedOut)
		}
	}
	// Done and Recovered have work on entry only when a shared machine
	// or a cache takes part; without it the last transition stays bare,
	// which keeps a first-attempt success on the driver's fast path.
	var finish []states.Action[callState, callEvent, execution[T]]
	if x.cache != nil || x.fbCache != nil || x.bulkhead != nil {
		finish = append(finish, states.Do("finish", x.finish))
	}
	report := states.Do("on failure", x.fail)
	// The spine first (… Fallback, Compensate), then the finals, Done
	// first: diagrams list the states in this order.
	recovering := fallback && compensating
	if recovering {
		b.State(stateRecovering, states.Normal)
	}
	if fallback {
		sp := b.Choice(stateFallback, states.Chooser("fall back", x.fallBack))
		if recovering {
			sp.In(stateRecovering).First()
		}
		b.On(stateFallback, eventServed, stateRecovered)
		if compensating {
			b.On(stateFallback, eventUnserved, stateCompensate)
		} else {
			b.On(stateFallback, eventUnserved, stateFailed)
		}
	}
	if compensating {
		sp := b.Choice(stateCompensate, states.Chooser("undo effects", x.compensate))
		if recovering {
			sp.In(stateRecovering)
		}
		b.On(stateCompensate, eventUndone, stateDone)
		b.On(stateCompensate, eventUndoFailed, stateCompensationFailed)
		b.On(stateCompensate, eventNotOwed, stateFailed)
		finals[stateCompensationFailed] = true
	}
	b.State(stateDone, states.Final).OnEntry(finish...)
	if fallback {
		b.State(stateRecovered, states.Final).OnEntry(finish...)
	}
	for _, s := range []callState{stateExhausted, stateFailed, stateTimedOut, stateCompensationFailed} {
		if finals[s] {
			b.State(s, states.Final).OnEntry(report)
		}
	}
	return b.MustBuild()
}
