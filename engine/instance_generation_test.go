package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/states"
)

func TestFireIfGenerationDropsAnEventOfAPassedGeneration(t *testing.T) {
	b := newB("gen")
	b.State("A", states.Initial)
	b.State("B", states.Normal)
	b.On("A", "go", "B").Do(note("went"))
	b.On("B", "go", "A").Do(note("back"))
	i := mustInstance(t, b)
	ctx := context.Background()

	gen := i.Generation()
	res, err := i.FireIfGeneration(ctx, gen, "go")
	require.NoError(t, err, "FireIfGeneration in the current generation")
	require.Equal(t, "B", res.To, "FireIfGeneration in the current generation")
	require.Equal(t, gen+1, i.Generation(), "FireIfGeneration in the current generation")
	res, err = i.FireIfGeneration(ctx, gen, "go") // gen has passed
	require.ErrorIs(t, err, engine.ErrStale, "FireIfGeneration of a passed generation")
	require.Equal(t, -1, res.Transition, "FireIfGeneration of a passed generation")
	require.Equal(t, "B", res.From, "FireIfGeneration of a passed generation")
	require.Equal(t, "B", res.To, "FireIfGeneration of a passed generation")
	require.Equal(t, "B", i.State(), "a stale event acted")
	require.Len(t, data(i), 1, "a stale event acted")
}

func TestAPanickingObserverLeavesTheInstanceWorking(t *testing.T) {
	b := newB("obs")
	b.State("A", states.Initial)
	b.State("B", states.Normal)
	b.On("A", "go", "B")
	b.On("B", "go", "A")
	panicked := false
	i := mustInstance(t, b, engine.WithObserver(engine.ObserverFunc(func(r engine.Record) {
		if !panicked {
			panicked = true
			panic("observer")
		}
	})))
	func() {
		defer func() {
			require.Equal(t, "observer", recover(), "recovered")
		}()
		_, _ = i.Fire(context.Background(), "go")
	}()
	// Before the fix, the observer lock stayed held and this deadlocked.
	if res, err := i.Fire(context.Background(), "go"); err != nil || res.To != "A" {
		t.Fatalf("Fire after an observer panicked = %+v, %v", res, err)
	}
}
