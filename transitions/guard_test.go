package transitions_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

type guard = transitions.Guard[string, string, struct{}]

// constGuard returns a named guard that always reports v and counts its
// calls in *n.
func constGuard(name string, v bool, n *int) guard {
	return transitions.If(name, func(states.Machine[string, string, struct{}]) bool {
		*n++
		return v
	})
}

func leaf(name string) guard {
	return transitions.If(name, func(states.Machine[string, string, struct{}]) bool { return true })
}

func TestGuardNamePrintsNestingWithParentheses(t *testing.T) {
	a, b, c, d := leaf("a"), leaf("b"), leaf("c"), leaf("d")
	tests := []struct {
		name string
		g    guard
		want string
	}{
		{"zero", guard{}, ""},
		{"leaf", a, "a"},
		{"leaf with spaces", leaf("door is unlocked"), "door is unlocked"},
		{"and", transitions.And(a, b), "a && b"},
		{"or", transitions.Or(a, b, c), "a || b || c"},
		{"not leaf", transitions.Not(a), "!a"},
		{"not not", transitions.Not(transitions.Not(a)), "!!a"},
		{"not and", transitions.Not(transitions.And(a, b)), "!(a && b)"},
		{"and of or", transitions.And(a, transitions.Or(b, c)), "a && (b || c)"},
		{"or of and", transitions.Or(transitions.And(a, b), c), "(a && b) || c"},
		{"and of not", transitions.And(transitions.Not(a), b), "!a && b"},
		{"single operand", transitions.And(a), "a"},
		{"nested single operand", transitions.Or(transitions.And(a), b), "(a) || b"},
		{"deep", transitions.Or(transitions.And(a, transitions.Not(transitions.Or(b, c))), d), "(a && !(b || c)) || d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.g.Name(), "Name()")
		})
	}
}

func TestGuardIsZeroOnlyForTheZeroGuard(t *testing.T) {
	if !(guard{}).IsZero() {
		t.Error("zero Guard: IsZero() = false")
	}
	for name, g := range map[string]guard{
		"leaf": leaf("x"),
		"and":  transitions.And[string, string, struct{}](),
		"or":   transitions.Or[string, string, struct{}](),
		"not":  transitions.Not(guard{}),
	} {
		if g.IsZero() {
			t.Errorf("%s: IsZero() = true", name)
		}
	}
}

func TestGuardCompileOfZeroGuardIsNil(t *testing.T) {
	assert.Nil(t, (guard{}).Compile(), "zero Guard compiled to a non-nil function")
}

func TestGuardCompileEvaluatesLeftToRightAndShortCircuits(t *testing.T) {
	// Each case combines counted leaves; calls lists how many times each
	// leaf must have run after one evaluation.
	tests := []struct {
		name  string
		build func(l []guard) guard
		vals  []bool
		want  bool
		calls []int
	}{
		{"leaf true", func(l []guard) guard { return l[0] }, []bool{true}, true, []int{1}},
		{"leaf false", func(l []guard) guard { return l[0] }, []bool{false}, false, []int{1}},
		{"and all true", func(l []guard) guard { return transitions.And(l...) }, []bool{true, true, true}, true, []int{1, 1, 1}},
		{"and stops at first false", func(l []guard) guard { return transitions.And(l...) }, []bool{true, false, true}, false, []int{1, 1, 0}},
		{"and false first", func(l []guard) guard { return transitions.And(l...) }, []bool{false, true}, false, []int{1, 0}},
		{"or all false", func(l []guard) guard { return transitions.Or(l...) }, []bool{false, false, false}, false, []int{1, 1, 1}},
		{"or stops at first true", func(l []guard) guard { return transitions.Or(l...) }, []bool{false, true, true}, true, []int{1, 1, 0}},
		{"or true first", func(l []guard) guard { return transitions.Or(l...) }, []bool{true, false}, true, []int{1, 0}},
		{"not true", func(l []guard) guard { return transitions.Not(l[0]) }, []bool{true}, false, []int{1}},
		{"not false", func(l []guard) guard { return transitions.Not(l[0]) }, []bool{false}, true, []int{1}},
		{
			"not and short circuits inside",
			func(l []guard) guard { return transitions.Not(transitions.And(l...)) },
			[]bool{false, true}, true, []int{1, 0},
		},
		{
			"or of and skips the second and",
			func(l []guard) guard {
				return transitions.Or(transitions.And(l[0], l[1]), transitions.And(l[2], l[3]))
			},
			[]bool{true, true, false, false}, true, []int{1, 1, 0, 0},
		},
		{
			"and of or evaluates until decided",
			func(l []guard) guard {
				return transitions.And(transitions.Or(l[0], l[1]), transitions.Not(l[2]), l[3])
			},
			[]bool{false, true, true, true}, false, []int{1, 1, 1, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := make([]int, len(tt.vals))
			leaves := make([]guard, len(tt.vals))
			for i, v := range tt.vals {
				leaves[i] = constGuard(string(rune('a'+i)), v, &counts[i])
			}
			f := tt.build(leaves).Compile()
			require.NotNil(t, f, "Compile() nil")
			assert.Equal(t, tt.want, f(nil), "compiled guard")
			for i, want := range tt.calls {
				assert.Equal(t, want, counts[i], "leaf %c calls", 'a'+i)
			}
		})
	}
}

func TestGuardUnnamedReportsFirstDefect(t *testing.T) {
	var noFn transitions.GuardFunc[string, string, struct{}]
	tests := []struct {
		name string
		g    guard
		bad  bool
	}{
		{"zero guard is fine", guard{}, false},
		{"named leaf", leaf("ok"), false},
		{"empty name", leaf(""), true},
		{"blank name", leaf("  \t"), true},
		{"nil function", transitions.If("ok", noFn), true},
		{"and with no operands", transitions.And[string, string, struct{}](), true},
		{"or with no operands", transitions.Or[string, string, struct{}](), true},
		{"and with zero operand", transitions.And(leaf("a"), guard{}), true},
		{"or with unnamed operand", transitions.Or(leaf("a"), leaf("")), true},
		{"not of zero guard", transitions.Not(guard{}), true},
		{"not of unnamed", transitions.Not(leaf("")), true},
		{"deep unnamed", transitions.And(leaf("a"), transitions.Or(leaf("b"), transitions.Not(transitions.If("c", noFn)))), true},
		{"well-formed nesting", transitions.And(leaf("a"), transitions.Or(leaf("b"), transitions.Not(leaf("c")))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.g.Unnamed()
			if (got != "") != tt.bad {
				t.Errorf("Unnamed() = %q, want a defect: %v", got, tt.bad)
			}
		})
	}
}

func TestGuardSameIsIdentityNotName(t *testing.T) {
	fn := func(states.Machine[string, string, struct{}]) bool { return true }
	a := transitions.If("a", fn)
	twin := transitions.If("a", fn) // same name and function, another guard
	b := leaf("b")
	copied := a
	var spec transitions.Spec[string, string, struct{}]
	spec.When(a)
	copiedSpec := spec
	tests := []struct {
		name string
		g, h guard
		want bool
	}{
		{"a guard and itself", a, a, true},
		{"a guard and its copy", a, copied, true},
		{"a guard and a copied spec's", a, copiedSpec.Guard, true},
		{"two Ifs with the same name and function", a, twin, false},
		{"two leaves", a, b, false},
		{"zero and zero", guard{}, guard{}, true},
		{"zero and a leaf", guard{}, a, false},
		{"the same combination", transitions.And(a, transitions.Not(b)), transitions.And(copied, transitions.Not(b)), true},
		{"a combination of a twin", transitions.And(a, b), transitions.And(twin, b), false},
		{"operands in another order", transitions.Or(a, b), transitions.Or(b, a), false},
		{"And and Or of the same operands", transitions.And(a, b), transitions.Or(a, b), false},
		{"more operands", transitions.And(a, b), transitions.And(a, b, b), false},
		{"Not and its operand", transitions.Not(a), a, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.g.Same(tt.h), "Same")
			assert.Equal(t, tt.want, tt.h.Same(tt.g), "Same, swapped")
		})
	}
}
