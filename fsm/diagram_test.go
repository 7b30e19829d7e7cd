package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/graph/formats/dot"
	"gonum.org/v1/gonum/graph/formats/dot/ast"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The diagram tests use string states and events, so labels are the values
// themselves unless a spec is Labelled.
type (
	dgBuilder = fsm.Builder[string, string, struct{}]
	dgMachine = states.Machine[string, string, struct{}]
)

func dgAction(name string) states.Action[string, string, struct{}] {
	return states.Do(name, func(context.Context, dgMachine) error { return nil })
}

func dgGuard(name string) transitions.Guard[string, string, struct{}] {
	return transitions.If(name, func(dgMachine) bool { return true })
}

func dgChooser(name string) states.Choose[string, string, struct{}] {
	return states.Chooser(name, func(context.Context, dgMachine) (string, error) { return "ok", nil })
}

func dgBuild(t testing.TB, b *dgBuilder) fsm.Graph {
	t.Helper()
	def, err := b.Build()
	require.NoError(t, err, "Build")
	return def.Graph()
}

// dgDoor is a door: closed, opened, locked with a key, demolished.
func dgDoor(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Opened", states.Normal).OnEntry(dgAction("chime"))
	b.State("Locked", states.Normal)
	b.State("Demolished", states.Final)
	b.On("Closed", "open", "Opened")
	b.On("Opened", "close", "Closed")
	b.On("Closed", "lock", "Locked").When(dgGuard("has key"))
	b.On("Locked", "unlock", "Closed")
	b.On("Closed", "demolish", "Demolished")
	return dgBuild(t, b)
}

// dgRetry has guards, actions, internal and delayed transitions, a choice
// state and an isolated state.
func dgRetry(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}]("retry").AllowUnreachable()
	b.State("Idle", states.Initial)
	b.Choice("Calling", dgChooser("classify")).OnEntry(dgAction("count attempt"))
	b.State("Backoff", states.Normal).OnEntry(dgAction("arm"), dgAction("log")).OnExit(dgAction("disarm"))
	b.State("Done", states.Final)
	b.State("Failed", states.Final)
	b.State("Orphan", states.Final)
	b.On("Idle", "start", "Calling").
		When(transitions.And(dgGuard("budget left"), transitions.Not(dgGuard("cancelled")))).
		Do(dgAction("reset"))
	b.On("Idle", "start", "Failed")
	b.After("Idle", 5*time.Second, "Failed")
	b.On("Calling", "ok", "Done")
	b.On("Calling", "retry", "Backoff")
	b.On("Calling", "fatal", "Failed")
	b.AfterFunc("Backoff", "backoff", func(dgMachine) time.Duration { return time.Second }, "Calling")
	b.Internal("Backoff", "tick").Do(dgAction("count"), dgAction("trace"))
	b.On("Backoff", "cancel", "Failed").When(transitions.Or(dgGuard("user"), dgGuard("deadline")))
	return dgBuild(t, b)
}

// dgFailing has an error state, so its diagram draws the moves the driver
// makes when an entry action or a choice function fails.
func dgFailing(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}]("order")
	b.State("Idle", states.Initial)
	b.Choice("Checking", dgChooser("in stock?"))
	b.State("Accepted", states.Normal).OnEntry(dgAction("reserve"))
	b.State("Shipped", states.Final).OnEntry(dgAction("notify"))
	b.State("Refused", states.Final)
	b.State("Broken", states.Normal).OnEntry(dgAction("page on-call"))
	b.ErrorState("Broken")
	b.On("Idle", "submit", "Checking")
	b.On("Checking", "yes", "Accepted")
	b.On("Checking", "no", "Refused")
	b.On("Accepted", "ship", "Shipped")
	b.On("Broken", "reset", "Idle")
	return dgBuild(t, b)
}

// wantFailureEdges lists the edges (from, to, label) a diagram draws into
// m's error state: one from each other state with an entry action ("entry
// failed") or a choice function ("choice failed"), in state order.
func wantFailureEdges(m fsm.Graph, pre string) []wantEdge {
	errState := slices.IndexFunc(m.States, func(s fsm.GraphState) bool { return s.Error })
	if errState < 0 {
		return nil
	}
	var out []wantEdge
	for i, s := range m.States {
		label := ""
		switch {
		case i == errState:
		case s.Kind == states.Choice:
			label = "choice failed"
		case len(s.Entry) > 0:
			label = "entry failed"
		}
		if label != "" {
			out = append(out, wantEdge{pre + "s" + strconv.Itoa(i), pre + "s" + strconv.Itoa(errState), label})
		}
	}
	return out
}

func TestGraphMarksTheErrorStateOnly(t *testing.T) {
	for _, c := range []struct {
		name string
		g    fsm.Graph
		want []string
	}{{"failing", dgFailing(t), []string{"Broken"}}, {"door", dgDoor(t), nil}} {
		var marked []string
		for _, s := range c.g.States {
			if s.Error {
				marked = append(marked, s.Label)
			}
		}
		assert.Equal(t, c.want, marked, "%s: error states", c.name)
	}
}

// dgAwkward has labels that need escaping in dot, in Mermaid or in both.
func dgAwkward(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}](`awkward "labels" \ #1`)
	b.State("q", states.Initial).Labelled(`say "hi"`).OnEntry(dgAction(`log "x" \ y`))
	b.State("bs", states.Normal).Labelled(`back\slash \N \n \\`)
	b.State("nl", states.Normal).Labelled("two\nlines\n")
	b.State("uni", states.Normal).Labelled("ünïcödé → 🚪 日本語 Größe")
	b.State("punct", states.Normal).Labelled("{braces} #hash semi;colon a --> b: c")
	b.Choice("kw", dgChooser("end; state")).Labelled("end")
	b.State("pad", states.Normal).Labelled("  padded\t")
	b.State("mm", states.Normal).Labelled("direction LR %%{init}%% [[choice]] <<fork>> [*]")
	b.State("html", states.Normal).Labelled("&amp; <b>bold</b> ﬂ°¶ß `tick` &#35;")
	b.State("empty", states.Normal).Labelled(" ")
	b.State("fin", states.Final).Labelled("state")
	b.On("q", `go "now"`, "bs").When(dgGuard(`x > 0 && "y"`)).Do(dgAction(`a\b`))
	b.On("bs", "a:b;c", "nl")
	b.On("nl", "#1 --> {x}", "uni")
	b.On("uni", `\n`, "punct")
	b.On("punct", "tab\there", "kw")
	b.On("kw", "ok", "pad")
	b.On("kw", "%%", "fin")
	b.On("pad", "Direction tb", "mm")
	b.On("mm", "<br>", "html")
	b.On("html", " ", "empty")
	b.On("empty", "", "fin")
	return dgBuild(t, b)
}

// dgBreaker is a circuit breaker, the shared machine of dgClustered.
func dgBreaker(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}]("breaker")
	b.State("Closed", states.Initial)
	b.State("Open", states.Normal)
	b.State("HalfOpen", states.Normal).Labelled("Half-open")
	b.On("Closed", "failure", "Open").When(dgGuard("5 in a row"))
	b.Internal("Closed", "failure").Do(dgAction("count"))
	b.After("Open", 30*time.Second, "HalfOpen")
	b.On("HalfOpen", "success", "Closed")
	b.On("HalfOpen", "failure", "Open")
	return dgBuild(t, b)
}

// dgBulkhead is a bulkhead, the second shared machine of dgClustered.
func dgBulkhead(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}]("bulkhead")
	b.State("Free", states.Initial)
	b.State("Full", states.Normal)
	b.On("Free", "acquire", "Full").When(dgGuard("last slot"))
	b.On("Full", "release", "Free")
	return dgBuild(t, b)
}

// dgCall is one call's machine, which uses a breaker and a bulkhead.
func dgCall(t testing.TB) fsm.Graph {
	b := fsm.New[string, string, struct{}]("call")
	b.State("Ready", states.Initial)
	b.State("Admitting", states.Normal)
	b.State("Calling", states.Normal)
	b.State("Done", states.Final)
	b.State("Rejected", states.Final)
	b.On("Ready", "go", "Admitting")
	b.On("Admitting", "admitted", "Calling")
	b.On("Admitting", "rejected", "Rejected")
	b.On("Calling", "returned", "Done")
	return dgBuild(t, b)
}

type diagramCase struct {
	name string
	g    fsm.Graph
	opts fsm.DiagramOptions
}

func diagramCases(t testing.TB) []diagramCase {
	return []diagramCase{
		{name: "door", g: dgDoor(t)},
		{name: "retry", g: dgRetry(t)},
		{name: "awkward", g: dgAwkward(t)},
		{name: "failing", g: dgFailing(t), opts: fsm.DiagramOptions{Highlight: "Broken"}},
		{name: "overlay", g: dgDoor(t), opts: fsm.DiagramOptions{
			Highlight: "Opened",
			Visits:    map[int]int{0: 3, 1: 2, 2: 1, 4: 0},
		}},
		{name: "clustered", g: dgCall(t), opts: fsm.DiagramOptions{
			Highlight: "Calling",
			Visits:    map[int]int{0: 1, 1: 1},
			Clusters: []fsm.Cluster{
				{
					Graph:     dgBreaker(t),
					Highlight: "Half-open",
					Visits:    map[int]int{0: 1, 1: 4, 2: 1},
					Uses: []fsm.Use{
						{From: "Admitting", To: "Closed", Label: "admit?"},
						{From: "Admitting", To: "Half-open"},
						{From: "Calling", To: "Closed", Label: "report: ok; or failure"},
					},
				},
				{
					Graph: dgBulkhead(t),
					Uses:  []fsm.Use{{From: "Admitting", To: "Free", Label: "acquire"}},
				},
			},
		}},
	}
}

func renderDot(t testing.TB, g fsm.Graph, opts fsm.DiagramOptions) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, fsm.WriteDot(&b, g, opts), "WriteDot")
	return b.String()
}

func renderMermaid(t testing.TB, g fsm.Graph, opts fsm.DiagramOptions) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, fsm.WriteMermaid(&b, g, opts), "WriteMermaid")
	return b.String()
}

var diagramFormats = []struct {
	ext    string
	render func(testing.TB, fsm.Graph, fsm.DiagramOptions) string
}{
	{"dot", renderDot},
	{"mmd", renderMermaid},
}

func TestDiagramsMatchGoldens(t *testing.T) {
	for _, c := range diagramCases(t) {
		for _, f := range diagramFormats {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				got := f.render(t, c.g, c.opts)
				path := filepath.Join("testdata", "golden", c.name+"."+f.ext)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
					return
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "(run go test -update to write it)")
				assert.Equal(t, string(want), got, "output differs from %s (run go test -update to accept it)", path)
			})
		}
	}
}

func TestDiagramOutputIsDeterministic(t *testing.T) {
	for _, c := range diagramCases(t) {
		for _, f := range diagramFormats {
			first := f.render(t, c.g, c.opts)
			// Visits are maps: iterate them in many random orders.
			for range 20 {
				require.Equal(t, first, f.render(t, c.g, c.opts), "%s.%s: two renderings differ", c.name, f.ext)
			}
		}
	}
}

func TestDotParsesAndLabelsRoundTrip(t *testing.T) {
	for _, c := range diagramCases(t) {
		t.Run(c.name, func(t *testing.T) {
			checkDot(t, renderDot(t, c.g, c.opts), c.g, c.opts)
		})
	}
}

func TestMermaidIsWellFormedAndLabelsRoundTrip(t *testing.T) {
	for _, c := range diagramCases(t) {
		t.Run(c.name, func(t *testing.T) {
			checkMermaid(t, renderMermaid(t, c.g, c.opts), c.g, c.opts)
		})
	}
}

// TestDotGoldensRenderWithGraphviz runs Graphviz on every dot golden and
// fails on a non-zero exit or any warning. CI installs Graphviz; where it
// is missing the check is logged as not run.
func TestDotGoldensRenderWithGraphviz(t *testing.T) {
	path, err := exec.LookPath("dot")
	if err != nil {
		t.Log("Graphviz dot is not on PATH: goldens were not rendered")
		return
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.dot"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dot goldens found (err %v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(path, "-Tsvg", file)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("dot -Tsvg %s: %v; stderr:\n%s", file, err, stderr.String())
			}
			if !bytes.Contains(stdout.Bytes(), []byte("<svg")) {
				t.Fatalf("dot -Tsvg %s wrote no SVG", file)
			}
		})
	}
}

func TestDefinitionDotAndMermaidDrawWithNoOptions(t *testing.T) {
	b := fsm.New[string, string, struct{}]("door")
	b.State("Closed", states.Initial)
	b.State("Gone", states.Final)
	b.On("Closed", "demolish", "Gone")
	def, err := b.Build()
	require.NoError(t, err)
	assert.Equal(t, renderDot(t, def.Graph(), fsm.DiagramOptions{}), def.Dot(), "Dot() differs from WriteDot with no options")
	assert.Equal(t, renderMermaid(t, def.Graph(), fsm.DiagramOptions{}), def.Mermaid(), "Mermaid() differs from WriteMermaid with no options")
}

func TestDotMarksKindsAndTransitions(t *testing.T) {
	retry := parseDotOrFail(t, renderDot(t, dgRetry(t), fsm.DiagramOptions{}))
	overlay := parseDotOrFail(t, renderDot(t, dgDoor(t), fsm.DiagramOptions{Highlight: "Opened", Visits: map[int]int{0: 3, 1: 1}}))
	clustered := parseDotOrFail(t, renderDot(t, dgCall(t), fsm.DiagramOptions{Clusters: []fsm.Cluster{
		{Graph: dgBreaker(t), Uses: []fsm.Use{{From: "Admitting", To: "Closed"}}},
	}}))
	failing := parseDotOrFail(t, renderDot(t, dgFailing(t), fsm.DiagramOptions{}))
	tests := []struct {
		name      string
		attrs     map[string]string
		key, want string
	}{
		{"initial mark is a point", retry.nodes["init"], "shape", "point"},
		{"final state is a double circle", retry.nodes["s3"], "shape", "doublecircle"},
		{"isolated final state is listed", retry.nodes["s5"], "label", "Orphan"},
		{"choice state is a diamond", retry.nodes["s1"], "shape", "diamond"},
		{"choice state shows its function", retry.nodes["s1"], "label", "Calling\nentry / count attempt\nchoose / classify"},
		{"entry and exit actions in the label", retry.nodes["s2"], "label", "Backoff\nentry / arm, log\nexit / disarm"},
		{"normal state has no shape of its own", retry.nodes["s0"], "shape", ""},
		{"initial arrow", retry.edge(t, "init", "s0"), "label", ""},
		{"guard and action on the edge", retry.edges[1].attrs, "label", "start [budget left && !cancelled] / reset"},
		{"delayed transition is dotted", retry.edges[3].attrs, "style", "dotted"},
		{"delayed transition is labelled after d", retry.edges[3].attrs, "label", "after 5s"},
		{"delay function is named", retry.edges[7].attrs, "label", "after backoff"},
		{"internal transition is dashed", retry.edges[8].attrs, "style", "dashed"},
		{"internal transition is a self-loop", map[string]string{"to": retry.edges[8].to}, "to", "s2"},
		{"external transition is solid", retry.edges[9].attrs, "style", ""},
		{"highlighted state is filled", overlay.nodes["s1"], "fillcolor", "#ffd54f"},
		{"highlighted state keeps its box", overlay.nodes["s1"], "style", "rounded,filled"},
		{"other states are not filled", overlay.nodes["s0"], "style", ""},
		{"visited edge shows its count", overlay.edges[1].attrs, "label", "open ×3"},
		{"most visited edge is thickest", overlay.edges[1].attrs, "penwidth", "4.0"},
		{"less visited edge is thinner", overlay.edges[2].attrs, "penwidth", "2.0"},
		{"unvisited edge is plain", overlay.edges[3].attrs, "penwidth", ""},
		{"cluster is titled with its machine", clustered.clusters["cluster_0"], "label", "breaker"},
		{"cluster states are prefixed", clustered.nodes["c0_s2"], "label", "Half-open"},
		{"uses edge is dashed", clustered.edge(t, "s1", "c0_s0"), "style", "dashed"},
		{"uses edge is labelled uses by default", clustered.edge(t, "s1", "c0_s0"), "label", "uses"},
		{"error state is red", failing.nodes["s5"], "color", "#c62828"},
		{"other states keep the default colour", failing.nodes["s2"], "color", ""},
		{"failure edge is dashed", failing.edge(t, "s2", "s5"), "style", "dashed"},
		{"failure edge is red", failing.edge(t, "s1", "s5"), "color", "#c62828"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.attrs[tt.key]; got != tt.want {
				t.Errorf("%s = %q, want %q (attributes %q)", tt.key, got, tt.want, tt.attrs)
			}
		})
	}
}

func TestMermaidMarksKindsAndTransitions(t *testing.T) {
	retry := parseMermaidOrFail(t, renderMermaid(t, dgRetry(t), fsm.DiagramOptions{}))
	overlay := parseMermaidOrFail(t, renderMermaid(t, dgDoor(t), fsm.DiagramOptions{Highlight: "Opened", Visits: map[int]int{0: 3}}))
	clustered := parseMermaidOrFail(t, renderMermaid(t, dgCall(t), fsm.DiagramOptions{Clusters: []fsm.Cluster{
		{Graph: dgBreaker(t), Highlight: "Open", Uses: []fsm.Use{{From: "Admitting", To: "Closed"}}},
	}}))
	tests := []struct {
		name      string
		got, want string
	}{
		{"initial mark", retry.edges[0].from + " --> " + retry.edges[0].to, "[*] --> s0"},
		{"final marks", fmt.Sprint(retry.finals()), "[s3 s4 s5]"},
		{"choice state", fmt.Sprint(retry.states["s1"].choice), "true"},
		{"choice label in a note", retry.states["s1"].label, "Calling\nentry / count attempt\nchoose / classify"},
		{"entry and exit actions", retry.states["s2"].label, "Backoff\nentry / arm, log\nexit / disarm"},
		{"isolated state is declared", retry.states["s5"].label, "Orphan"},
		{"guard and action", retry.edges[1].label, "start [budget left && !cancelled] / reset"},
		{"delayed transition", retry.edges[3].label, "after 5s"},
		{"internal transition", retry.edges[8].label, "tick / count, trace (internal)"},
		{"highlight", overlay.classes["s1"], "current"},
		{"visit count", overlay.edges[1].label, "open ×3"},
		{"cluster title", clustered.composites["c0"], "breaker"},
		{"cluster state", clustered.states["c0_s2"].label, "Half-open"},
		{"cluster state is inside its composite", clustered.states["c0_s2"].parent, "c0"},
		{"main state is outside", clustered.states["s1"].parent, ""},
		{"cluster highlight", clustered.classes["c0_s1"], "current"},
		{"uses edge", fmt.Sprint(clustered.edges[len(clustered.edges)-1]), "{s1 c0_s0 uses}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestDiagramOptionsThatDoNotFitAreErrors(t *testing.T) {
	door, breaker := dgDoor(t), dgBreaker(t)
	broken := dgDoor(t)
	broken.Edges = append([]fsm.GraphEdge(nil), broken.Edges...)
	broken.Edges[1].To = 9
	twoErrors := dgFailing(t)
	twoErrors.States = append([]fsm.GraphState(nil), twoErrors.States...)
	twoErrors.States[4].Error = true // Refused, before Broken
	tests := []struct {
		name      string
		g         fsm.Graph
		opts      fsm.DiagramOptions
		wantState string
	}{
		{"unknown highlight", door, fsm.DiagramOptions{Highlight: "Ajar"}, "Ajar"},
		{"visits for a transition out of range", door, fsm.DiagramOptions{Visits: map[int]int{5: 1}}, ""},
		{"visits for a negative transition", door, fsm.DiagramOptions{Visits: map[int]int{-1: 1}}, ""},
		{"negative visit count", door, fsm.DiagramOptions{Visits: map[int]int{0: -2}}, ""},
		{"edge to a state out of range", broken, fsm.DiagramOptions{}, ""},
		{"two error states", twoErrors, fsm.DiagramOptions{}, "Broken"},
		{"unknown cluster highlight", door, fsm.DiagramOptions{Clusters: []fsm.Cluster{{Graph: breaker, Highlight: "Ajar"}}}, "Ajar"},
		{"cluster visits out of range", door, fsm.DiagramOptions{Clusters: []fsm.Cluster{{Graph: breaker, Visits: map[int]int{99: 1}}}}, ""},
		{"use from an unknown state", door, fsm.DiagramOptions{Clusters: []fsm.Cluster{{Graph: breaker, Uses: []fsm.Use{{From: "Ajar", To: "Open"}}}}}, "Ajar"},
		{"use to an unknown state", door, fsm.DiagramOptions{Clusters: []fsm.Cluster{{Graph: breaker, Uses: []fsm.Use{{From: "Opened", To: "Ajar"}}}}}, "Ajar"},
	}
	for _, tt := range tests {
		for _, f := range []struct {
			name  string
			write func(w *strings.Builder, g fsm.Graph, opts fsm.DiagramOptions) error
		}{
			{"dot", func(w *strings.Builder, g fsm.Graph, o fsm.DiagramOptions) error { return fsm.WriteDot(w, g, o) }},
			{"mermaid", func(w *strings.Builder, g fsm.Graph, o fsm.DiagramOptions) error { return fsm.WriteMermaid(w, g, o) }},
		} {
			t.Run(tt.name+"/"+f.name, func(t *testing.T) {
				var out strings.Builder
				err := f.write(&out, tt.g, tt.opts)
				require.ErrorIs(t, err, fsm.ErrDiagram, "error")
				var ve *fsm.ValidationError
				if !errors.As(err, &ve) || ve.State != tt.wantState {
					t.Errorf("got %#v, want a *ValidationError for state %q", err, tt.wantState)
				}
				assert.Equal(t, 0, out.Len(), "bytes written before failing")
			})
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestDiagramWritersReturnTheWritersError(t *testing.T) {
	boom := errors.New("disk full")
	door := dgDoor(t)
	if err := fsm.WriteDot(failingWriter{boom}, door, fsm.DiagramOptions{}); !errors.Is(err, boom) {
		t.Errorf("WriteDot: got %v, want %v", err, boom)
	}
	if err := fsm.WriteMermaid(failingWriter{boom}, door, fsm.DiagramOptions{}); !errors.Is(err, boom) {
		t.Errorf("WriteMermaid: got %v, want %v", err, boom)
	}
}

// Expected content, computed from the graph independently of the writers.

// displayed returns s as a diagram shows it: invalid UTF-8 as U+FFFD, and
// control characters other than newline as their Unicode control pictures.
func displayed(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\n':
		case r < 0x20:
			r += 0x2400
		case r == 0x7f:
			r = 0x2421
		}
		b.WriteRune(r)
	}
	return b.String()
}

func wantStateText(s fsm.GraphState) string {
	text := s.Label
	if len(s.Entry) > 0 {
		text += "\nentry / " + strings.Join(s.Entry, ", ")
	}
	if len(s.Exit) > 0 {
		text += "\nexit / " + strings.Join(s.Exit, ", ")
	}
	if s.Kind == states.Choice && s.Choice != "" {
		text += "\nchoose / " + s.Choice
	}
	return displayed(text)
}

func wantEdgeText(e fsm.GraphEdge, mermaid bool, visits int) string {
	var parts []string
	if l := e.Label(); l != "" {
		parts = append(parts, l)
	}
	if mermaid && e.Internal {
		parts = append(parts, "(internal)")
	}
	if visits > 0 {
		parts = append(parts, "×"+strconv.Itoa(visits))
	}
	return displayed(strings.Join(parts, " "))
}

func useLabel(u fsm.Use) string {
	if u.Label == "" {
		return "uses"
	}
	return displayed(u.Label)
}

// wantEdge is an edge of a diagram by node IDs, as parsed or as wanted.
type wantEdge struct{ from, to, label string }

// wantTransitionEdges lists the edges a diagram draws for machine m's
// transitions (node ID prefix pre, visit counts visits), then its edges
// into the error state, in order; mermaid picks Mermaid's label text.
func wantTransitionEdges(m fsm.Graph, pre string, visits map[int]int, mermaid bool) []wantEdge {
	var out []wantEdge
	for i, e := range m.Edges {
		from, to := pre+"s"+strconv.Itoa(e.From), pre+"s"+strconv.Itoa(e.To)
		out = append(out, wantEdge{from, to, wantEdgeText(e, mermaid, visits[i])})
	}
	return append(out, wantFailureEdges(m, pre)...)
}

// wantUseEdges lists the edges a diagram draws from the main machine's
// states into the clusters they use, in order.
func wantUseEdges(g fsm.Graph, opts fsm.DiagramOptions) []wantEdge {
	var out []wantEdge
	for k, c := range opts.Clusters {
		for _, u := range c.Uses {
			from := "s" + strconv.Itoa(stateIndex(g, u.From))
			to := fmt.Sprintf("c%d_s%d", k, stateIndex(c.Graph, u.To))
			out = append(out, wantEdge{from, to, useLabel(u)})
		}
	}
	return out
}

// diagramMachines lists the main machine and the clusters with the node ID
// prefix of each.
func diagramMachines(g fsm.Graph, opts fsm.DiagramOptions) (gs []fsm.Graph, prefixes []string, visits []map[int]int) {
	gs, prefixes, visits = []fsm.Graph{g}, []string{""}, []map[int]int{opts.Visits}
	for i, c := range opts.Clusters {
		gs = append(gs, c.Graph)
		prefixes = append(prefixes, fmt.Sprintf("c%d_", i))
		visits = append(visits, c.Visits)
	}
	return gs, prefixes, visits
}

func stateIndex(g fsm.Graph, label string) int {
	for i, s := range g.States {
		if s.Label == label {
			return i
		}
	}
	return -1
}

// dot: parse with gonum, then check against the graph.

type dotEdge struct {
	from, to string
	attrs    map[string]string
}

type dotParsed struct {
	name     string
	nodes    map[string]map[string]string // node ID -> decoded attributes
	edges    []dotEdge                    // in the order written
	clusters map[string]map[string]string // subgraph ID -> decoded graph attributes
}

func (p *dotParsed) edge(t *testing.T, from, to string) map[string]string {
	t.Helper()
	for _, e := range p.edges {
		if e.from == from && e.to == to {
			return e.attrs
		}
	}
	t.Fatalf("no edge %s -> %s", from, to)
	return nil
}

func parseDotOrFail(t testing.TB, src string) *dotParsed {
	t.Helper()
	p, err := parseDot(src)
	require.NoError(t, err, src)
	return p
}

func parseDot(src string) (*dotParsed, error) {
	f, err := dot.ParseString(src)
	if err != nil {
		return nil, fmt.Errorf("dot does not parse: %w", err)
	}
	if len(f.Graphs) != 1 || !f.Graphs[0].Directed {
		return nil, fmt.Errorf("got %d graphs, want one digraph", len(f.Graphs))
	}
	g := f.Graphs[0]
	name, err := dotValue(g.ID)
	if err != nil {
		return nil, fmt.Errorf("graph ID: %w", err)
	}
	p := &dotParsed{name: name, nodes: map[string]map[string]string{}, clusters: map[string]map[string]string{}}
	if err := p.walk(g.Stmts, nil); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *dotParsed) walk(stmts []ast.Stmt, graphAttrs map[string]string) error {
	for _, s := range stmts {
		switch s := s.(type) {
		case *ast.NodeStmt:
			if _, dup := p.nodes[s.Node.ID]; dup {
				return fmt.Errorf("node %s declared twice", s.Node.ID)
			}
			attrs, err := dotAttrs(s.Attrs)
			if err != nil {
				return fmt.Errorf("node %s: %w", s.Node.ID, err)
			}
			p.nodes[s.Node.ID] = attrs
		case *ast.EdgeStmt:
			from, ok := s.From.(*ast.Node)
			to, ok2 := s.To.Vertex.(*ast.Node)
			if !ok || !ok2 || s.To.To != nil {
				return fmt.Errorf("edge %s is not one node to one node", s)
			}
			attrs, err := dotAttrs(s.Attrs)
			if err != nil {
				return fmt.Errorf("edge %s: %w", s, err)
			}
			p.edges = append(p.edges, dotEdge{from.ID, to.ID, attrs})
		case *ast.Subgraph:
			attrs := map[string]string{}
			p.clusters[s.ID] = attrs
			if err := p.walk(s.Stmts, attrs); err != nil {
				return err
			}
		case *ast.Attr:
			if graphAttrs != nil {
				v, err := dotValue(s.Val)
				if err != nil {
					return err
				}
				graphAttrs[s.Key] = v
			}
		case *ast.AttrStmt:
		default:
			return fmt.Errorf("unexpected statement %s", s)
		}
	}
	return nil
}

func dotAttrs(as []*ast.Attr) (map[string]string, error) {
	m := make(map[string]string, len(as))
	for _, a := range as {
		if _, dup := m[a.Key]; dup {
			return nil, fmt.Errorf("attribute %s set twice", a.Key)
		}
		v, err := dotValue(a.Val)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Key, err)
		}
		m[a.Key] = v
	}
	return m, nil
}

// dotValue decodes an ID as Graphviz reads a label: DOT unquoting (only \"
// is an escape, a backslash before a newline continues the line), then the
// escString rules (\\ is a backslash, \n \l \r end a line, a backslash
// before any other character is dropped), then HTML entities.
func dotValue(id string) (string, error) {
	if !strings.HasPrefix(id, `"`) {
		return id, nil
	}
	if len(id) < 2 || !strings.HasSuffix(id, `"`) {
		return "", fmt.Errorf("unterminated string %s", id)
	}
	raw := id[1 : len(id)-1]
	var unq strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == '"':
			unq.WriteByte('"')
			i++
		case c == '\\' && i+1 < len(raw) && raw[i+1] == '\n':
			i++
		case c == '\\' && i+1 < len(raw) && raw[i+1] == '\\':
			unq.WriteString(`\\`)
			i++
		case c == '"':
			return "", fmt.Errorf("unescaped quote in %s", id)
		default:
			unq.WriteByte(c)
		}
	}
	s := unq.String()
	var esc strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			esc.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n', 'l', 'r':
			esc.WriteByte('\n')
		case 'N', 'G', 'E', 'H', 'T', 'L':
			return "", fmt.Errorf("%s holds \\%c, which Graphviz replaces by a name", id, s[i])
		default:
			esc.WriteByte(s[i])
		}
	}
	return decodeEntities(esc.String(), false, map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'"})
}

var htmlEntityRE = regexp.MustCompile(`^(?:#([0-9]+|[xX][0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*));`)

// decodeEntities decodes, in one pass, the HTML entities in s: numeric
// ones and those named in named. An "&" that starts no entity stays as it
// is, unless strict is set and it is followed by "#" or a letter or digit:
// HTML reads some entities without their ";".
func decodeEntities(s string, strict bool, named map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		m := htmlEntityRE.FindStringSubmatch(s)
		switch {
		case m == nil && strict && s != "" && strings.ContainsAny(s[:1], "#0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"):
			return "", fmt.Errorf("&%.8s… may be read as an entity", s)
		case m == nil:
			b.WriteByte('&')
			continue
		case m[1] != "":
			digits, base := m[1], 10
			if digits[0] == 'x' || digits[0] == 'X' {
				digits, base = digits[1:], 16
			}
			n, err := strconv.ParseInt(digits, base, 32)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", fmt.Errorf("bad entity &%s", m[0])
			}
			b.WriteRune(rune(n))
		default:
			v, ok := named[m[2]]
			if !ok {
				return "", fmt.Errorf("unknown entity &%s", m[0])
			}
			b.WriteString(v)
		}
		s = s[len(m[0]):]
	}
}

// checkDot parses src with gonum's dot parser and checks that it draws g
// with opts: one node per state plus an initial mark per machine, one edge
// per transition plus the initial arrows and the uses edges, in order, and
// every label decoding back to the graph's.
func checkDot(t testing.TB, src string, g fsm.Graph, opts fsm.DiagramOptions) {
	t.Helper()
	p, err := parseDot(src)
	require.NoError(t, err, src)
	assert.Equal(t, displayed(g.Name), p.name, "graph name")
	gs, prefixes, visits := diagramMachines(g, opts)
	wantNodes := 0
	var want []wantEdge
	for k, m := range gs {
		pre := prefixes[k]
		if k > 0 {
			title := p.clusters[fmt.Sprintf("cluster_%d", k-1)]["label"]
			assert.Equal(t, displayed(m.Name), title, "cluster %d title", k-1)
		}
		hasInitial := false
		for i, s := range m.States {
			id := pre + "s" + strconv.Itoa(i)
			attrs, ok := p.nodes[id]
			if !ok {
				t.Errorf("state %q has no node %s", s.Label, id)
				continue
			}
			if got, want := attrs["label"], wantStateText(s); got != want {
				t.Errorf("node %s label: got %q, want %q", id, got, want)
			}
			if s.Kind == states.Initial {
				hasInitial = true
				want = append(want, wantEdge{pre + "init", id, ""})
			}
		}
		wantNodes += len(m.States)
		if hasInitial {
			wantNodes++
		}
		want = append(want, wantTransitionEdges(m, pre, visits[k], false)...)
	}
	want = append(want, wantUseEdges(g, opts)...)
	assert.Len(t, p.nodes, wantNodes, "nodes")
	require.Len(t, p.edges, len(want), "edges of\n%s", src)
	for i, e := range p.edges {
		if got := (wantEdge{e.from, e.to, e.attrs["label"]}); got != want[i] {
			t.Errorf("edge %d: got %q, want %q", i, got, want[i])
		}
		if _, ok := p.nodes[e.from]; !ok {
			t.Errorf("edge %d starts at undeclared node %s", i, e.from)
		}
		if _, ok := p.nodes[e.to]; !ok {
			t.Errorf("edge %d ends at undeclared node %s", i, e.to)
		}
	}
}

// Mermaid: a structural checker for the subset of stateDiagram-v2 the
// writer emits, with the lexical rules of Mermaid's grammar that matter
// for text, and a decoder for its entity codes.

type mmdState struct {
	label  string // decoded
	choice bool
	parent string // composite state ID, "" at top level
}

type mmdParsed struct {
	states     map[string]*mmdState
	order      []string
	edges      []wantEdge
	composites map[string]string // ID -> decoded title
	classes    map[string]string // state ID -> class
}

func (p *mmdParsed) finals() []string {
	var out []string
	for _, e := range p.edges {
		if e.to == "[*]" {
			out = append(out, e.from)
		}
	}
	return out
}

var (
	mmdID         = `[A-Za-z0-9_]+`
	mmdStateRE    = regexp.MustCompile(`^state "([^"]*)" as (` + mmdID + `)( \{)?$`)
	mmdChoiceRE   = regexp.MustCompile(`^state (` + mmdID + `) <<choice>>$`)
	mmdNoteRE     = regexp.MustCompile(`^note right of (` + mmdID + `) : (.*)$`)
	mmdEdgeRE     = regexp.MustCompile(`^(` + mmdID + `|\[\*\]) --> (` + mmdID + `|\[\*\])(?: : (.*))?$`)
	mmdClassDefRE = regexp.MustCompile(`^classDef (` + mmdID + `) [^;]+$`)
	mmdClassRE    = regexp.MustCompile(`^class (` + mmdID + `(?:,` + mmdID + `)*) (` + mmdID + `)$`)
	mmdEntityRE   = regexp.MustCompile(`#[A-Za-z0-9_]+;`)
)

func parseMermaidOrFail(t testing.TB, src string) *mmdParsed {
	t.Helper()
	p, err := parseMermaid(src)
	require.NoError(t, err, src)
	return p
}

func parseMermaid(src string) (*mmdParsed, error) {
	if !strings.HasSuffix(src, "\n") {
		return nil, errors.New("output does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	if lines[0] != "stateDiagram-v2" {
		return nil, fmt.Errorf("first line %q, want stateDiagram-v2", lines[0])
	}
	p := &mmdParsed{states: map[string]*mmdState{}, composites: map[string]string{}, classes: map[string]string{}}
	var stack []string // open composite states
	declare := func(id string, s *mmdState) error {
		if _, dup := p.states[id]; dup {
			return fmt.Errorf("state %s declared twice", id)
		}
		if _, dup := p.composites[id]; dup {
			return fmt.Errorf("state %s is also a composite", id)
		}
		p.states[id] = s
		p.order = append(p.order, id)
		return nil
	}
	for n, line := range lines[1:] {
		n += 2
		fail := func(format string, args ...any) (*mmdParsed, error) {
			return nil, fmt.Errorf("line %d %q: %s", n, line, fmt.Sprintf(format, args...))
		}
		indent := strings.Repeat("    ", len(stack)+1)
		body, ok := strings.CutPrefix(line, indent)
		if line == strings.Repeat("    ", len(stack))+"}" && len(stack) > 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		if !ok || strings.HasPrefix(body, " ") {
			return fail("want indent of %d spaces", len(indent))
		}
		parent := ""
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		switch {
		case body == "direction LR" && n == 2:
		case mmdStateRE.MatchString(body):
			m := mmdStateRE.FindStringSubmatch(body)
			label, err := mermaidDecode(m[1])
			if err != nil {
				return fail("%v", err)
			}
			if m[3] != "" {
				if _, dup := p.composites[m[2]]; dup || p.states[m[2]] != nil {
					return fail("composite %s declared twice", m[2])
				}
				p.composites[m[2]] = label
				stack = append(stack, m[2])
				continue
			}
			if err := declare(m[2], &mmdState{label: label, parent: parent}); err != nil {
				return fail("%v", err)
			}
		case mmdChoiceRE.MatchString(body):
			id := mmdChoiceRE.FindStringSubmatch(body)[1]
			if err := declare(id, &mmdState{choice: true, parent: parent}); err != nil {
				return fail("%v", err)
			}
		case mmdNoteRE.MatchString(body):
			m := mmdNoteRE.FindStringSubmatch(body)
			s := p.states[m[1]]
			if s == nil || !s.choice || s.label != "" {
				return fail("note on %s, which is not a choice state without a note", m[1])
			}
			label, err := mermaidDecode(m[2])
			if err != nil {
				return fail("%v", err)
			}
			s.label = label
		case mmdEdgeRE.MatchString(body):
			m := mmdEdgeRE.FindStringSubmatch(body)
			for _, id := range m[1:3] {
				if id != "[*]" && p.states[id] == nil {
					return fail("edge names undeclared state %s", id)
				}
			}
			if m[1] == "[*]" && m[2] == "[*]" {
				return fail("edge from [*] to [*]")
			}
			label := ""
			if strings.Contains(body, " : ") {
				var err error
				if label, err = mermaidDecode(m[3]); err != nil {
					return fail("%v", err)
				}
			}
			p.edges = append(p.edges, wantEdge{m[1], m[2], label})
		case mmdClassDefRE.MatchString(body) && parent == "":
		case mmdClassRE.MatchString(body) && parent == "":
			m := mmdClassRE.FindStringSubmatch(body)
			for id := range strings.SplitSeq(m[1], ",") {
				if p.states[id] == nil {
					return fail("class for undeclared state %s", id)
				}
				p.classes[id] = m[2]
			}
		default:
			return fail("not a statement the writer emits")
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("composite states %v are not closed", stack)
	}
	for id, s := range p.states {
		if s.choice && s.label == "" {
			return nil, fmt.Errorf("choice state %s has no note", id)
		}
	}
	return p, nil
}

// mermaidDecode checks that text is safe where the writer puts it (inside
// a state's quotes, after the colon of an edge or note) and decodes its
// entity codes and <br> line breaks.
func mermaidDecode(text string) (string, error) {
	if text == "" {
		return "", errors.New("empty text: Mermaid requires some")
	}
	if strings.TrimFunc(text, isJSSpace) != text {
		return "", fmt.Errorf("text %q has spaces at an end, which Mermaid trims", text)
	}
	bare := mmdEntityRE.ReplaceAllString(strings.ReplaceAll(text, "<br>", ""), "")
	if i := strings.IndexAny(bare, "\"#:;<>{}%\\`\n\r"); i >= 0 {
		return "", fmt.Errorf("text %q holds a raw %q", text, bare[i])
	}
	for _, bad := range []string{"[[", "direction", "ﬂ", "¶"} {
		if strings.Contains(strings.ToLower(text), bad) {
			return "", fmt.Errorf("text %q holds %q", text, bad)
		}
	}
	for _, r := range bare {
		if unicode.IsControl(r) && r < 0x80 {
			return "", fmt.Errorf("text %q holds control character %U", text, r)
		}
	}
	// Mermaid turns its codes into HTML entities (#35; into &#35;, #quot;
	// into &quot;), and the browser decodes those and any the text held.
	html := mmdEntityRE.ReplaceAllStringFunc(text, func(m string) string {
		if inner := m[1 : len(m)-1]; strings.Trim(inner, "0123456789") == "" {
			return "&#" + inner + ";"
		}
		return "&" + m[1:]
	})
	html = strings.ReplaceAll(html, "<br>", "\n")
	return decodeEntities(html, true, map[string]string{"quot": `"`, "amp": "&", "lt": "<", "gt": ">"})
}

func isJSSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// checkMermaid checks that src is a well-formed Mermaid state diagram of g
// with opts: every state declared once with its label, the initial and
// final marks, every transition in order with its label, the clusters as
// composite states, the uses edges and the highlight.
func checkMermaid(t testing.TB, src string, g fsm.Graph, opts fsm.DiagramOptions) {
	t.Helper()
	p, err := parseMermaid(src)
	require.NoError(t, err, src)
	gs, prefixes, visits := diagramMachines(g, opts)
	nStates := 0
	var want []wantEdge
	for k, m := range gs {
		pre, parent := prefixes[k], ""
		if k > 0 {
			parent = fmt.Sprintf("c%d", k-1)
			want := displayed(m.Name)
			if want == "" {
				want = " "
			}
			if got := p.composites[parent]; got != want {
				t.Errorf("composite %s title: got %q, want %q", parent, got, want)
			}
		}
		var finals []wantEdge
		for i, s := range m.States {
			id := pre + "s" + strconv.Itoa(i)
			ps := p.states[id]
			if ps == nil {
				t.Errorf("state %q is not declared as %s", s.Label, id)
				continue
			}
			wantLabel := wantStateText(s)
			if wantLabel == "" {
				wantLabel = " "
			}
			if ps.label != wantLabel || ps.choice != (s.Kind == states.Choice) || ps.parent != parent {
				t.Errorf("state %s: got %+v, want label %q, choice %v, in %q", id, *ps, wantLabel, s.Kind == states.Choice, parent)
			}
			switch s.Kind {
			case states.Initial:
				want = append(want, wantEdge{"[*]", id, ""})
			case states.Final:
				finals = append(finals, wantEdge{id, "[*]", ""})
			}
		}
		nStates += len(m.States)
		want = append(want, wantTransitionEdges(m, pre, visits[k], true)...)
		want = append(want, finals...)
	}
	want = append(want, wantUseEdges(g, opts)...)
	assert.Len(t, p.states, nStates, "states")
	require.Len(t, p.edges, len(want), "edges of\n%s", src)
	for i := range want {
		assert.Equal(t, want[i], p.edges[i], "edge %d", i)
	}
	wantClasses := map[string]string{}
	if opts.Highlight != "" {
		wantClasses["s"+strconv.Itoa(stateIndex(g, opts.Highlight))] = "current"
	}
	for k, c := range opts.Clusters {
		if c.Highlight != "" {
			wantClasses[fmt.Sprintf("c%d_s%d", k, stateIndex(c.Graph, c.Highlight))] = "current"
		}
	}
	if diff := cmp.Diff(wantClasses, p.classes, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
}
