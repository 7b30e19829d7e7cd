package fsm

import (
	"errors"
	"strings"
)

// Sentinel errors, one per kind of defect found when a definition is built.
// Each *ValidationError unwraps to one of them, so callers test with
// errors.Is(err, fsm.ErrUnreachable) through a *BuildError too.
var (
	ErrNoInitial          = errors.New("no initial state")
	ErrMultipleInitial    = errors.New("more than one initial state")
	ErrDuplicateState     = errors.New("state declared twice")
	ErrDuplicateLabel     = errors.New("two states print the same label")
	ErrUnknownState       = errors.New("transition names an undeclared state")
	ErrUnreachable        = errors.New("state is unreachable from the initial state")
	ErrDeadEnd            = errors.New("non-final state has no way out")
	ErrFinalHasTransition = errors.New("final state has an outgoing transition")
	ErrUnnamedGuard       = errors.New("guard has no name")
	ErrUnnamedAction      = errors.New("action has no name or no function")
	ErrGuardOrder         = errors.New("unguarded transition is not the last for its state and event")
	ErrChoice             = errors.New("choice function missing or misplaced")
	ErrInternalTarget     = errors.New("internal transition changes state")
	ErrBadDelay           = errors.New("delayed transition has a negative delay")
	ErrUnknownParent      = errors.New("state names an undeclared parent")
	ErrParentCycle        = errors.New("states are their own ancestors")
	ErrNoInitialChild     = errors.New("composite state has no initial child")
	ErrCompositeKind      = errors.New("final or choice state has children")
	ErrNoParent           = errors.New("initial child has no parent")
)

// ValidationError is one defect of a definition, naming the state and event
// it concerns by their printed labels (empty when it concerns none).
type ValidationError struct {
	// Err is the sentinel for the kind of defect, such as ErrUnreachable.
	Err error
	// State is the label of the state concerned, or "".
	State string
	// Event is the label of the event concerned, or "" (or "after …" for a
	// delayed transition).
	Event string
	// Detail adds what the sentinel cannot say, or "".
	Detail string
}

// Error reports the defect as "state S, event E: kind: detail".
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.State != "" {
		b.WriteString("state ")
		b.WriteString(quote(e.State))
	}
	if e.Event != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("event ")
		b.WriteString(quote(e.Event))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel, so errors.Is matches the kind of defect.
func (e *ValidationError) Unwrap() error { return e.Err }

// BuildError is returned by Builder.Build when the definition has one or
// more defects. It lists every defect found, not only the first.
type BuildError struct {
	// Machine is the name given to the builder.
	Machine string
	// Problems are the defects, in a deterministic order: state problems in
	// declaration order, then transition problems in declaration order, then
	// guard-order problems in order of each (state, event)'s first
	// transition, then graph problems (reachability, dead ends) in state
	// order.
	Problems []*ValidationError
}

// Error lists every defect, one per line after a heading line.
func (e *BuildError) Error() string {
	var b strings.Builder
	b.WriteString("fsm: machine ")
	b.WriteString(quote(e.Machine))
	b.WriteString(" is invalid:")
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns every defect, so errors.Is and errors.As see each of them.
func (e *BuildError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

func quote(s string) string {
	return "\"" + strings.ReplaceAll(strings.ReplaceAll(s, "\\", "\\\\"), "\"", "\\\"") + "\""
}
