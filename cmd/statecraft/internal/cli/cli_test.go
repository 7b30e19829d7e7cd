package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"gonum.org/v1/gonum/graph/formats/dot"
)

var update = flag.Bool("update", false, "rewrite the golden files in cmd/statecraft/testdata")

// Paths, made absolute before any test changes directory.
var (
	repoRoot  = mustAbs("../../../..")
	goldenDir = mustAbs("../../testdata")
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// fakeSVG stands in for the binary's renderer in-process.
func fakeSVG(dot []byte) ([]byte, error) {
	return append([]byte("<svg><!--\n"), append(dot, "--></svg>\n"...)...), nil
}

// runCmd runs the command line in-process, from the repository's root,
// and returns its exit status and what it wrote.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Chdir(repoRoot)
	var out, errOut bytes.Buffer
	code = Main(args, Env{Stdout: &out, Stderr: &errOut, SVG: fakeSVG})
	return code, out.String(), errOut.String()
}

// wantSuccess fails the test unless the command exited 0 with nothing on
// stderr, and returns its stdout.
func wantSuccess(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCmd(t, args...)
	require.Equal(t, ExitOK, code, "statecraft %s: exit status (stderr %q)", strings.Join(args, " "), stderr)
	require.Empty(t, stderr, "statecraft %s: stderr", strings.Join(args, " "))
	return stdout
}

// checkGolden compares got with the golden file name (under
// cmd/statecraft/testdata), or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write it")
	assert.Equal(t, string(want), got, "output differs from %s (go test -update rewrites it)", name)
}

// checkDot fails the test unless src parses as one directed dot graph.
func checkDot(t *testing.T, src string) {
	t.Helper()
	f, err := dot.ParseString(src)
	require.NoError(t, err, "output does not parse as dot:\n%s", src)
	require.Len(t, f.Graphs, 1, "graphs")
	require.True(t, f.Graphs[0].Directed, "want a directed graph")
}

func TestHelpGoesToStdoutWithStatus0(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"--help"}, "usage: statecraft [--version] <command>"},
		{[]string{"-h"}, "simulate"},
		{[]string{"help"}, "usage: statecraft [--version] <command>"},
		{[]string{"demo", "--help"}, "usage: statecraft demo"},
		{[]string{"simulate", "--help"}, "lognormal:50ms,0.5"},
		{[]string{"simulate", "-h"}, "-outage window"},
		{[]string{"validate", "--help"}, "usage: statecraft validate -f CONFIG"},
		{[]string{"render", "--help"}, "-format format"},
		{[]string{"render", "--help"}, "saga"},
		{[]string{"help", "render"}, "usage: statecraft render"},
		{[]string{"help", "help"}, "usage: statecraft help"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			assert.Contains(t, wantSuccess(t, tt.args...), tt.want, "stdout")
		})
	}
}

func TestUsageErrorsGoToStderrWithStatus2(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{nil, "no command given"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"demo", "--format", "dot"}, "flag provided but not defined: -format"},
		{[]string{"render", "--format", "png"}, `unknown format "png"`},
		{[]string{"render", "--format"}, "flag needs an argument: -format"},
		{[]string{"render", "bogus"}, `unknown machine "bogus"`},
		{[]string{"render", "retry", "breaker"}, `unexpected argument "breaker"`},
		{[]string{"render", "retry", "-f", "x.yaml"}, "not both"},
		{[]string{"render", "breaker", "--highlight", "Ajar"}, `--highlight "Ajar": circuit breaker has no such state (its states: Closed, Open, HalfOpen)`},
		{[]string{"render", "breaker", "--schedule"}, `"breaker" has none`},
		{[]string{"render", "retry", "--schedule", "--format", "mermaid"}, "--format does not apply"},
		{[]string{"render", "--schedule", "--highlight", "Attempt"}, "--highlight does not apply"},
		{[]string{"render", "retry", "--seed", "3"}, "--seed applies to --schedule only"},
		{[]string{"validate"}, "-f CONFIG is required"},
		{[]string{"validate", "-f", "a.yaml", "b.yaml"}, `unexpected argument "b.yaml"`},
		{[]string{"simulate"}, "-f CONFIG or --scenario NAME is required"},
		{[]string{"simulate", "--scenario", "bogus"}, `unknown scenario "bogus"`},
		{[]string{"simulate", "--scenario", "budget", "--executions", "5"}, "--scenario takes only --seed (and --quiet), not --executions"},
		{[]string{"simulate", "-f", "x.yaml", "--latency", "pareto:1s"}, `unknown distribution "pareto"`},
		{[]string{"simulate", "-f", "x.yaml", "--outage", "20m-10m"}, "want 0 <= START < END"},
		{[]string{"simulate", "-f", "x.yaml", "--executions", "0"}, "--executions 0: want 1 to"},
		{[]string{"simulate", "-f", "x.yaml", "--failure-rate", "2"}, "--failure-rate 2: want a probability"},
		{[]string{"simulate", "-f", "x.yaml", "--arrivals", "bursty"}, `--arrivals "bursty"`},
		{[]string{"simulate", "-f", "x.yaml", "--duration", "0s"}, "--duration 0s"},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"help", "demo", "render"}, "at most one command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			assert.Equal(t, ExitUsage, code, "exit status")
			assert.Empty(t, stdout, "stdout")
			assert.Contains(t, stderr, tt.want, "stderr")
		})
	}
}

func TestVersionPrintsVersion(t *testing.T) {
	out := wantSuccess(t, "--version")
	assert.Regexp(t, `(?s)^statecraft .+\n$`, out, "--version: want \"statecraft <version>\\n\"")
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"
	assert.Equal(t, "statecraft v1.2.3\n", wantSuccess(t, "--version"), "--version with Version set")
}

func TestRenderMatchesGoldens(t *testing.T) {
	for _, m := range machines() {
		for _, f := range []struct{ format, ext string }{{"dot", "dot"}, {"mermaid", "mmd"}} {
			t.Run(m.name+"."+f.ext, func(t *testing.T) {
				out := wantSuccess(t, "render", m.name, "--format", f.format)
				if f.format == "dot" {
					checkDot(t, out)
				} else {
					assert.Regexp(t, `(?m)^stateDiagram-v2`, out, "mermaid output has no stateDiagram-v2 line")
				}
				checkGolden(t, "render/"+m.name+"."+f.ext, out)
			})
		}
	}
	t.Run("config file", func(t *testing.T) {
		out := wantSuccess(t, "render", "-f", "testdata/configs/breaker-fallback.json")
		checkDot(t, out)
		checkGolden(t, "render/breaker-fallback.json.dot", out)
	})
	t.Run("highlight", func(t *testing.T) {
		out := wantSuccess(t, "render", "--highlight", "Open", "breaker") // flags after the name work too
		checkGolden(t, "render/breaker-highlight-open.dot", out)
	})
}

func TestRenderDefaultsToTheDemoWorkflow(t *testing.T) {
	def := wantSuccess(t, "render")
	assert.Equal(t, wantSuccess(t, "render", "workflow"), def, "render with no machine differs from render workflow")
	// The built-in config is testdata/configs/layered.yaml.
	assert.Equal(t, def, wantSuccess(t, "render", "-f", "testdata/configs/layered.yaml"),
		"render -f testdata/configs/layered.yaml differs from render workflow")
	for _, name := range []string{"circuit breaker", "bulkhead", "arrowhead=open"} {
		assert.Contains(t, def, name, "workflow diagram")
	}
}

func TestDemoConfigIsTheSampleLayeredConfig(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join(repoRoot, "testdata/configs/layered.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(sample), string(demoConfig),
		"cmd/statecraft/internal/cli/demo.yaml and testdata/configs/layered.yaml differ: keep them equal")
}

func TestRenderSVG(t *testing.T) {
	out := wantSuccess(t, "render", "breaker", "--format", "svg")
	assert.True(t, strings.HasPrefix(out, "<svg>"), "render --format svg did not go through the SVG renderer:\n%s", out)
	assert.Contains(t, out, "digraph", "render --format svg did not go through the SVG renderer")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"render", "breaker", "--format", "svg"}, Env{Stdout: &stdout, Stderr: &stderr})
	assert.Equal(t, ExitFail, code, "without a renderer: exit status")
	assert.Contains(t, stderr.String(), "SVG output is not available", "without a renderer: stderr")
}

func TestValidate(t *testing.T) {
	for _, f := range []string{"layered.yaml", "retry.yaml", "cache.yaml", "bulkhead.yaml", "breaker-fallback.json"} {
		t.Run(f, func(t *testing.T) {
			out := wantSuccess(t, "validate", "-f", "testdata/configs/"+f)
			assert.True(t, strings.HasPrefix(out, "testdata/configs/"+f+": ok ("), "stdout: %q", out)
		})
	}
	invalid, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/configs/invalid/*"))
	require.GreaterOrEqual(t, len(invalid), 5, "invalid configs found")
	for _, path := range invalid {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "validate", "-f", "testdata/configs/invalid/"+name)
			assert.Equal(t, ExitFail, code, "exit status")
			assert.Empty(t, stdout, "stdout")
			checkGolden(t, "validate/"+name+".txt", stderr)
		})
	}
	t.Run("an empty config is RETRY", func(t *testing.T) {
		assert.Equal(t, []string{"RETRY"}, strategyNames(errorrecovery.ErrorRecoveryConfig[any]{}), "strategies of an empty config")
	})
	t.Run("missing file", func(t *testing.T) {
		code, _, stderr := runCmd(t, "validate", "-f", "testdata/configs/nonexistent.yaml")
		assert.Equal(t, ExitFail, code, "exit status")
		assert.Contains(t, stderr, "no such file", "stderr")
	})
}

func TestSimulateMatchesGoldens(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"simulate/layered-seed7.txt", []string{"simulate", "-f", "testdata/configs/layered.yaml", "--seed", "7",
			"--executions", "1800", "--duration", "30m", "--outage", "10m-15m", "--timeline", "6"}},
		{"simulate/bulkhead-seed3.txt", []string{"simulate", "-f", "testdata/configs/bulkhead.yaml", "--seed", "3",
			"--executions", "3000", "--duration", "2m", "--latency", "exp:150ms", "--outage", "30s-45s", "--timeline", "4"}},
		{"simulate/cache-even.txt", []string{"simulate", "-f", "testdata/configs/cache.yaml", "--arrivals", "even",
			"--executions", "600", "--duration", "10m", "--latency", "uniform:10ms,30ms", "--failure-rate", "0.2", "--outage", "2m-4m", "--timeline", "0"}},
		{"demo.txt", []string{"demo"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out := wantSuccess(t, tt.args...)
			checkGolden(t, tt.golden, out)
			assert.Equal(t, out, wantSuccess(t, tt.args...), "a second run with the same seed printed something else")
		})
	}
}

func TestSimulateSeedsDiffer(t *testing.T) {
	a := wantSuccess(t, "demo", "--seed", "1")
	b := wantSuccess(t, "demo", "--seed", "2")
	assert.NotEqual(t, a, b, "seeds 1 and 2 printed the same report")
}

func TestSimulateWritesTheDiagramWithVisitCounts(t *testing.T) {
	dir := t.TempDir()
	dotFile, svgFile := filepath.Join(dir, "run.dot"), filepath.Join(dir, "run.svg")
	out := wantSuccess(t, "demo", "--dot", dotFile, "--svg", svgFile)
	assert.Contains(t, out, "wrote the diagram with the run's visit counts to "+dotFile, "report does not say where the diagram went")
	src, err := os.ReadFile(dotFile)
	require.NoError(t, err)
	checkDot(t, string(src))
	for _, want := range []string{"begin ×3600", "admitted ×3600", "after openTimeout ×"} {
		assert.Contains(t, string(src), want, "diagram")
	}
	svg, err := os.ReadFile(svgFile)
	if assert.NoError(t, err, "SVG file") {
		assert.True(t, bytes.Contains(svg, src), "SVG file is not the rendered diagram")
	}
}

func TestSimulateReportsConfigProblems(t *testing.T) {
	code, stdout, stderr := runCmd(t, "simulate", "-f", "testdata/configs/invalid/wrong-type.yaml")
	assert.Equal(t, ExitFail, code, "exit status")
	assert.Empty(t, stdout, "stdout")
	assert.Contains(t, stderr, "wrong-type.yaml:3:17: retry.max_attempts: want an integer", "stderr")
}

func TestNoProgressBarWhenStderrIsNotATerminal(t *testing.T) {
	_, _, stderr := runCmd(t, "demo")
	assert.Empty(t, stderr, "stderr")
}

func TestProgressBarRedrawsInPlaceAndClears(t *testing.T) {
	var b bytes.Buffer
	p := &progressBar{w: &b, total: 4}
	for i := 1; i <= 4; i++ {
		p.update(i)
	}
	p.clear()
	out := b.String()
	assert.True(t, strings.HasPrefix(out, "\r["), "bar output %q: want it to start with a carriage return", out)
	assert.Contains(t, out, "100%  4/4 executions", "bar output")
	assert.True(t, strings.HasSuffix(out, "\r\033[K"), "bar output %q: want it cleared at the end", out)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFailureExitsWithStatus1(t *testing.T) {
	for _, args := range [][]string{{"render", "door"}, {"demo"}, {"--version"}} {
		var stderr bytes.Buffer
		assert.Equal(t, ExitFail, Main(args, Env{Stdout: failingWriter{}, Stderr: &stderr}), "%v: exit status", args)
		assert.Contains(t, stderr.String(), "disk full", "%v: stderr does not report the write error", args)
	}
}

func TestSampleDoorUsesEachKindOfDeclaration(t *testing.T) {
	def := sampleDoor()
	assert.Equal(t, closed, def.Initial(), "initial state")
	assert.Equal(t, []doorState{demolished}, def.Finals(), "final states")
	var guarded, withAction, delayed bool
	for _, tr := range def.Transitions() {
		guarded = guarded || !tr.Guard.IsZero()
		withAction = withAction || len(tr.Actions) > 0
		delayed = delayed || tr.Delayed
	}
	assert.True(t, guarded, "sample lacks a guarded transition")
	assert.True(t, withAction, "sample lacks a transition with an action")
	assert.True(t, delayed, "sample lacks a delayed transition")
}

// BenchmarkDemo measures the README's first command in-process: an hour
// of simulated traffic (3600 executions) through the demo's layered
// workflow, report included.
func BenchmarkDemo(b *testing.B) {
	b.Chdir(repoRoot)
	b.ReportAllocs()
	for b.Loop() {
		var out, errOut bytes.Buffer
		code := Main([]string{"demo"}, Env{Stdout: &out, Stderr: &errOut, SVG: fakeSVG})
		require.Equal(b, ExitOK, code, "exit status: %s", errOut.String())
	}
}
