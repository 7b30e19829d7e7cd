package engine_test

import (
	"context"
	"errors"
	"testing"

	lfsm "github.com/looplab/fsm"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm/looplab"
)

func TestImportedLooplabDoorRunsOnAnInstance(t *testing.T) {
	def, _, err := looplab.Import("door", "closed", lfsm.Events{
		{Name: "open", Src: []string{"closed"}, Dst: "open"},
		{Name: "close", Src: []string{"open"}, Dst: "closed"},
	})
	require.NoError(t, err)
	rec := &enginetest.Recorder{}
	door, err := engine.NewInstance(def, struct{}{}, engine.WithObserver(rec))
	require.NoError(t, err)
	ctx := context.Background()
	for _, ev := range []string{"open", "close", "open"} {
		if _, err := door.Fire(ctx, ev); err != nil {
			t.Fatalf("Fire(%s): %v", ev, err)
		}
	}
	if _, err := door.Fire(ctx, "open"); !errors.Is(err, engine.ErrUnhandled) {
		t.Errorf("opening an open door: %v, want ErrUnhandled", err)
	}
	enginetest.AssertPath(t, rec, "closed", "open", "closed", "open")
}
