package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// A choice state marked First starts its composite: a transition to the
// composite enters it, and its function decides at once where to go.
func TestHierarchyChoiceAsInitialChild(t *testing.T) {
	b := fsm.New[string, string, []string]("hfirst")
	hstate(b, "Idle", states.Initial, "")
	hstate(b, "P", states.Normal, "")
	b.Choice("Pick", states.Chooser("pick", func(ctx context.Context, m hmach) (string, error) {
		return "go", nil
	})).In("P").First().OnEntry(hlog("enter Pick")).OnExit(hlog("exit Pick"))
	hstate(b, "Work", states.Normal, "P")
	hstate(b, "Q", states.Final, "")
	b.On("Idle", "start", "P")
	b.On("Pick", "go", "Work")
	b.On("Work", "done", "Q")
	def, err := b.Build()
	require.NoError(t, err)
	g := def.Graph()
	for _, s := range g.States {
		assert.Equal(t, s.Label == "Pick", s.InitialChild, "GraphState.InitialChild of %s", s.Label)
	}
	for name, d := range hdrivers(t, def) {
		d.take()
		res, err := d.fire("start")
		require.NoError(t, err, name)
		assert.Equal(t, "Work", res.To, name)
		assert.Equal(t, []string{"exit Idle", "enter P", "enter Pick", "exit Pick", "enter Work"}, d.take(), name)
		d.close()
	}
}
