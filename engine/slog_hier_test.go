package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// A hierarchical machine's step logs the states it exited and entered.
func TestSlogObserverLogsExitedAndEntered(t *testing.T) {
	b := fsm.New[string, string, []string]("nested")
	b.State("Idle", states.Initial)
	b.State("P", states.Normal)
	b.State("A", states.Initial).In("P")
	b.State("B", states.Normal).In("P")
	b.On("Idle", "go", "P")
	b.On("A", "next", "B")
	b.On("P", "stop", "Idle")
	def, err := b.Build()
	require.NoError(t, err)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	inst, err := engine.NewInstance(def, nil, engine.WithObserver(engine.NewSlogObserver(logger, slog.LevelInfo)))
	require.NoError(t, err)
	for _, e := range []string{"go", "next", "stop"} {
		_, err := inst.Fire(context.Background(), e)
		require.NoError(t, err, e)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, "logged lines:\n%s", buf.String())
	assert.Contains(t, lines[0], "from=Idle event=go to=A")
	assert.Contains(t, lines[0], `exited=Idle entered=P,A`)
	assert.Contains(t, lines[1], `exited=A entered=B`)
	assert.Contains(t, lines[2], `exited=B,P entered=Idle`)
}
