package fsm

import (
	"time"

	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Builder collects the states and transitions of a machine and checks them
// in Build. The methods that declare a state or transition return a pointer
// to its spec so it can be refined by chaining:
//
//	b := fsm.New[State, Event, Data]("door")
//	b.State(Closed, states.Initial)
//	b.State(Opened, states.Normal).OnEntry(states.Do("log", logOpen))
//	b.On(Closed, Open, Opened).When(transitions.If("unlocked", isUnlocked))
//	b.On(Opened, Close, Closed)
//	b.Timeout(Opened, 30*time.Second, Closed)
//	def, err := b.Build()
//
// A Builder is not safe for concurrent use. The specs it returns must not
// be changed after Build.
type Builder[S, E comparable, D any] struct {
	name             string
	states           []*states.Spec[S, E, D]
	trans            []*transitions.Spec[S, E, D]
	allowUnreachable bool
	commitRegardless bool
	errorState       *S
}

// New returns an empty Builder for a machine with the given name, which
// appears in errors and diagrams.
func New[S, E comparable, D any](name string) *Builder[S, E, D] {
	return &Builder[S, E, D]{name: name}
}

// State declares a state of the given kind. For a Choice state use Choice,
// which also takes the choice function.
func (b *Builder[S, E, D]) State(id S, kind states.Kind) *states.Spec[S, E, D] {
	s := &states.Spec[S, E, D]{ID: id, Kind: kind}
	b.states = append(b.states, s)
	return s
}

// Choice declares a choice state: on entry it runs c and leaves at once by
// the event c returns, with no trip through an event queue.
func (b *Builder[S, E, D]) Choice(id S, c states.Choose[S, E, D]) *states.Spec[S, E, D] {
	s := &states.Spec[S, E, D]{ID: id, Kind: states.Choice, Choose: c}
	b.states = append(b.states, s)
	return s
}

// On declares an external transition from one state to another on an event.
func (b *Builder[S, E, D]) On(from S, event E, to S) *transitions.Spec[S, E, D] {
	t := &transitions.Spec[S, E, D]{From: from, Event: event, To: to}
	b.trans = append(b.trans, t)
	return t
}

// Internal declares an internal transition of state s on an event: its
// actions run, but s is not left, so no exit or entry action runs and its
// timers stay armed.
func (b *Builder[S, E, D]) Internal(s S, event E) *transitions.Spec[S, E, D] {
	return b.On(s, event, s).AsInternal()
}

// After declares a delayed transition: d after from is entered, if the
// machine is still in that same visit of from, it moves to to. A zero d
// fires as soon as the driver next looks at its timers.
func (b *Builder[S, E, D]) After(from S, d time.Duration, to S) *transitions.Spec[S, E, D] {
	t := &transitions.Spec[S, E, D]{From: from, To: to, Delayed: true, After: d}
	b.trans = append(b.trans, t)
	return t
}

// AfterFunc declares a delayed transition whose delay fn computes when from
// is entered; name labels the delay in diagrams ("after name").
func (b *Builder[S, E, D]) AfterFunc(from S, name string, fn transitions.DelayFunc[S, E, D], to S) *transitions.Spec[S, E, D] {
	t := &transitions.Spec[S, E, D]{From: from, To: to, Delayed: true, AfterFn: fn, AfterName: name}
	b.trans = append(b.trans, t)
	return t
}

// Timeout is shorthand for After: a state timeout of d on state s leading to
// state to.
func (b *Builder[S, E, D]) Timeout(s S, d time.Duration, to S) *transitions.Spec[S, E, D] {
	return b.After(s, d, to)
}

// AllowUnreachable makes Build report unreachable states as warnings
// (Definition.Warnings) instead of errors. Importers of machines written for
// other libraries use it; hand-written machines should not need it.
func (b *Builder[S, E, D]) AllowUnreachable() *Builder[S, E, D] {
	b.allowUnreachable = true
	return b
}

// CommitRegardless declares that a step of the machine, once begun,
// commits whatever the caller's context does: the drivers do not check
// ctx before committing a transition, so a context that ends mid-chain
// cannot leave the machine halfway (in a choice state, say) with its work
// half done. It is for machines whose steps are bookkeeping (counts,
// permits, journals) that must finish once started; their actions see ctx
// and decide for themselves what its end means. A Run's Wait still stops
// sleeping when ctx ends; only the steps are unaffected.
func (b *Builder[S, E, D]) CommitRegardless() *Builder[S, E, D] {
	b.commitRegardless = true
	return b
}

// ErrorState declares s the machine's error state: when an entry action
// (or a choice function) fails, the driver moves the machine there instead
// of leaving it in the state it was entering. s must be declared; it counts
// as reachable from every state.
func (b *Builder[S, E, D]) ErrorState(s S) *Builder[S, E, D] {
	b.errorState = &s
	return b
}

// MustBuild is like Build but panics if the definition is invalid. It is
// meant for definitions fixed in code, such as package-level variables.
func (b *Builder[S, E, D]) MustBuild() *Definition[S, E, D] {
	d, err := b.Build()
	if err != nil {
		panic(err)
	}
	return d
}
