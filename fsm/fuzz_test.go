package fsm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// fuzzDiagram builds a small machine whose labels and names are the fuzzer's
// strings, and options that use them too. It reports false when Build
// refuses the machine (a duplicate label, a blank guard or action name), in
// which case there is nothing to draw.
//
// The machine: a state labelled state (initial, with entry and exit actions
// named action) goes on event [guard && !other] / action to a choice state
// labelled state+"?" (its function named guard), which goes on to a final
// state or back; the first state also has an internal transition on "tick"
// and a delayed one. The options highlight the first state, overlay visits,
// and draw the machine again as a cluster joined by a use labelled event.
func fuzzDiagram(t *testing.T, state, event, guard, action string) (fsm.Graph, fsm.DiagramOptions, bool) {
	t.Helper()
	if len(state)+len(event)+len(guard)+len(action) > fuzzMaxLen {
		// Escaping looks at a rune and its neighbours only; long inputs
		// find nothing short ones do not, and make each run slow.
		return fsm.Graph{}, fsm.DiagramOptions{}, false
	}
	b := fsm.New[string, string, struct{}](state)
	b.State("a", states.Initial).Labelled(state).OnEntry(dgAction(action)).OnExit(dgAction(action))
	b.Choice("c", dgChooser(guard)).Labelled(state + "?")
	b.State("z", states.Final).Labelled("end")
	b.On("a", event, "c").
		When(transitions.And(dgGuard(guard), transitions.Not(dgGuard("other")))).
		Do(dgAction(action))
	b.Internal("a", "tick").Do(dgAction(action))
	b.After("a", time.Second, "z")
	b.On("c", "yes", "z")
	b.On("c", "no", "a")
	def, err := b.Build()
	if err != nil {
		var be *fsm.BuildError
		if !errors.As(err, &be) {
			t.Fatalf("Build returned %T, want *fsm.BuildError: %v", err, err)
		}
		return fsm.Graph{}, fsm.DiagramOptions{}, false
	}
	g := def.Graph()
	first := g.States[0].Label
	opts := fsm.DiagramOptions{
		Highlight: first,
		Visits:    map[int]int{0: 2, 1: 1},
		Clusters: []fsm.Cluster{{
			Graph:     g,
			Highlight: "end",
			Visits:    map[int]int{2: 5},
			Uses:      []fsm.Use{{From: first, To: g.States[1].Label, Label: event}},
		}},
	}
	return g, opts, true
}

// fuzzMaxLen bounds the total length of a fuzz input's four strings.
const fuzzMaxLen = 256

// fuzzSeeds are added in code as well as in testdata/fuzz, so that plain
// "go test" runs them even if the corpus folders are removed.
var fuzzSeeds = [][4]string{
	{"Closed", "open", "has key", "log"},
	{`say "hi"`, `back\slash`, `x > 0 && "y"`, "a;b"},
	{"two\nlines", "a --> b", "#1 {x}", "%%{init}%%"},
	{"direction LR", "[[choice]]", "<br>", "&amp;"},
}

func FuzzDotLabels(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, state, event, guard, action string) {
		g, opts, ok := fuzzDiagram(t, state, event, guard, action)
		if !ok {
			t.Skip("the machine does not build")
		}
		checkDot(t, renderDot(t, g, opts), g, opts)
	})
}

func FuzzMermaidLabels(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, state, event, guard, action string) {
		g, opts, ok := fuzzDiagram(t, state, event, guard, action)
		if !ok {
			t.Skip("the machine does not build")
		}
		checkMermaid(t, renderMermaid(t, g, opts), g, opts)
	})
}
