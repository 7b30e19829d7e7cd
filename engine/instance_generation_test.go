package engine_test

import (
	"context"
	"errors"
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
	if err != nil || res.To != "B" || i.Generation() != gen+1 {
		t.Fatalf("FireIfGeneration in the current generation = %+v, %v", res, err)
	}
	res, err = i.FireIfGeneration(ctx, gen, "go") // gen has passed
	if !errors.Is(err, engine.ErrStale) || res.Transition != -1 || res.From != "B" || res.To != "B" {
		t.Fatalf("FireIfGeneration of a passed generation = %+v, %v; want ErrStale and no transition", res, err)
	}
	if i.State() != "B" || len(data(i)) != 1 {
		t.Fatalf("a stale event acted: state %v, actions %v", i.State(), data(i))
	}
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
