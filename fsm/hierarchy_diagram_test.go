package fsm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// callDef is a per-call machine drawn with hierarchy: Executing { Attempt,
// Backoff, Retry? } and Recovering { Fallback, Compensate }, with a
// deadline on Executing, an error state inside Recovering and labels that
// need escaping.
func callDef(t testing.TB) *fsm.Definition[string, string, int] {
	b := fsm.New[string, string, int]("call")
	act := func(name string) states.Action[string, string, int] {
		return states.Do(name, func(context.Context, states.Machine[string, string, int]) error { return nil })
	}
	b.State("Executing", states.Initial).OnEntry(act("start deadline"))
	b.State("Attempt", states.Initial).In("Executing").OnEntry(act("call"))
	b.State("Backoff", states.Normal).In("Executing")
	b.Choice("Retry?", states.Chooser("budget left", func(context.Context, states.Machine[string, string, int]) (string, error) {
		return "retry", nil
	})).In("Executing")
	b.State("Recovering", states.Normal).Labelled(`Recovering "fallback"`)
	b.State("Fallback", states.Initial).In("Recovering")
	b.State("Compensate", states.Normal).In("Recovering").OnExit(act("undo"))
	b.State("Failed", states.Normal).In("Recovering")
	b.State("Done", states.Final)
	b.On("Attempt", "ok", "Done")
	b.On("Attempt", "fail", "Retry?")
	b.On("Retry?", "retry", "Backoff")
	b.On("Retry?", "give up", "Recovering")
	b.After("Backoff", 100*time.Millisecond, "Attempt")
	b.After("Executing", 5*time.Second, "Recovering")
	b.On("Executing", "cancel", "Done")
	b.On("Fallback", "fail", "Compensate")
	b.On("Fallback", "ok", "Done")
	b.On("Compensate", "done", "Done")
	b.On("Recovering", "retry all", "Executing")
	b.On("Failed", "ack", "Done")
	b.ErrorState("Failed")
	def, err := b.Build()
	require.NoError(t, err)
	return def
}

func TestHierarchyDiagramGoldens(t *testing.T) {
	def := callDef(t)
	cases := []struct {
		name string
		opts fsm.DiagramOptions
	}{
		{"hierarchy", fsm.DiagramOptions{}},
		{"hierarchy-overlay", fsm.DiagramOptions{Highlight: "Backoff", Visits: map[int]int{1: 3, 2: 2, 4: 2, 5: 1, 0: 1}}},
		{"hierarchy-composite-highlight", fsm.DiagramOptions{Highlight: "Executing"}},
	}
	for _, c := range cases {
		for _, f := range []struct {
			ext   string
			write func(*strings.Builder) error
		}{
			{"dot", func(b *strings.Builder) error { return fsm.WriteDot(b, def.Graph(), c.opts) }},
			{"mmd", func(b *strings.Builder) error { return fsm.WriteMermaid(b, def.Graph(), c.opts) }},
		} {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				var b strings.Builder
				require.NoError(t, f.write(&b))
				got := b.String()
				var again strings.Builder
				require.NoError(t, f.write(&again))
				require.Equal(t, got, again.String(), "deterministic")
				path := filepath.Join("testdata", "golden", c.name+"."+f.ext)
				if *update {
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
					return
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test -update to write it")
				assert.Equal(t, string(want), got)
			})
		}
	}
}

func TestHierarchyDiagramsDrawCompositesAroundChildren(t *testing.T) {
	g := callDef(t).Graph()
	var dot, mmd strings.Builder
	require.NoError(t, fsm.WriteDot(&dot, g, fsm.DiagramOptions{}))
	require.NoError(t, fsm.WriteMermaid(&mmd, g, fsm.DiagramOptions{}))
	assert.Contains(t, dot.String(), "compound=true;")
	assert.Contains(t, dot.String(), "subgraph cluster_s0 {")
	assert.Contains(t, dot.String(), "s0 -> s1;", "the composite's point leads to its initial child")
	assert.Contains(t, dot.String(), "s0 -> s4 [ltail=cluster_s0, lhead=cluster_s4, label=\"after 5s\"")
	assert.Contains(t, mmd.String(), "state \"Executing<br>entry / start deadline\" as s0 {")
	assert.Contains(t, mmd.String(), "        [*] --> s1\n")
	assert.Contains(t, mmd.String(), `state "Recovering #quot;fallback#quot;" as s4 {`)
	// The flat drawing of a flat machine has none of it.
	flat := fsm.New[string, string, int]("flat")
	flat.State("a", states.Initial)
	flat.State("b", states.Final)
	flat.On("a", "go", "b")
	assert.NotContains(t, flat.MustBuild().Dot(), "compound")
}

func TestHierarchyDiagramRefusesBadParents(t *testing.T) {
	g := callDef(t).Graph()
	g.States[1].Parent = 99
	var b strings.Builder
	assert.ErrorIs(t, fsm.WriteDot(&b, g, fsm.DiagramOptions{}), fsm.ErrDiagram)
	g = callDef(t).Graph()
	g.States[0].HasParent, g.States[0].Parent = true, 1 // Executing in Attempt in Executing
	assert.ErrorIs(t, fsm.WriteMermaid(&b, g, fsm.DiagramOptions{}), fsm.ErrDiagram)
}
