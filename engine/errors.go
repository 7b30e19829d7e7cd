package engine

import (
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/internal/enum"
)

// Sentinels the driver's typed errors match with errors.Is.
var (
	// ErrUnhandled: the event has no transition out of the current state,
	// or every guarded transition's guard failed.
	ErrUnhandled = errors.New("event not handled")
	// ErrNotTransitioned: the caller's context was done before the
	// transition committed; the machine is where it was.
	ErrNotTransitioned = errors.New("not transitioned")
	// ErrStepLimit: raised events or choice states went on longer than the
	// step bound of one Fire (a raise loop).
	ErrStepLimit = errors.New("step limit reached")
	// ErrFinished: the run is in a final state and takes no more events.
	ErrFinished = errors.New("machine finished")
	// ErrStale: Instance.FireIfGeneration was given a generation the
	// machine has already left; the event was not processed.
	ErrStale = errors.New("generation has passed")
)

// Phase names the part of a transition in which user code failed.
type Phase uint8

// The phases of a transition, in the order they run.
const (
	PhaseGuard  Phase = iota + 1 // a guard panicked
	PhaseAction                  // a transition action failed
	PhaseExit                    // an exit action of the source failed
	PhaseEntry                   // an entry action of the target failed (the target is committed)
	PhaseChoice                  // a choice state's function failed (the choice state is committed)
)

var phaseNames = []string{"", "guard", "action", "exit", "entry", "choice"}

// String returns the phase's lower-case name.
func (p Phase) String() string { return enum.String(phaseNames, p, "Phase") }

// UnhandledError reports an event that no transition took.
type UnhandledError struct {
	Machine string
	// State and Event are labels.
	State, Event string
	// Guarded reports that transitions exist for the event but every
	// guard failed; false means the state does not accept the event at all
	// (or the definition does not know it).
	Guarded bool
	// Final reports that the machine is in a final state, which takes no
	// events; the error then also matches ErrFinished.
	Final bool
}

// Error describes the event and state.
func (e *UnhandledError) Error() string {
	why := "no transition"
	switch {
	case e.Guarded:
		why = "no guard held"
	case e.Final:
		why = "the machine is in a final state"
	}
	return fmt.Sprintf("%s: event %q in state %q: %s", e.Machine, e.Event, e.State, why)
}

// Is matches ErrUnhandled, and ErrFinished when Final is set.
func (e *UnhandledError) Is(target error) bool {
	return target == ErrUnhandled || (e.Final && target == ErrFinished)
}

// ActionError reports user code (an action, guard or choice function) that
// returned an error or panicked. Err is that error, or a *PanicError.
type ActionError struct {
	Machine string
	Phase   Phase
	// State is the label of the state the machine is in after the failure:
	// the source for guard, action and exit failures (nothing was
	// committed), the target for entry and choice failures.
	State string
	// Event is the label of the event (or "after d") being processed.
	Event string
	// Action names the action, guard or choice function that failed.
	Action string
	Err    error
}

// Error describes the failure with its phase, state, event and action.
func (e *ActionError) Error() string {
	return fmt.Sprintf("%s: %s %q failed in state %q on event %q: %v", e.Machine, e.Phase, e.Action, e.State, e.Event, e.Err)
}

// Unwrap returns the underlying error.
func (e *ActionError) Unwrap() error { return e.Err }

// PanicError is a panic in user code, recovered by the driver. The machine
// keeps working after it.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack when the panic was recovered.
	Stack []byte
}

// Error reports the panic's value.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic's value when it is an error (as with a runtime
// error), so errors.Is and errors.As see it.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// NotTransitionedError reports that the caller's context ended before the
// transition committed. It matches ErrNotTransitioned and the context's own
// error (context.Canceled or context.DeadlineExceeded).
type NotTransitionedError struct {
	Machine      string
	State, Event string
	Err          error
}

// Error describes where the machine stayed and why.
func (e *NotTransitionedError) Error() string {
	return fmt.Sprintf("%s: event %q in state %q: not transitioned: %v", e.Machine, e.Event, e.State, e.Err)
}

// Unwrap returns ErrNotTransitioned and the context's error.
func (e *NotTransitionedError) Unwrap() []error { return []error{ErrNotTransitioned, e.Err} }

// StepLimitError reports that one Fire took more steps than its bound,
// which points at events raised in a loop.
type StepLimitError struct {
	Machine string
	// State is the label of the state the machine was left in.
	State string
	Limit int
}

// Error names the bound.
func (e *StepLimitError) Error() string {
	return fmt.Sprintf("%s: more than %d steps in one Fire (raise loop?), stopped in state %q", e.Machine, e.Limit, e.State)
}

// Is matches ErrStepLimit.
func (e *StepLimitError) Is(target error) bool { return target == ErrStepLimit }
