package fsm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// Edit keeps everything of the definition but what edit changes: state
// actions, delayed transitions, options; the original is untouched.
func TestEditMakesAVariantAndLeavesTheOriginal(t *testing.T) {
	noop := states.Do("log", func(context.Context, states.Machine[string, string, int]) error { return nil })
	b := fsm.New[string, string, int]("door")
	b.CommitRegardless()
	b.State("closed", states.Initial).OnEntry(noop)
	b.State("open", states.Normal)
	b.State("broken", states.Final)
	b.On("closed", "open", "open")
	b.On("closed", "kick", "broken")
	b.Timeout("open", time.Minute, "closed")
	b.ErrorState("broken")
	def := b.MustBuild()

	variant, err := def.Edit(func(tr *transitions.Spec[string, string, int]) bool {
		if tr.Event == "open" {
			tr.Do(noop) // the copy's actions only
		}
		return tr.Event != "kick"
	}).AllowUnreachable().Build()
	require.NoError(t, err)
	assert.Len(t, variant.Transitions(), 2, "variant has transitions (kick dropped, the timeout kept)")
	assert.Len(t, def.Transitions(), 3, "original has transitions")
	if len(def.Transitions()[0].Actions) != 0 || len(variant.Transitions()[0].Actions) != 1 {
		t.Error("the edit's action leaked into the original, or was lost")
	}
	if len(variant.StateSpecs()[0].Entry) != 1 || !variant.CommitsRegardless() {
		t.Error("the variant lost a state's entry action or CommitRegardless")
	}
	if s, ok := variant.ErrorState(); !ok || s != "broken" {
		t.Errorf("error state %q, %v; want broken", s, ok)
	}
	same, err := def.Edit(nil).Build()
	if err != nil || same.Fingerprint() != def.Fingerprint() {
		t.Errorf("Edit(nil) rebuilt a different machine: %v", err)
	}
}
