package engine

import "time"

// Observer receives a Record for each step a driver takes. Observe is called
// after the step, outside every lock of the driver, in the order the steps
// were taken; it must not block for long, since the driver waits for it.
type Observer interface {
	Observe(r Record)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(Record)

// Observe calls f(r).
func (f ObserverFunc) Observe(r Record) { f(r) }

// Record describes one step of a machine: the event (or timer) that
// triggered it, the guards evaluated, and the transition taken, if any.
// Records are made only when an observer is attached.
type Record struct {
	// Machine is the definition's name.
	Machine string
	// Time is the clock's time when the step started.
	Time time.Time
	// From is the label of the state the step started in.
	From string
	// Event is the label of the event, or "after d" for a timer.
	Event string
	// Delayed reports that a delayed transition's timer triggered the step.
	Delayed bool
	// Raised reports that the event was raised by an action, not fired
	// from outside.
	Raised bool
	// Guards are the guards evaluated, in order.
	Guards []GuardOutcome
	// Transition is the declaration index of the transition taken, or -1
	// when none was.
	Transition int
	// To is the label of the state the step ended in (From when none was
	// taken, or when the step failed before commit).
	To string
	// Exited and Entered list the labels of the states a transition of a
	// hierarchical machine exited (innermost first) and entered (outermost
	// first). They are nil for a flat machine, whose From and To say it
	// all, for internal transitions, and when no transition was taken.
	Exited, Entered []string
	// Err is the step's error, nil on success.
	Err error
	// Duration is how long the step took on the clock, from Time to the
	// end of its last action. A step on a manual clock takes no time
	// unless something in it advances the clock.
	Duration time.Duration
}

// GuardOutcome is the result of one guard evaluated during a step.
type GuardOutcome struct {
	// Transition is the declaration index of the guarded transition.
	Transition int
	// Guard is the guard's printed form.
	Guard string
	// Held reports whether it held.
	Held bool
}
