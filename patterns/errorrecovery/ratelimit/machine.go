package ratelimit

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

// State is a state of the rate limiter machine. A Limiter reports it with
// its State method, from one atomic load.
type State uint8

// The states. A Limiter starts Available.
const (
	// StateAvailable: the last call that asked got its permit at once, or
	// a permit has come free since. The next call may still find none
	// free; it then moves the limiter to Limited.
	StateAvailable State = iota
	// StateLimited: the rate is reached. A call has found no permit free
	// and none has come free since, so a call now waits (up to MaxWait)
	// or is rejected. The limiter leaves Limited on its clock, the moment
	// the next permit comes free.
	StateLimited
)

var stateNames = []string{"Available", "Limited"}

// String returns the state's name, as diagrams and traces print it.
func (s State) String() string { return enum.String(stateNames, s, "ratelimit.State") }

// Event is an event of the rate limiter machine.
type Event uint8

// The events. A call that finds a permit free while the limiter is
// Available takes it, and one that finds none within its wait while the
// limiter is Limited is refused, without firing anything: those are the
// default definition's internal edges, which change no state (see
// Limiter). Every other call fires EventAcquire.
const (
	EventAcquire Event = iota // a call asks for a permit the lock-free path could not give
)

var eventNames = []string{"acquire"}

// String returns the event's name.
func (e Event) String() string { return enum.String(eventNames, e, "ratelimit.Event") }

// Machine is the running rate limiter machine as the guards and actions
// of its definition see it; its Data is the *Limiter.
type Machine = states.Machine[State, Event, *Limiter]

// The names guards, actions and delays carry in diagrams and traces.
const (
	guardFree   = "permit free"
	guardNone   = "no permit free"
	actionTake  = "take permit"
	delayToNext = "next permit"
)

// call is the argument a Limiter fires EventAcquire with
// (engine.FireWith): the wait the caller accepts, and what the take
// action did for it. A call is recycled through a pool, as an argument
// escapes to the heap.
type call struct {
	maxWait time.Duration // negative: no bound
	taken   bool          // the take action ran
	granted bool          // it gave a permit, due at (a wait of wait)
	at      int64         // the permit's time, in ns since the limiter's origin
	wait    time.Duration // the wait of the permit, granted or not
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// errMisuse reports the take action fired by something other than a
// Limiter.
var errMisuse = errors.New("errorrecovery: rate limiter action used out of place")

func limiterOf(m Machine) *Limiter { return *m.Data() }

// permitFree reports whether a permit is free at the machine's now.
func permitFree(m Machine) bool {
	l := limiterOf(m)
	now := l.now() // the machine's clock, read as the lock-free path reads it
	at, _ := l.plan(l.word.Load(), now)
	return at <= now
}

// untilNext is the delay of Limited's timers: the time until the next
// permit comes free, as the words stands when Limited is entered.
func untilNext(m Machine) time.Duration {
	l := limiterOf(m)
	now := l.sinceOrigin(m.Now())
	at, _ := l.plan(l.word.Load(), now)
	return time.Duration(at - now)
}

// take gives the caller a permit, at once or after a wait its call
// accepts, or records that it cannot; see Limiter.take.
func take(_ context.Context, m Machine) error {
	c, ok := engine.ArgOf[call](m)
	if !ok {
		return errMisuse
	}
	l := limiterOf(m)
	c.taken = true
	c.at, c.wait, c.granted = l.take(l.now(), c.maxWait)
	return nil
}

var (
	ifFree   = transitions.If(guardFree, permitFree)
	ifNone   = transitions.If(guardNone, func(m Machine) bool { return !permitFree(m) })
	doTake   = states.Do(actionTake, take)
	defaultD = sync.OnceValue(func() *fsm.Definition[State, Event, *Limiter] {
		return DefinitionBuilder().MustBuild()
	})
)

// Definition returns the machine every Limiter runs unless
// engine.WithDefinition gives New another. Its data is the *Limiter that
// runs it: the guards and the action read and move the limiter's permit
// word. It is built once and shared.
//
//	Available --acquire [permit free] / take permit (internal)
//	Available --acquire / take permit--------------------> Limited
//	Limited   --acquire [permit free] / take permit------> Available
//	Limited   --acquire / take permit (internal)
//	Limited   --after next permit [permit free]----------> Available
//	Limited   --after next permit [no permit free]-------> Limited
//
// An acquire that finds no permit free moves the limiter to Limited
// whether its call waits for a later permit or is rejected. The timers
// of Limited are armed, on entry, for the moment the next permit comes
// free; a wait granted meanwhile may have pushed that moment later, in
// which case Limited is entered again and the timers armed anew.
func Definition() *fsm.Definition[State, Event, *Limiter] { return defaultD() }

// DefinitionBuilder returns a builder holding the default rate limiter
// machine, not yet built, so that a variant can start from it; pass the
// built variant to New with engine.WithDefinition.
func DefinitionBuilder() *fsm.Builder[State, Event, *Limiter] {
	b := fsm.New[State, Event, *Limiter]("rate limiter")
	b.CommitRegardless() // its steps spend permits: never stopped halfway
	b.State(StateAvailable, states.Initial)
	b.State(StateLimited, states.Normal)

	b.Internal(StateAvailable, EventAcquire).When(ifFree).Do(doTake)
	b.On(StateAvailable, EventAcquire, StateLimited).Do(doTake)
	b.On(StateLimited, EventAcquire, StateAvailable).When(ifFree).Do(doTake)
	b.Internal(StateLimited, EventAcquire).Do(doTake)

	b.AfterFunc(StateLimited, delayToNext, untilNext, StateAvailable).When(ifFree)
	b.AfterFunc(StateLimited, delayToNext, untilNext, StateLimited).When(ifNone)
	return b
}
