package transitions

import (
	"strings"

	"github.com/statecraft/statecraft/states"
)

// GuardFunc is the code of a guard. It must not have side effects: a guard
// may be evaluated and its transition still not taken.
type GuardFunc[S, E comparable, D any] func(m states.Machine[S, E, D]) bool

type guardOp uint8

const (
	opLeaf guardOp = iota + 1
	opAnd
	opOr
	opNot
)

// Guard is a named condition on a transition, or a combination of such
// conditions built with And, Or and Not. The zero Guard is "no guard": it
// always holds and has no name.
//
// A Guard is a small value that refers to what If made; its copies are the
// same guard (see Same).
type Guard[S, E comparable, D any] struct {
	op   guardOp
	leaf *leaf[S, E, D] // set when op is opLeaf; its address is the guard's identity
	args []Guard[S, E, D]
}

// leaf is what one call to If made.
type leaf[S, E comparable, D any] struct {
	name string
	fn   GuardFunc[S, E, D]
}

// If returns a guard with the given name and condition. The name appears in
// diagrams as "[name]" and must not be empty; fsm refuses an unnamed guard
// when the definition is built. Each call makes a new guard: two calls with
// the same name and function are not the Same.
func If[S, E comparable, D any](name string, fn GuardFunc[S, E, D]) Guard[S, E, D] {
	return Guard[S, E, D]{op: opLeaf, leaf: &leaf[S, E, D]{name: name, fn: fn}}
}

// And returns a guard that holds when every one of gs holds, evaluated left
// to right and stopping at the first that does not.
func And[S, E comparable, D any](gs ...Guard[S, E, D]) Guard[S, E, D] {
	return Guard[S, E, D]{op: opAnd, args: gs}
}

// Or returns a guard that holds when any of gs holds, evaluated left to
// right and stopping at the first that does.
func Or[S, E comparable, D any](gs ...Guard[S, E, D]) Guard[S, E, D] {
	return Guard[S, E, D]{op: opOr, args: gs}
}

// Not returns a guard that holds when g does not.
func Not[S, E comparable, D any](g Guard[S, E, D]) Guard[S, E, D] {
	return Guard[S, E, D]{op: opNot, args: []Guard[S, E, D]{g}}
}

// IsZero reports whether g is the zero Guard, which always holds.
func (g Guard[S, E, D]) IsZero() bool { return g.op == 0 }

// Same reports whether g and h are the same guard: copies of what one call
// to If returned, or the same combination (the same And, Or or Not of the
// Same operands, in the same order) of such guards. Two zero Guards are
// the Same. Names do not count: guards made by separate calls to If differ
// even when their names and functions are equal.
//
// Same lets code that declared a guard recognise it in a definition built
// from copies of its specs (fsm.Definition.Transitions), where another
// guard might carry the same name.
func (g Guard[S, E, D]) Same(h Guard[S, E, D]) bool {
	if g.op != h.op || g.leaf != h.leaf || len(g.args) != len(h.args) {
		return false
	}
	for i := range g.args {
		if !g.args[i].Same(h.args[i]) {
			return false
		}
	}
	return true
}

// Name returns the guard's printed form: the leaf's name, or the combination
// written with "&&", "||", "!" and parentheses where needed. The zero Guard's
// name is empty.
func (g Guard[S, E, D]) Name() string {
	var b strings.Builder
	g.write(&b, false)
	return b.String()
}

func (g Guard[S, E, D]) write(b *strings.Builder, nested bool) {
	switch g.op {
	case opLeaf:
		b.WriteString(g.leaf.name)
	case opNot:
		b.WriteByte('!')
		g.args[0].write(b, true)
	case opAnd, opOr:
		sep := " && "
		if g.op == opOr {
			sep = " || "
		}
		if nested {
			b.WriteByte('(')
		}
		for i, a := range g.args {
			if i > 0 {
				b.WriteString(sep)
			}
			a.write(b, true)
		}
		if nested {
			b.WriteByte(')')
		}
	}
}

// Unnamed reports the first defect that makes g unusable: a leaf with an
// empty name or no function, or a combinator with no operands. It returns
// "" when g is well formed.
func (g Guard[S, E, D]) Unnamed() string {
	switch g.op {
	case opLeaf:
		if strings.TrimSpace(g.leaf.name) == "" {
			return "guard with an empty name"
		}
		if g.leaf.fn == nil {
			return "guard " + g.leaf.name + " has no function"
		}
	case opAnd, opOr:
		if len(g.args) == 0 {
			return "And/Or guard with no operands"
		}
		for _, a := range g.args {
			if a.IsZero() {
				return "combined guard has a zero operand"
			}
			if d := a.Unnamed(); d != "" {
				return d
			}
		}
	case opNot:
		if g.args[0].IsZero() {
			return "Not of the zero guard"
		}
		return g.args[0].Unnamed()
	}
	return ""
}

// Compile returns g as one function, or nil for the zero Guard. Drivers call
// it once when a definition is built, not per evaluation.
func (g Guard[S, E, D]) Compile() GuardFunc[S, E, D] {
	switch g.op {
	case opLeaf:
		return g.leaf.fn
	case opNot:
		inner := g.args[0].Compile()
		return func(m states.Machine[S, E, D]) bool { return !inner(m) }
	case opAnd, opOr:
		fs := make([]GuardFunc[S, E, D], len(g.args))
		for i, a := range g.args {
			fs[i] = a.Compile()
		}
		if g.op == opAnd {
			return func(m states.Machine[S, E, D]) bool {
				for _, f := range fs {
					if !f(m) {
						return false
					}
				}
				return true
			}
		}
		return func(m states.Machine[S, E, D]) bool {
			for _, f := range fs {
				if f(m) {
					return true
				}
			}
			return false
		}
	}
	return nil
}
