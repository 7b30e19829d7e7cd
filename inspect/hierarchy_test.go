package inspect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/states"
)

// A hierarchical machine's diagram marks its composite state, names each
// child's parent in its tooltip, and starts at the top-level initial
// state only; the current state is the active leaf.
func TestDiagramOfAHierarchicalMachine(t *testing.T) {
	b := fsm.New[string, string, int]("nested")
	b.State("Idle", states.Initial)
	b.State("Busy", states.Normal)
	b.State("Working", states.Initial).In("Busy")
	b.State("Waiting", states.Normal).In("Busy")
	b.On("Idle", "go", "Busy")
	b.On("Working", "wait", "Waiting")
	b.On("Waiting", "resume", "Working")
	b.On("Busy", "stop", "Idle")
	def, err := b.Build()
	require.NoError(t, err)
	in := inspect.New(nil)
	inst, err := engine.NewInstance(def, 0, in.Observe("nested"))
	require.NoError(t, err)
	require.NoError(t, inspect.AddMachine(in, "nested", inst))
	_, err = inst.Fire(context.Background(), "go")
	require.NoError(t, err)

	_, _, svg := get(t, in, "/machine/nested/diagram.svg")
	assert.Contains(t, svg, `class="state normal composite" data-state="Busy"`)
	assert.Contains(t, svg, "composite of: Working, Waiting")
	assert.Contains(t, svg, "Waiting (normal) in Busy")
	assert.Contains(t, svg, `current" data-state="Working"`, "the active leaf is highlighted")
	assert.Equal(t, 1, strings.Count(svg, `class="start"`), "one start marker, the top-level initial state's")
}
