// Package states declares the states of a statecraft machine: their kinds,
// labels, and the entry and exit actions that run when a transition enters
// or leaves them.
//
// A state is described by a [Spec]. Specs are plain data: package fsm
// collects them through its builder, checks them when the definition is
// built, and draws them. Nothing in this package runs a machine; what an
// action needs from the running machine reaches it through [Machine], which
// each driver in package engine implements.
package states

import (
	"context"
	"time"

	"github.com/statecraft/statecraft/internal/enum"
)

// Kind says what role a state plays in its machine.
type Kind uint8

// The kinds of state. The zero Kind is Normal.
const (
	Normal  Kind = iota // an ordinary state that waits for events or timers
	Initial             // the state a machine starts in: exactly one among the top-level states, and one among the children of each composite state
	Final               // a state the machine never leaves; reaching it ends a run
	Choice              // a state that runs its choice function on entry and leaves at once by the event it returns
)

var kindNames = []string{"normal", "initial", "final", "choice"}

// String returns the kind's lower-case name, or "Kind(n)" for an unknown value.
func (k Kind) String() string { return enum.String(kindNames, k, "Kind") }

// Machine is the running machine as user code (actions, guards, choice
// functions) sees it. Each driver in package engine implements it; a value
// is valid only during the call it was passed to and must not be retained.
type Machine[S, E comparable, D any] interface {
	// State reports the state the machine is in: the source state while
	// guards, transition actions and exit actions run, the target state
	// while entry actions and choice functions run.
	State() S
	// Event reports the event being processed, and false when the current
	// step was started by a delayed transition's timer rather than an event.
	Event() (E, bool)
	// Data returns the machine's data. The pointer is valid for the
	// machine's lifetime; the driver does not synchronise access to it
	// beyond its own run-to-completion rule.
	Data() *D
	// Raise queues e to be processed after the current step completes and
	// before the next external event.
	Raise(e E)
	// Now reports the current time on the machine's clock.
	Now() time.Time
}

// ActionFunc is the code of an action. An error it returns aborts the
// transition in the phase it ran in; package engine documents what state the
// machine is left in for each phase.
type ActionFunc[S, E comparable, D any] func(ctx context.Context, m Machine[S, E, D]) error

// Action is a named piece of user code run on entry, on exit or during a
// transition. The name appears in diagrams and traces and must not be empty.
type Action[S, E comparable, D any] struct {
	Name string
	Fn   ActionFunc[S, E, D]
}

// Do returns an Action with the given name and code.
func Do[S, E comparable, D any](name string, fn ActionFunc[S, E, D]) Action[S, E, D] {
	return Action[S, E, D]{Name: name, Fn: fn}
}

// ChoiceFunc is the code of a choice state: it runs when the state is
// entered and returns the event by which the state is left at once. An
// error it returns is reported like an entry action's.
type ChoiceFunc[S, E comparable, D any] func(ctx context.Context, m Machine[S, E, D]) (E, error)

// Choose is a named ChoiceFunc, as a choice state carries it.
type Choose[S, E comparable, D any] struct {
	Name string
	Fn   ChoiceFunc[S, E, D]
}

// Chooser returns a Choose with the given name and code.
func Chooser[S, E comparable, D any](name string, fn ChoiceFunc[S, E, D]) Choose[S, E, D] {
	return Choose[S, E, D]{Name: name, Fn: fn}
}

// Spec describes one state. The zero Spec (apart from ID) is a normal state
// labelled by its ID's String method (or %v), with no actions.
type Spec[S, E comparable, D any] struct {
	// ID is the state's value of the machine's state type.
	ID S
	// Kind is the state's role. Zero means Normal.
	Kind Kind
	// Label is the state's printed name in diagrams, traces and snapshots.
	// Empty means the ID printed with String (or %v). Labels must be unique
	// within a machine.
	Label string
	// Entry actions run, in order, after a transition into the state commits.
	Entry []Action[S, E, D]
	// Exit actions run, in order, before a transition out of the state commits.
	Exit []Action[S, E, D]
	// Choose is the choice function of a Choice state; it must be set for
	// Choice states and only for them.
	Choose Choose[S, E, D]
	// Parent is the composite state this state is a child of, when
	// HasParent is set (see In). A state with children is composite: it is
	// never the machine's current state itself, one of its descendants is.
	// Among the children of one parent exactly one has Kind Initial; it is
	// entered when a transition targets the parent.
	Parent    S
	HasParent bool
	// InitialChild marks the child entered when a transition targets its
	// parent, whatever its kind (see First): a choice state can start a
	// composite this way. A child of Kind Initial is its parent's initial
	// child too.
	InitialChild bool
}

// In makes s a child of the composite state parent and returns s, for
// chaining. Give one child of each parent the kind Initial: it is the
// child entered when a transition targets the parent. Transitions declared
// on parent apply in s unless s (or a state between them) handles the
// event itself.
func (s *Spec[S, E, D]) In(parent S) *Spec[S, E, D] {
	s.Parent, s.HasParent = parent, true
	return s
}

// First makes s, a child (see In), the initial child of its parent: the
// state entered when a transition targets the parent, as a child of Kind
// Initial is. It is how a choice state, whose kind is Choice, starts a
// composite state. Returns s, for chaining.
func (s *Spec[S, E, D]) First() *Spec[S, E, D] {
	s.InitialChild = true
	return s
}

// OnEntry appends entry actions and returns s, for chaining.
func (s *Spec[S, E, D]) OnEntry(a ...Action[S, E, D]) *Spec[S, E, D] {
	s.Entry = append(s.Entry, a...)
	return s
}

// OnExit appends exit actions and returns s, for chaining.
func (s *Spec[S, E, D]) OnExit(a ...Action[S, E, D]) *Spec[S, E, D] {
	s.Exit = append(s.Exit, a...)
	return s
}

// Labelled sets the state's printed label and returns s, for chaining.
func (s *Spec[S, E, D]) Labelled(label string) *Spec[S, E, D] {
	s.Label = label
	return s
}
