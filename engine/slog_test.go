package engine_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// slowToggle is a toggle whose step off -> on is guarded and takes 3s on
// clk, and whose step on -> off fails.
func slowToggle(t *testing.T, clk *enginetest.Clock) *fsm.Definition[tstate, tevent, int] {
	b := fsm.New[tstate, tevent, int]("lamp")
	b.State(off, states.Initial)
	b.State(on, states.Normal)
	warm := transitions.If("warm", func(states.Machine[tstate, tevent, int]) bool { return true })
	b.On(off, toggle, on).When(warm).Do(states.Do("heat", func(context.Context, states.Machine[tstate, tevent, int]) error {
		clk.Advance(3 * time.Second)
		return nil
	}))
	b.On(on, toggle, off).Do(states.Do("break", func(context.Context, states.Machine[tstate, tevent, int]) error {
		return errors.New("bulb broke")
	}))
	d, err := b.Build()
	require.NoError(t, err)
	return d
}

func TestSlogObserverLogsEachStep(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // the wall clock's time: not the step's
			}
			return a
		},
	}))
	inst, err := engine.NewInstance(slowToggle(t, clk), 0, engine.WithClock(clk), engine.WithObserver(engine.NewSlogObserver(logger, slog.LevelDebug)))
	require.NoError(t, err)
	ctx := context.Background()
	if _, err := inst.Fire(ctx, toggle); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Fire(ctx, toggle); err == nil {
		t.Fatal("the breaking step succeeded")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=DEBUG msg=step machine=lamp from=s0 event=0 to=s1 transition=0 duration=3s guards="[warm]=true"`,
		`level=WARN msg=step machine=lamp from=s1 event=0 to=s1 transition=-1 duration=0s error=`,
	}
	require.Len(t, lines, len(want), "logged lines:\n%s", buf.String())
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s…", i, lines[i], want[i])
		}
	}
	if !strings.Contains(lines[1], "bulb broke") {
		t.Errorf("the failed step's line does not carry its error: %s", lines[1])
	}
}

func TestSlogObserverAtADisabledLevelAllocatesNothing(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	obs := engine.NewSlogObserver(logger, slog.LevelDebug)
	rec := engine.Record{Machine: "lamp", From: "s0", Event: "toggle", To: "s1",
		Guards: []engine.GuardOutcome{{Guard: "warm", Held: true}}}
	testutil.WantAllocs(t, 0, "Observe at a disabled level", func() { obs.Observe(rec) })
}
