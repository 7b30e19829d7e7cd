package saga

import (
	"strconv"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// StateKind says which part of a saga machine a State belongs to.
type StateKind uint8

// The kinds of saga state. Forward and Compensating states are choice
// states, one per step: entering one runs the step's action (or its
// compensation) and the outcome is the event it leaves by.
const (
	StateStart              StateKind = iota // Start: before the first step, or before a recovery
	StateForward                             // StepN: running step N's action
	StateCompensating                        // CompensatingN: running step N's compensation
	StateDone                                // final: every step succeeded
	StateCompensated                         // final: a step failed and every step that took effect was undone
	StateCompensationFailed                  // final: a compensation failed; what is still owed stays in the journal
)

// State is a state of a saga machine. The zero State is Start.
type State struct {
	// Kind is the part of the machine.
	Kind StateKind
	// Step is the 1-based step of a Forward or Compensating state, and
	// zero for the others.
	Step int
}

// String returns the state's label: "Start", "Step2", "Compensating1",
// "Done", "Compensated" or "CompensationFailed".
func (s State) String() string {
	switch s.Kind {
	case StateStart:
		return "Start"
	case StateForward:
		return "Step" + strconv.Itoa(s.Step)
	case StateCompensating:
		return "Compensating" + strconv.Itoa(s.Step)
	case StateDone:
		return "Done"
	case StateCompensated:
		return "Compensated"
	case StateCompensationFailed:
		return "CompensationFailed"
	}
	return "State(" + strconv.Itoa(int(s.Kind)) + "," + strconv.Itoa(s.Step) + ")"
}

// Event is an event of a saga machine: how a step or a compensation
// turned out, or how a run begins.
type Event uint8

// The events.
const (
	EventBegin      Event = iota // begin: a new run starts at its first step
	EventRollBack                // roll back: Recover undoes what an interrupted run left owed
	EventAllDone                 // all done: Recover found every step recorded done
	EventStepDone                // done: the step succeeded and its outcome is recorded
	EventStepFailed              // failed: the step failed, or the caller's context ended; it took no effect
	EventTimedOut                // timed out: the saga's timeout passed before or during the step
	EventUnrecorded              // unrecorded: the step took effect but its outcome could not be journaled
	EventUndone                  // undone: the compensation succeeded
	EventUndoFailed              // undo failed: the compensation (or the resolve hook) failed; it stays owed
	EventNotOwed                 // not owed: the step took no effect, or was already undone
)

var sagaEventNames = []string{"begin", "roll back", "all done", "done", "failed", "timed out", "unrecorded", "undone", "undo failed", "not owed"}

// String returns the event's name.
func (e Event) String() string { return enum.String(sagaEventNames, e, "Event") }

type sagaMachine[T any] = states.Machine[State, Event, RunData[T]]

func sagaFwd(i int) State  { return State{Kind: StateForward, Step: i} }
func sagaComp(i int) State { return State{Kind: StateCompensating, Step: i} }

// buildDefinition generates the saga's machine from its steps:
//
//	Start --begin--> Step1 --done--> Step2 … Stepn --done--> Done
//	Stepi --failed, timed out--> the compensating state of the nearest step below i that has a compensation
//	Stepi --unrecorded--> the same, but from step i itself (it took effect)
//	Compensatingi --undone, undo failed, not owed--> the next compensating state below
//	the lowest compensating state --…--> Compensated [none failed] | CompensationFailed
//	Start --roll back--> the highest compensating state; Start --all done--> Done
//
// Steps without a compensation have no compensating state. Every state
// change of a run, a recovery included, is one of these transitions.
func (s *Saga[T]) buildDefinition() (*fsm.Definition[State, Event, RunData[T]], error) {
	n := len(s.steps)
	b := fsm.New[State, Event, RunData[T]](s.name)
	// Each step journals what it did: a caller's context that ends must
	// not leave the journal and the machine disagreeing halfway.
	b.CommitRegardless()
	start := State{Kind: StateStart}
	done := State{Kind: StateDone}
	compensated := State{Kind: StateCompensated}
	failed := State{Kind: StateCompensationFailed}

	// below[i] is where undoing goes after step i (1-based): the
	// compensating state of the nearest lower step with a compensation,
	// or Compensated. below[0] is Compensated.
	below := make([]State, n+1)
	below[0] = compensated
	anyComp := false
	for i, st := range s.steps {
		below[i+1] = below[i]
		if st.hasUndo() {
			below[i+1] = sagaComp(i + 1)
			anyComp = true
		}
	}
	// from(i) is where undoing starts when step i took effect itself.
	from := func(i int) State { return below[i] }
	lower := func(i int) State { return below[i-1] }

	b.State(start, states.Initial)
	for i, st := range s.steps {
		b.Choice(sagaFwd(i+1), states.Chooser(st.name, s.forward))
	}
	for k := range n { // compensating states from the last step down
		if st := s.steps[n-1-k]; st.hasUndo() {
			b.Choice(sagaComp(n-k), states.Chooser("undo "+st.name, s.compensate))
		}
	}
	// The journal writes are actions of the machine (no-ops without a
	// journal), so the diagram shows where they happen.
	settle := states.Do("settle", s.settle)
	complete := states.Do("mark complete", s.markComplete)
	b.State(done, states.Final).OnEntry(complete)
	b.State(compensated, states.Final).OnEntry(settle, complete)
	if anyComp {
		b.State(failed, states.Final).OnEntry(settle)
	}

	startComp := states.Do("on compensation start", s.onCompensationStart)
	b.On(start, EventBegin, sagaFwd(1)).Do(states.Do("record saga", s.recordBegin))
	b.On(start, EventRollBack, below[n]).Do(startComp)
	b.On(start, EventAllDone, done)
	for k := range n {
		i := k + 1
		next := done
		if i < n {
			next = sagaFwd(i + 1)
		}
		b.On(sagaFwd(i), EventStepDone, next)
		b.On(sagaFwd(i), EventStepFailed, lower(i)).Do(startComp)
		b.On(sagaFwd(i), EventTimedOut, lower(i)).Do(startComp)
		b.On(sagaFwd(i), EventUnrecorded, from(i)).Do(startComp)
	}
	noneFailed := transitions.If("none failed", func(m sagaMachine[T]) bool {
		return len(m.Data().undoErrs) == 0
	})
	for k := range n {
		i := n - k
		if !s.steps[i-1].hasUndo() {
			continue
		}
		c := sagaComp(i)
		if next := lower(i); next.Kind == StateCompensating {
			b.On(c, EventUndone, next)
			b.On(c, EventUndoFailed, next)
			b.On(c, EventNotOwed, next)
			continue
		}
		b.On(c, EventUndone, compensated).When(noneFailed)
		b.On(c, EventUndone, failed)
		b.On(c, EventUndoFailed, failed)
		b.On(c, EventNotOwed, compensated).When(noneFailed)
		b.On(c, EventNotOwed, failed)
	}
	return b.Build()
}
