package breaker

import (
	"context"
	"sync"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// State is a state of the circuit breaker machine.
type State uint8

// The states. A Breaker starts closed.
const (
	StateClosed   State = iota // calls go through; outcomes fill the window
	StateOpen                  // calls are rejected until the open timeout passes
	StateHalfOpen              // a bounded number of trial calls go through
)

var stateNames = []string{"Closed", "Open", "HalfOpen"}

// String returns the state's name, as diagrams and traces print it.
func (s State) String() string { return enum.String(stateNames, s, "breaker.State") }

// Event is an event of the circuit breaker machine.
type Event uint8

// The events. EventSuccess and EventFailure report the outcome of an
// admitted call (Permit.Done fires them, with the generation the call was
// admitted in); the others are the manual controls.
const (
	EventSuccess    Event = iota // an admitted call succeeded
	EventFailure                 // an admitted call failed
	EventForceOpen               // Breaker.ForceOpen
	EventForceClose              // Breaker.ForceClosed
	EventReset                   // Breaker.Reset
)

var eventNames = []string{"success", "failure", "forceOpen", "forceClose", "reset"}

// String returns the event's name.
func (e Event) String() string { return enum.String(eventNames, e, "breaker.Event") }

// Machine is the running breaker machine as the guards and actions of a
// breaker definition see it; its Data is the *Breaker.
type Machine = states.Machine[State, Event, *Breaker]

// The names guards and actions carry in diagrams and traces.
const (
	guardFailures  = "failures >= failureThreshold"
	guardRate      = "failure rate >= failureRateThreshold after minimumCalls"
	guardSlowRate  = "slow-call rate >= slowCallRateThreshold after minimumCalls"
	guardSuccesses = "successes >= successThreshold"
	delayName      = "openTimeout"
)

// rateGuard and slowRateGuard are the guards of the rate rules, declared
// once so that the breaker can recognise them in a definition by identity
// (successSkippable): copies of DefinitionBuilder's specs carry these
// very guards, where another guard might carry their names.
var (
	rateGuard     = transitions.If(guardRate, rateReached)
	slowRateGuard = transitions.If(guardSlowRate, slowRateReached)
)

var defaultDefinition = sync.OnceValue(func() *fsm.Definition[State, Event, *Breaker] {
	return DefinitionBuilder().MustBuild()
})

// Definition returns the machine every Breaker runs unless
// engine.WithDefinition gives New another. Its data is the *Breaker that
// runs it: guards and actions read the breaker's settings, window and
// counters through it. It is built once and shared; an fsm.Definition is
// immutable.
//
//	Closed   --failure [failures >= failureThreshold]------------> Open
//	Closed   --failure [failure rate >= ... after minimumCalls]----> Open
//	Closed   --failure [slow-call rate >= ... after minimumCalls]--> Open
//	Closed   --failure (internal: recorded in the window, nothing else)
//	Closed   --success [failure rate >= ... after minimumCalls]----> Open
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
//
// The rules are judged on every change of the window, whatever outcome
// caused it: a success can bring the window to minimumCalls, or (in a
// window with a duration) be recorded after older outcomes aged out, with
// a rate at or over its threshold, so Closed's success edges carry the
// rate guards as its failure edges do. The count rule needs no success
// edge: a success never adds a failure to the window.
func Definition() *fsm.Definition[State, Event, *Breaker] {
	return defaultDefinition()
}

// DefinitionBuilder returns a builder holding the default breaker
// machine, not yet built, so that a variant can start from it: add
// transitions or states, or rebuild from the StateSpecs and Transitions of
// Definition() with some changed, then pass the result to New with
// engine.WithDefinition. The guards and actions it declares work on any
// Breaker.
func DefinitionBuilder() *fsm.Builder[State, Event, *Breaker] {
	b := fsm.New[State, Event, *Breaker]("circuit breaker")
	b.State(StateClosed, states.Initial).OnEntry(states.Do("reset window", enterClosed))
	b.State(StateOpen, states.Normal).OnEntry(states.Do("grow open timeout", enterOpen))
	b.State(StateHalfOpen, states.Normal).OnEntry(states.Do("reset trials", enterHalfOpen))

	b.On(StateClosed, EventFailure, StateOpen).When(transitions.If(guardFailures, failuresReached))
	b.On(StateClosed, EventFailure, StateOpen).When(rateGuard)
	b.On(StateClosed, EventFailure, StateOpen).When(slowRateGuard)
	b.Internal(StateClosed, EventFailure)
	b.On(StateClosed, EventSuccess, StateOpen).When(rateGuard)
	b.On(StateClosed, EventSuccess, StateOpen).When(slowRateGuard)
	b.Internal(StateClosed, EventSuccess)

	b.AfterFunc(StateOpen, delayName, openTimeoutOf, StateHalfOpen)

	b.On(StateHalfOpen, EventSuccess, StateClosed).When(transitions.If(guardSuccesses, successesReached))
	b.Internal(StateHalfOpen, EventSuccess).Do(states.Do("count success", countSuccess))
	b.On(StateHalfOpen, EventFailure, StateOpen)

	b.On(StateClosed, EventForceOpen, StateOpen)
	b.On(StateOpen, EventForceOpen, StateOpen)
	b.On(StateHalfOpen, EventForceOpen, StateOpen)
	b.On(StateOpen, EventForceClose, StateClosed)
	b.On(StateHalfOpen, EventForceClose, StateClosed)
	resetMetrics := states.Do("reset metrics", resetMetrics)
	b.On(StateClosed, EventReset, StateClosed).Do(resetMetrics)
	b.On(StateOpen, EventReset, StateClosed).Do(resetMetrics)
	b.On(StateHalfOpen, EventReset, StateClosed).Do(resetMetrics)
	return b
}

func breakerOf(m Machine) *Breaker { return *m.Data() }

// Guards. They read the window and counters and change nothing.

// failuresReached: the count rule is on and the window holds at least
// FailureThreshold failures.
func failuresReached(m Machine) bool {
	b := breakerOf(m)
	return b.cfg.failureThreshold > 0 && b.windowCounts(m).failures >= b.cfg.failureThreshold
}

// rateReached: the failure-rate rule is on, the window holds at least
// MinimumCalls outcomes, and the share of failures reaches the threshold.
func rateReached(m Machine) bool {
	b := breakerOf(m)
	return b.cfg.failureRate != 0 && b.cfg.failureRateOver(b.windowCounts(m))
}

// slowRateReached: as rateReached, for slow calls.
func slowRateReached(m Machine) bool {
	b := breakerOf(m)
	return b.cfg.slowRate != 0 && b.cfg.slowRateOver(b.windowCounts(m))
}

// successesReached: counting the success being processed, the trials
// of this half-open period have succeeded SuccessThreshold times in a row
// (any failure would have reopened the breaker).
func successesReached(m Machine) bool {
	b := breakerOf(m)
	return int(b.halfOpenSuccesses.Load())+1 >= b.cfg.successThreshold
}

// openTimeoutOf is the delay of Open --after openTimeout--> HalfOpen: the
// timeout the Open entry action computed for this episode.
func openTimeoutOf(m Machine) time.Duration {
	return time.Duration(breakerOf(m).openTimeout.Load())
}

// Actions. They run under the Instance's lock, so fields that only they
// write need no more synchronisation among themselves; the ones Metrics
// or the admission path read are atomics.

// enterClosed starts a closed period: a new, empty window stamped with
// the generation just committed, and the open-timeout growth starts over.
func enterClosed(_ context.Context, m Machine) error {
	b := breakerOf(m)
	b.enter(StateClosed, m.Now())
	b.openStreak = 0
	b.installWindow(b.lockedGeneration())
	return nil
}

// enterOpen starts an open episode: its timeout (grown if the breaker
// has opened before since it last closed), its deadline, and the one
// rejection error that every call rejected during it receives.
func enterOpen(_ context.Context, m Machine) error {
	b := breakerOf(m)
	b.enter(StateOpen, m.Now())
	b.openStreak++
	d := b.cfg.grownTimeout(b.openStreak)
	b.openTimeout.Store(int64(d))
	b.openErr.Store(&OpenError{until: m.Now().Add(d), clock: b.clock, gen: b.lockedGeneration()})
	b.opens.Add(1)
	return nil
}

// enterHalfOpen starts a half-open period with no successes counted.
// Trial permits are counted per generation (Breaker.allowTrial), so they
// need no reset here.
func enterHalfOpen(_ context.Context, m Machine) error {
	b := breakerOf(m)
	b.enter(StateHalfOpen, m.Now())
	b.halfOpenSuccesses.Store(0)
	return nil
}

// enter adds the time spent in the state left to its total and starts the
// time of s, entered at now. Entry actions call it, under the Instance's
// lock.
func (b *Breaker) enter(s State, now time.Time) {
	t := now.Sub(b.origin)
	if int(b.entered) < len(b.timeIn) {
		b.timeIn[b.entered].Add(int64(max(t-time.Duration(b.stateSince.Load()), 0)))
	}
	b.entered = s
	b.stateSince.Store(int64(t))
}

// countSuccess counts a successful trial that did not yet close the
// breaker.
func countSuccess(_ context.Context, m Machine) error {
	breakerOf(m).halfOpenSuccesses.Add(1)
	return nil
}

// resetMetrics zeroes the counters Metrics reports; entering Closed then
// resets the window and the growth.
func resetMetrics(_ context.Context, m Machine) error {
	b := breakerOf(m)
	b.rejections.Store(0)
	b.opens.Store(0)
	for i := range b.timeIn {
		b.timeIn[i].Store(0)
	}
	b.stateSince.Store(int64(m.Now().Sub(b.origin)))
	return nil
}
