package fsm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

type hb = fsm.Builder[string, string, int]

// problems builds b, which must fail, and returns its defects as
// (sentinel, state) pairs with the details.
func problems(t *testing.T, b *hb) []*fsm.ValidationError {
	t.Helper()
	_, err := b.Build()
	var be *fsm.BuildError
	require.ErrorAs(t, err, &be)
	return be.Problems
}

type row struct{ Kind, State, Detail string }

// rows makes defects comparable: the sentinel by its message.
func rows(ps []*fsm.ValidationError) []row {
	out := make([]row, len(ps))
	for i, p := range ps {
		out[i] = row{p.Err.Error(), p.State, p.Detail}
	}
	return out
}

func TestHierarchyValidation(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *hb)
		want  []*fsm.ValidationError
	}{
		{"missing parent", func(b *hb) {
			b.State("a", states.Initial)
			b.State("b", states.Normal).In("ghost")
			b.On("a", "go", "b")
			b.On("b", "go", "a")
		}, []*fsm.ValidationError{{Err: fsm.ErrUnknownParent, State: "b", Detail: `parent "ghost" is not declared`}}},
		{"cycle", func(b *hb) {
			b.State("a", states.Initial)
			b.State("x", states.Initial).In("y")
			b.State("y", states.Initial).In("x")
			b.On("a", "go", "x")
			b.On("x", "back", "a")
		}, []*fsm.ValidationError{
			{Err: fsm.ErrParentCycle, State: "x", Detail: "x in y in x"},
		}},
		{"no initial child", func(b *hb) {
			b.State("p", states.Initial)
			b.State("c1", states.Normal).In("p")
			b.State("c2", states.Normal).In("p")
			b.On("c1", "go", "c2")
			b.On("c2", "go", "c1")
		}, []*fsm.ValidationError{{Err: fsm.ErrNoInitialChild, State: "p", Detail: "give one of its children the kind states.Initial, or call First on it"}}},
		{"two initial children", func(b *hb) {
			b.State("p", states.Initial)
			b.State("c1", states.Initial).In("p")
			b.State("c2", states.Initial).In("p")
			b.On("c1", "go", "c2")
			b.On("c2", "go", "c1")
		}, []*fsm.ValidationError{{Err: fsm.ErrMultipleInitial, State: "c2", Detail: "also c1, both children of p"}}},
		{"First and an Initial child", func(b *hb) {
			b.State("p", states.Initial)
			b.State("c1", states.Initial).In("p")
			b.State("c2", states.Normal).In("p").First()
			b.On("c1", "go", "c2")
			b.On("c2", "go", "c1")
		}, []*fsm.ValidationError{{Err: fsm.ErrMultipleInitial, State: "c2", Detail: "also c1, both children of p"}}},
		{"First without a parent", func(b *hb) {
			b.State("a", states.Initial)
			b.State("b", states.Normal).First()
			b.On("a", "go", "b")
			b.On("b", "go", "a")
		}, []*fsm.ValidationError{{Err: fsm.ErrNoParent, State: "b", Detail: "First marks the initial child of a parent; declare its parent with In"}}},
		{"final composite", func(b *hb) {
			b.State("a", states.Initial)
			b.State("f", states.Final)
			b.State("c", states.Initial).In("f")
			b.On("a", "go", "f")
		}, []*fsm.ValidationError{
			{Err: fsm.ErrCompositeKind, State: "f", Detail: "a final state cannot be composite"},
		}},
		{"a child that only its parent's sibling could reach", func(b *hb) {
			b.State("p", states.Initial)
			b.State("c1", states.Initial).In("p")
			b.State("c2", states.Normal).In("p")
			b.State("q", states.Final)
			b.On("p", "stop", "q")
		}, []*fsm.ValidationError{{Err: fsm.ErrUnreachable, State: "c2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fsm.New[string, string, int]("h")
			tt.build(b)
			got := problems(t, b)
			if diff := cmp.Diff(rows(tt.want), rows(got)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, p := range got {
				assert.ErrorIs(t, p, p.Err)
				assert.Contains(t, p.Error(), `state "`+p.State+`"`)
			}
		})
	}
}

func TestHierarchyInheritedTransitionsAreWaysOut(t *testing.T) {
	// c1 and c2 declare nothing: p's transitions are their ways out, and
	// entering p reaches c1; c2 is reached by c1's own transition.
	b := fsm.New[string, string, int]("h")
	b.State("p", states.Initial)
	b.State("c1", states.Initial).In("p")
	b.State("c2", states.Normal).In("p")
	b.State("q", states.Final)
	b.On("c1", "next", "c2")
	b.On("p", "stop", "q")
	def, err := b.Build()
	require.NoError(t, err)
	assert.Equal(t, "p", def.Initial())
	assert.Equal(t, []string{"stop"}, def.Accepts("c2"))
	assert.Equal(t, []string{"next", "stop"}, def.Accepts("c1"))
	specs := def.StateSpecs()
	assert.True(t, specs[1].HasParent)
	assert.Equal(t, "p", specs[1].Parent)
}

func TestHierarchyParentChangesTheFingerprint(t *testing.T) {
	build := func(nest bool) uint64 {
		b := fsm.New[string, string, int]("h")
		b.State("p", states.Initial)
		b.State("c1", states.Initial).In("p")
		c2 := b.State("c2", states.Normal)
		if nest {
			c2.In("p")
		}
		b.State("q", states.Normal)
		b.On("c1", "next", "c2")
		b.On("c2", "next", "q")
		b.On("q", "next", "p")
		return b.MustBuild().Fingerprint()
	}
	assert.NotEqual(t, build(false), build(true))
}
