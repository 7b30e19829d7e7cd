package saga

import (
	"context"
	"encoding/json"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Step is one step of a saga: a named forward action, its
// compensation (if any), and how they are protected and resolved. Make
// one with NewStep.
type Step[T any] struct {
	name    string
	do      func(ctx context.Context, c Call[T]) (any, error)
	undo    func(ctx context.Context, c Call[T], out json.RawMessage) error
	raw     errorrecovery.CompensationFunc // from CompensationConfig.CompensationActions
	resolve ResolveFunc[T]
	protect errorrecovery.Protector
}

// Call is what an action of a saga is given.
type Call[T any] struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// Step is the step's name.
	Step string
	// Phase says whether this is the step's action or its compensation.
	Phase Phase
	// Key is the action's idempotency key: the same for every call of
	// this action in this run, retries and recoveries included.
	Key string
	// State is the saga's state. A forward action may change it; the
	// change is journaled with the step's outcome. It is valid only during
	// the call.
	State *T
}

// ResolveFunc decides what became of a step whose action started but
// whose outcome the journal does not know (the process died meanwhile):
// whether it took effect, and if so its output (encoded as JSON and given
// to the compensation). It is called with the forward action's key, and
// typically asks the service the step called. An error leaves the question
// open: the compensation stays owed and the saga ends CompensationFailed,
// so the next Recover asks again.
type ResolveFunc[T any] func(ctx context.Context, c Call[T]) (applied bool, output any, err error)

// NewStep returns a step named name (unique within its saga) whose
// action is do and compensation undo. do's output is journaled as JSON and
// decoded for undo, which receives it with its own idempotency key. A nil
// undo means the step needs no compensation, or that
// errorrecovery.CompensationConfig.CompensationActions supplies it.
//
// do must either take effect and return nil, or return an error and take
// no effect (an action that may half-happen is made idempotent with its
// key, or protected by a retry).
func NewStep[T, O any](name string, do func(ctx context.Context, c Call[T]) (O, error), undo func(ctx context.Context, c Call[T], out O) error) Step[T] {
	st := Step[T]{name: name}
	if do != nil {
		st.do = func(ctx context.Context, c Call[T]) (any, error) { return do(ctx, c) }
	}
	if undo != nil {
		st.undo = func(ctx context.Context, c Call[T], raw json.RawMessage) error {
			var out O
			if len(raw) > 0 {
				if err := json.Unmarshal(raw, &out); err != nil {
					return &JournalError{Saga: c.Saga, ID: c.ID, Step: c.Step, Phase: c.Phase, Op: "decode output", Err: err}
				}
			}
			return undo(ctx, c, out)
		}
	}
	return st
}

// Name returns the step's name.
func (st Step[T]) Name() string { return st.name }

// ProtectedBy returns a copy of the step whose action runs through p (an
// errorrecovery.Workflow, of NewWorkflow, NewRetry or NewDeadline). Every
// attempt gets the same key.
func (st Step[T]) ProtectedBy(p errorrecovery.Protector) Step[T] {
	st.protect = p
	return st
}

// ResolvedBy returns a copy of the step that asks fn, during Recover,
// whether the step took effect when its outcome is unknown. Without it
// such a step is treated as done and compensated, with the zero output.
// A step with no compensation is never asked: whether it took effect or
// not, there is nothing to undo.
func (st Step[T]) ResolvedBy(fn ResolveFunc[T]) Step[T] {
	st.resolve = fn
	return st
}

func (st *Step[T]) hasUndo() bool { return st.undo != nil || st.raw != nil }

// runUndo calls the step's compensation, typed or untyped.
func (st *Step[T]) runUndo(ctx context.Context, c Call[T], out json.RawMessage) error {
	if st.undo != nil {
		return st.undo(ctx, c, out)
	}
	state, err := json.Marshal(c.State)
	if err != nil {
		return &JournalError{Saga: c.Saga, ID: c.ID, Step: c.Step, Phase: c.Phase, Op: "encode state", Err: err}
	}
	if len(out) == 0 {
		out = json.RawMessage("null")
	}
	return st.raw(ctx, errorrecovery.Compensation{Saga: c.Saga, ID: c.ID, Step: c.Step, Key: c.Key, Output: out, State: state})
}
