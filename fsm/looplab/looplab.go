// Package looplab turns state machines written for github.com/looplab/fsm
// into statecraft definitions, so that an existing machine can be validated,
// drawn and run by package engine without being rewritten. It is the only
// package of statecraft that imports looplab/fsm.
//
// Import reads the same []EventDesc that looplab's NewFSM takes. States and
// events stay strings, as looplab has them, and print as themselves, so a
// diagram shows exactly the names the looplab code uses, quotes and spaces
// included. The machine carries no data (its data type is struct{}).
//
// # What is imported
//
//   - Every state looplab would know (each Src and Dst) and the initial
//     state, declared in order of first mention: initial first, then each
//     event's sources and its destination in turn.
//   - One transition per (source, event): an EventDesc with several sources
//     becomes several transitions, one per source, in declaration order.
//   - A transition whose source is its destination becomes an internal
//     transition: looplab does not leave the state then (Event returns
//     NoTransitionError and runs no leave or enter callback), and neither
//     does statecraft.
//   - A state other than the initial one with no event out of it is final:
//     looplab has no notion of a final state, and such a state is where the
//     machine stops.
//
// Callbacks are not imported: they are code, keyed by strings that name
// states and events, and a statecraft definition keeps its code in named
// actions and guards. To add behaviour, declare a statecraft machine with
// fsm.New from the imported definition's StateSpecs and Transitions, and
// attach actions and guards there.
//
// # What is tolerated, and what is not
//
// looplab accepts machines that statecraft's builder would refuse. Import
// keeps looplab's reading where looplab has one, and says so in the
// warnings it returns:
//
//   - A state that cannot be reached from the initial state (a Src nobody
//     leads to) is a warning (fsm.ErrUnreachable), not an error.
//   - The same event declared twice from the same source: looplab keeps the
//     later declaration (its transition table is a map), and so does Import.
//     The earlier one is dropped, the later one keeps its own place in
//     declaration order, and a warning (ErrRedeclared) names the source and
//     the event. Dropping it may leave its target unreachable, which is
//     reported too.
//
// With the Strict option both are errors instead. Always refused: an empty
// state or event name (ErrEmptyName), and an initial state with no event out
// of it, which would have to be both initial and final (fsm.ErrDeadEnd).
package looplab

import (
	"errors"
	"strconv"

	lfsm "github.com/looplab/fsm"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// Definition is the type of an imported machine: string states and events,
// no data.
type Definition = fsm.Definition[string, string, struct{}]

// Defects found by Import itself, beside those of package fsm. They are
// reported as *fsm.ValidationError values, like the builder's.
var (
	// ErrRedeclared: an event was declared twice from the same source
	// state. The later declaration is kept, as in looplab.
	ErrRedeclared = errors.New("event declared again from the same state; the later declaration wins")
	// ErrEmptyName: a state or an event has an empty name.
	ErrEmptyName = errors.New("empty state or event name")
)

// An Option changes how Import reads a machine.
type Option func(*options)

type options struct {
	strict bool
}

// Strict makes Import refuse what it otherwise reports as a warning: an
// unreachable state and an event declared twice from the same source.
func Strict() Option {
	return func(o *options) { o.strict = true }
}

// Import builds a statecraft definition named name from the events of a
// looplab machine starting in initial, as looplab's NewFSM(initial, events,
// callbacks) would read them. The package documentation says how states,
// transitions and final states are derived.
//
// The warnings list what was tolerated: redeclared events (ErrRedeclared)
// in declaration order, then unreachable states (fsm.ErrUnreachable) in
// state order; it is empty for a machine with neither. When the machine
// cannot be imported, err is a *fsm.BuildError listing every defect, the
// definition is nil and so are the warnings.
func Import(name, initial string, events lfsm.Events, opts ...Option) (def *Definition, warnings []*fsm.ValidationError, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var problems []*fsm.ValidationError
	refuse := func(p *fsm.ValidationError) { problems = append(problems, p) }
	tolerate := refuse
	if !o.strict {
		tolerate = func(p *fsm.ValidationError) { warnings = append(warnings, p) }
	}

	// States in order of first mention.
	var order []string
	seen := make(map[string]bool)
	mention := func(s string) {
		if !seen[s] {
			seen[s] = true
			order = append(order, s)
		}
	}
	mention(initial)
	for _, e := range events {
		for _, src := range e.Src {
			mention(src)
		}
		mention(e.Dst)
		if e.Name == "" {
			refuse(&fsm.ValidationError{Err: ErrEmptyName, Detail: "an event has an empty name"})
		}
	}
	if seen[""] {
		refuse(&fsm.ValidationError{Err: ErrEmptyName, Detail: "a state has an empty name"})
	}
	if len(problems) > 0 {
		return nil, nil, &fsm.BuildError{Machine: name, Problems: problems}
	}

	// Transitions, one per (source, event); a later declaration replaces an
	// earlier one, as it does in looplab's map.
	type key struct{ src, event string }
	type trans struct {
		key
		dst     string
		dropped bool
	}
	var ts []trans
	last := make(map[key]int)
	leaves := make(map[string]bool)
	for _, e := range events {
		for _, src := range e.Src {
			k := key{src, e.Name}
			if i, dup := last[k]; dup {
				ts[i].dropped = true
				tolerate(&fsm.ValidationError{Err: ErrRedeclared, State: src, Event: e.Name,
					Detail: "target " + strconv.Quote(ts[i].dst) + " replaced by " + strconv.Quote(e.Dst)})
			}
			last[k] = len(ts)
			ts = append(ts, trans{key: k, dst: e.Dst})
			leaves[src] = true
		}
	}

	b := fsm.New[string, string, struct{}](name)
	if !o.strict {
		b.AllowUnreachable()
	}
	for _, s := range order {
		kind := states.Normal
		switch {
		case s == initial:
			kind = states.Initial
		case !leaves[s]:
			kind = states.Final
		}
		b.State(s, kind)
	}
	for _, t := range ts {
		switch {
		case t.dropped:
		case t.src == t.dst:
			b.Internal(t.src, t.event)
		default:
			b.On(t.src, t.event, t.dst)
		}
	}
	def, err = b.Build()
	var be *fsm.BuildError
	if errors.As(err, &be) {
		problems = append(problems, be.Problems...)
	} else if err != nil {
		return nil, nil, err
	}
	if len(problems) > 0 {
		return nil, nil, &fsm.BuildError{Machine: name, Problems: problems}
	}
	return def, append(warnings, def.Warnings()...), nil
}
