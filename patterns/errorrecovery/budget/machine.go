package budget

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

// State is a state of the retry budget machine. A Budget reports it with
// its State method, from one atomic load.
type State uint8

// The states. A Budget starts Available.
const (
	// StateAvailable: the last retry asked for was allowed, or the budget
	// has recovered since one was refused. The next may still be refused;
	// it then moves the budget to Exhausted.
	StateAvailable State = iota
	// StateExhausted: a retry was refused and the budget has not
	// recovered since, so a retry now is refused too. The budget leaves
	// Exhausted when an execution, or the ageing of old retries, makes
	// room for one.
	StateExhausted
)

var stateNames = []string{"Available", "Exhausted"}

// String returns the state's name, as diagrams and traces print it.
func (s State) String() string { return enum.String(stateNames, s, "budget.State") }

// Event is an event of the retry budget machine.
type Event uint8

// The events.
const (
	// EventWithdraw: a retry is asked for (Budget.Withdraw).
	EventWithdraw Event = iota
	// EventDeposit: an execution was recorded while the budget was
	// Exhausted, and may have made room for a retry (Budget.Deposit
	// fires it only then: in Available a deposit changes no state).
	EventDeposit
)

var eventNames = []string{"withdraw", "deposit"}

// String returns the event's name.
func (e Event) String() string { return enum.String(eventNames, e, "budget.Event") }

// Machine is the running retry budget machine as the guards and actions
// of its definition see it; its Data is the *Budget.
type Machine = states.Machine[State, Event, *Budget]

// The names guards, actions and delays carry in diagrams and traces.
const (
	guardWithin = "retry within budget"
	guardOver   = "no retry within budget"
	actionSpend = "spend retry"
	delayName   = "recovery"
)

// call is the argument a Budget fires EventWithdraw with: the slice the
// withdrawal falls in, read once by Withdraw for its guards and action,
// and whether the spend action ran. Recycled through a pool, as an
// argument escapes to the heap.
type call struct {
	idx   int64
	spent bool
}

var callPool = sync.Pool{New: func() any { return new(call) }}

var errMisuse = errors.New("errorrecovery: retry budget action used out of place")

func budgetOf(m Machine) *Budget { return *m.Data() }

func withinBudget(m Machine) bool {
	return budgetOf(m).within(sliceOf(m))
}

// sliceOf is the slice an event of m falls in: a withdrawal's, read once
// by Withdraw, so that its guards and its action agree and the clock is
// read once per withdrawal; for any other event (a deposit, the timer)
// the current slice on the machine's clock, read as Deposit reads it.
func sliceOf(m Machine) int64 {
	if c, ok := engine.ArgOf[call](m); ok {
		return c.idx
	}
	return budgetOf(m).nowSlice()
}

// spend counts a retry in the window.
func spend(_ context.Context, m Machine) error {
	c, ok := engine.ArgOf[call](m)
	if !ok {
		return errMisuse
	}
	budgetOf(m).wd.add(c.idx)
	c.spent = true
	return nil
}

// untilRecovered is the delay of Exhausted's timers: until the slice
// boundary at which, with nothing more recorded, the budget holds a
// retry again (see slicesUntilWithin).
func untilRecovered(m Machine) time.Duration {
	b := budgetOf(m)
	now := b.since(m.Now())
	idx := now / b.width
	return time.Duration((idx+b.slicesUntilWithin(idx))*b.width - now)
}

var (
	ifWithin    = transitions.If(guardWithin, withinBudget)
	ifOver      = transitions.If(guardOver, func(m Machine) bool { return !withinBudget(m) })
	doSpend     = states.Do(actionSpend, spend)
	defaultDefn = sync.OnceValue(func() *fsm.Definition[State, Event, *Budget] {
		return DefinitionBuilder().MustBuild()
	})
)

// Definition returns the machine every Budget runs unless
// engine.WithDefinition gives New another. Its data is the *Budget that
// runs it: the guards read its window, the action counts a retry in it.
// It is built once and shared.
//
//	Available --withdraw [retry within budget] / spend retry (internal)
//	Available --withdraw------------------------------------> Exhausted
//	Exhausted --withdraw [retry within budget] / spend retry> Available
//	Exhausted --withdraw (internal: refused)
//	Exhausted --deposit [retry within budget]---------------> Available
//	Exhausted --after recovery [retry within budget]--------> Available
//	Exhausted --after recovery [no retry within budget]-----> Exhausted
//
// A withdraw that runs no spend action is refused. The timers of
// Exhausted are armed, on entry, for the slice boundary at which old
// retries will have aged out enough; executions ageing out meanwhile may
// leave the budget short, in which case Exhausted is entered again and
// armed anew.
func Definition() *fsm.Definition[State, Event, *Budget] { return defaultDefn() }

// DefinitionBuilder returns a builder holding the default retry budget
// machine, not yet built, so that a variant can start from it; pass the
// built variant to New with engine.WithDefinition.
func DefinitionBuilder() *fsm.Builder[State, Event, *Budget] {
	b := fsm.New[State, Event, *Budget]("retry budget")
	b.CommitRegardless() // its steps spend retries: never stopped halfway
	b.State(StateAvailable, states.Initial)
	b.State(StateExhausted, states.Normal)

	b.Internal(StateAvailable, EventWithdraw).When(ifWithin).Do(doSpend)
	b.On(StateAvailable, EventWithdraw, StateExhausted)
	b.On(StateExhausted, EventWithdraw, StateAvailable).When(ifWithin).Do(doSpend)
	b.Internal(StateExhausted, EventWithdraw)
	b.On(StateExhausted, EventDeposit, StateAvailable).When(ifWithin)

	b.AfterFunc(StateExhausted, delayName, untilRecovered, StateAvailable).When(ifWithin)
	b.AfterFunc(StateExhausted, delayName, untilRecovered, StateExhausted).When(ifOver)
	return b
}
