package errorrecovery

import (
	"context"
	"sync"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// BreakerState is a state of the circuit breaker machine.
type BreakerState uint8

// The states. A Breaker starts closed.
const (
	BreakerClosed   BreakerState = iota // calls go through; outcomes fill the window
	BreakerOpen                         // calls are rejected until the open timeout passes
	BreakerHalfOpen                     // a bounded number of trial calls go through
)

var breakerStateNames = []string{"Closed", "Open", "HalfOpen"}

// String returns the state's name, as diagrams and traces print it.
func (s BreakerState) String() string { return enum.String(breakerStateNames, s, "BreakerState") }

// BreakerEvent is an event of the circuit breaker machine.
type BreakerEvent uint8

// The events. Success and Failure report the outcome of an admitted call
// (Permit.Done fires them, with the generation the call was admitted in);
// the others are the manual controls.
const (
	BreakerSuccess    BreakerEvent = iota // an admitted call succeeded
	BreakerFailure                        // an admitted call failed
	BreakerForceOpen                      // Breaker.ForceOpen
	BreakerForceClose                     // Breaker.ForceClosed
	BreakerReset                          // Breaker.Reset
)

var breakerEventNames = []string{"success", "failure", "forceOpen", "forceClose", "reset"}

// String returns the event's name.
func (e BreakerEvent) String() string { return enum.String(breakerEventNames, e, "BreakerEvent") }

// BreakerMachine is the running breaker machine as the guards and actions
// of the breaker definition see it.
type BreakerMachine = states.Machine[BreakerState, BreakerEvent, *Breaker]

// The names guards and actions carry in diagrams and traces.
const (
	cbGuardFailures  = "failures >= failureThreshold"
	cbGuardRate      = "failure rate >= failureRateThreshold after minimumCalls"
	cbGuardSlowRate  = "slow-call rate >= slowCallRateThreshold after minimumCalls"
	cbGuardSuccesses = "successes >= successThreshold"
	cbDelayName      = "openTimeout"
)

// cbSlowRate is the slow-call-rate guard, declared once so that the
// breaker can recognise it in a definition by identity
// (cbSuccessSkippable): copies of BreakerDefinitionBuilder's specs carry
// this very guard, where another guard might carry its name.
var cbSlowRate = transitions.If(cbGuardSlowRate, cbSlowRateReached)

var breakerDefinition = sync.OnceValue(func() *fsm.Definition[BreakerState, BreakerEvent, *Breaker] {
	return BreakerDefinitionBuilder().MustBuild()
})

// BreakerDefinition returns the machine every Breaker runs unless
// WithBreakerDefinition gives another. Its data is the *Breaker that runs
// it: guards and actions read the breaker's settings, window and counters
// through it. It is built once and shared; a Definition is immutable.
//
//	Closed   --failure [failures >= failureThreshold]------------> Open
//	Closed   --failure [failure rate >= ... after minimumCalls]----> Open
//	Closed   --failure [slow-call rate >= ... after minimumCalls]--> Open
//	Closed   --failure (internal: recorded in the window, nothing else)
//	Closed   --success [slow-call rate >= ... after minimumCalls]--> Open
//	Closed   --success (internal)
//	Open     --after openTimeout------------------------------------> HalfOpen
//	HalfOpen --success [successes >= successThreshold]-------------> Closed
//	HalfOpen --success (internal / count success)
//	HalfOpen --failure----------------------------------------------> Open
//	Closed, HalfOpen --forceOpen--> Open; Open --forceOpen--> Open (restarts the timer)
//	Open, HalfOpen --forceClose--> Closed
//	every state --reset / reset metrics--> Closed
//
// Entering Closed makes a new window and resets the open-timeout growth;
// entering Open grows the open timeout and prepares the episode's
// rejection error; entering HalfOpen resets the trial count. The outcome
// of a call is written into the window before its event is fired, so the
// guards see it.
func BreakerDefinition() *fsm.Definition[BreakerState, BreakerEvent, *Breaker] {
	return breakerDefinition()
}

// BreakerDefinitionBuilder returns a builder holding the default
// breaker machine, not yet built, so that a variant can start from it: add
// transitions or states, or rebuild from Definition.StateSpecs and
// Definition.Transitions with some changed, then pass the result to
// WithBreakerDefinition. The guards and actions it declares work on any
// Breaker.
func BreakerDefinitionBuilder() *fsm.Builder[BreakerState, BreakerEvent, *Breaker] {
	b := fsm.New[BreakerState, BreakerEvent, *Breaker]("circuit breaker")
	b.State(BreakerClosed, states.Initial).OnEntry(states.Do("reset window", cbEnterClosed))
	b.State(BreakerOpen, states.Normal).OnEntry(states.Do("grow open timeout", cbEnterOpen))
	b.State(BreakerHalfOpen, states.Normal).OnEntry(states.Do("reset trials", cbEnterHalfOpen))

	b.On(BreakerClosed, BreakerFailure, BreakerOpen).When(transitions.If(cbGuardFailures, cbFailuresReached))
	b.On(BreakerClosed, BreakerFailure, BreakerOpen).When(transitions.If(cbGuardRate, cbRateReached))
	b.On(BreakerClosed, BreakerFailure, BreakerOpen).When(cbSlowRate)
	b.Internal(BreakerClosed, BreakerFailure)
	b.On(BreakerClosed, BreakerSuccess, BreakerOpen).When(cbSlowRate)
	b.Internal(BreakerClosed, BreakerSuccess)

	b.AfterFunc(BreakerOpen, cbDelayName, cbOpenTimeout, BreakerHalfOpen)

	b.On(BreakerHalfOpen, BreakerSuccess, BreakerClosed).When(transitions.If(cbGuardSuccesses, cbSuccessesReached))
	b.Internal(BreakerHalfOpen, BreakerSuccess).Do(states.Do("count success", cbCountSuccess))
	b.On(BreakerHalfOpen, BreakerFailure, BreakerOpen)

	b.On(BreakerClosed, BreakerForceOpen, BreakerOpen)
	b.On(BreakerOpen, BreakerForceOpen, BreakerOpen)
	b.On(BreakerHalfOpen, BreakerForceOpen, BreakerOpen)
	b.On(BreakerOpen, BreakerForceClose, BreakerClosed)
	b.On(BreakerHalfOpen, BreakerForceClose, BreakerClosed)
	resetMetrics := states.Do("reset metrics", cbResetMetrics)
	b.On(BreakerClosed, BreakerReset, BreakerClosed).Do(resetMetrics)
	b.On(BreakerOpen, BreakerReset, BreakerClosed).Do(resetMetrics)
	b.On(BreakerHalfOpen, BreakerReset, BreakerClosed).Do(resetMetrics)
	return b
}

func cbOf(m BreakerMachine) *Breaker { return *m.Data() }

// Guards. They read the window and counters and change nothing.

// cbFailuresReached: the count rule is on and the window holds at least
// FailureThreshold failures.
func cbFailuresReached(m BreakerMachine) bool {
	b := cbOf(m)
	return b.cfg.failureThreshold > 0 && b.windowCounts(m).failures >= b.cfg.failureThreshold
}

// cbRateReached: the failure-rate rule is on, the window holds at least
// MinimumCalls outcomes, and the share of failures reaches the threshold.
func cbRateReached(m BreakerMachine) bool {
	b := cbOf(m)
	if b.cfg.failureRate == 0 {
		return false
	}
	c := b.windowCounts(m)
	return c.calls >= b.cfg.minimumCalls && c.failureRate() >= b.cfg.failureRate
}

// cbSlowRateReached: as cbRateReached, for slow calls.
func cbSlowRateReached(m BreakerMachine) bool {
	b := cbOf(m)
	if b.cfg.slowRate == 0 {
		return false
	}
	c := b.windowCounts(m)
	return c.calls >= b.cfg.minimumCalls && c.slowRate() >= b.cfg.slowRate
}

// cbSuccessesReached: counting the success being processed, the trials
// of this half-open period have succeeded SuccessThreshold times in a row
// (any failure would have reopened the breaker).
func cbSuccessesReached(m BreakerMachine) bool {
	b := cbOf(m)
	return int(b.halfOpenSuccesses.Load())+1 >= b.cfg.successThreshold
}

// cbOpenTimeout is the delay of Open --after openTimeout--> HalfOpen: the
// timeout the Open entry action computed for this episode.
func cbOpenTimeout(m BreakerMachine) time.Duration {
	return time.Duration(cbOf(m).openTimeout.Load())
}

// Actions. They run under the Instance's lock, so fields that only they
// write need no more synchronisation among themselves; the ones Metrics
// or the admission path read are atomics.

// cbEnterClosed starts a closed period: a new, empty window stamped with
// the generation just committed, and the open-timeout growth starts over.
func cbEnterClosed(_ context.Context, m BreakerMachine) error {
	b := cbOf(m)
	b.openStreak = 0
	b.installWindow(b.lockedGeneration())
	return nil
}

// cbEnterOpen starts an open episode: its timeout (grown if the breaker
// has opened before since it last closed), its deadline, and the one
// rejection error that every call rejected during it receives.
func cbEnterOpen(_ context.Context, m BreakerMachine) error {
	b := cbOf(m)
	b.openStreak++
	d := b.cfg.grownTimeout(b.openStreak)
	b.openTimeout.Store(int64(d))
	b.openErr.Store(&OpenError{until: m.Now().Add(d), clock: b.clock, gen: b.lockedGeneration()})
	b.opens.Add(1)
	return nil
}

// cbEnterHalfOpen starts a half-open period with no successes counted.
// Trial permits are counted per generation (Breaker.allowTrial), so they
// need no reset here.
func cbEnterHalfOpen(_ context.Context, m BreakerMachine) error {
	cbOf(m).halfOpenSuccesses.Store(0)
	return nil
}

// cbCountSuccess counts a successful trial that did not yet close the
// breaker.
func cbCountSuccess(_ context.Context, m BreakerMachine) error {
	cbOf(m).halfOpenSuccesses.Add(1)
	return nil
}

// cbResetMetrics zeroes the counters Metrics reports; entering Closed then
// resets the window and the growth.
func cbResetMetrics(_ context.Context, m BreakerMachine) error {
	b := cbOf(m)
	b.rejections.Store(0)
	b.opens.Store(0)
	return nil
}
