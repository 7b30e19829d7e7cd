package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if code != ExitOK || stderr != "" {
		t.Fatalf("statecraft %s: exit %d, stderr %q; want exit 0 and no stderr", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// checkGolden compares got with the golden file name (under
// cmd/statecraft/testdata), or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// checkDot fails the test unless src parses as one directed dot graph.
func checkDot(t *testing.T, src string) {
	t.Helper()
	f, err := dot.ParseString(src)
	if err != nil {
		t.Fatalf("output does not parse as dot: %v\n%s", err, src)
	}
	if len(f.Graphs) != 1 || !f.Graphs[0].Directed {
		t.Fatalf("got %d graphs, want one directed graph", len(f.Graphs))
	}
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
			out := wantSuccess(t, tt.args...)
			if !strings.Contains(out, tt.want) {
				t.Errorf("stdout does not contain %q:\n%s", tt.want, out)
			}
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
		{[]string{"simulate"}, "-f CONFIG is required"},
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
			if code != ExitUsage {
				t.Errorf("exit status: got %d, want %d", code, ExitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr)
			}
		})
	}
}

func TestVersionPrintsVersion(t *testing.T) {
	out := wantSuccess(t, "--version")
	if !strings.HasPrefix(out, "statecraft ") || !strings.HasSuffix(out, "\n") || len(out) <= len("statecraft \n") {
		t.Errorf("--version: got %q, want \"statecraft <version>\\n\"", out)
	}
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"
	if out := wantSuccess(t, "--version"); out != "statecraft v1.2.3\n" {
		t.Errorf("--version with Version set: got %q", out)
	}
}

func TestRenderMatchesGoldens(t *testing.T) {
	for _, m := range machines() {
		for _, f := range []struct{ format, ext string }{{"dot", "dot"}, {"mermaid", "mmd"}} {
			t.Run(m.name+"."+f.ext, func(t *testing.T) {
				out := wantSuccess(t, "render", m.name, "--format", f.format)
				if f.format == "dot" {
					checkDot(t, out)
				} else if !strings.HasPrefix(out, "stateDiagram-v2") && !strings.Contains(out, "\nstateDiagram-v2") {
					t.Errorf("mermaid output has no stateDiagram-v2 line:\n%s", out)
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
	if named := wantSuccess(t, "render", "workflow"); def != named {
		t.Error("render with no machine differs from render workflow")
	}
	// The built-in config is testdata/configs/layered.yaml.
	if file := wantSuccess(t, "render", "-f", "testdata/configs/layered.yaml"); file != def {
		t.Error("render -f testdata/configs/layered.yaml differs from render workflow")
	}
	for _, name := range []string{"circuit breaker", "bulkhead", "arrowhead=open"} {
		if !strings.Contains(def, name) {
			t.Errorf("workflow diagram does not mention %q", name)
		}
	}
}

func TestDemoConfigIsTheSampleLayeredConfig(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join(repoRoot, "testdata/configs/layered.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sample, demoConfig) {
		t.Error("cmd/statecraft/internal/cli/demo.yaml and testdata/configs/layered.yaml differ: keep them equal")
	}
}

func TestRenderSVG(t *testing.T) {
	out := wantSuccess(t, "render", "breaker", "--format", "svg")
	if !strings.HasPrefix(out, "<svg>") || !strings.Contains(out, "digraph") {
		t.Errorf("render --format svg did not go through the SVG renderer:\n%s", out)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"render", "breaker", "--format", "svg"}, Env{Stdout: &stdout, Stderr: &stderr}); code != ExitFail || !strings.Contains(stderr.String(), "SVG output is not available") {
		t.Errorf("without a renderer: exit %d, stderr %q; want 1 and a message", code, stderr.String())
	}
}

func TestValidate(t *testing.T) {
	for _, f := range []string{"layered.yaml", "retry.yaml", "cache.yaml", "bulkhead.yaml", "breaker-fallback.json"} {
		t.Run(f, func(t *testing.T) {
			out := wantSuccess(t, "validate", "-f", "testdata/configs/"+f)
			if !strings.HasPrefix(out, "testdata/configs/"+f+": ok (") {
				t.Errorf("stdout: %q", out)
			}
		})
	}
	invalid, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/configs/invalid/*"))
	if len(invalid) < 5 {
		t.Fatalf("found %d invalid configs", len(invalid))
	}
	for _, path := range invalid {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "validate", "-f", "testdata/configs/invalid/"+name)
			if code != ExitFail || stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit 1 and nothing on stdout", code, stdout)
			}
			checkGolden(t, "validate/"+name+".txt", stderr)
		})
	}
	t.Run("an empty config is RETRY", func(t *testing.T) {
		got := strategyNames(errorrecovery.ErrorRecoveryConfig[any]{})
		if len(got) != 1 || got[0] != "RETRY" {
			t.Errorf("strategies of an empty config: %q, want [RETRY]", got)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		code, _, stderr := runCmd(t, "validate", "-f", "testdata/configs/nonexistent.yaml")
		if code != ExitFail || !strings.Contains(stderr, "no such file") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
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
			if again := wantSuccess(t, tt.args...); again != out {
				t.Error("a second run with the same seed printed something else")
			}
		})
	}
}

func TestSimulateSeedsDiffer(t *testing.T) {
	a := wantSuccess(t, "demo", "--seed", "1")
	b := wantSuccess(t, "demo", "--seed", "2")
	if a == b {
		t.Error("seeds 1 and 2 printed the same report")
	}
}

func TestSimulateWritesTheDiagramWithVisitCounts(t *testing.T) {
	dir := t.TempDir()
	dotFile, svgFile := filepath.Join(dir, "run.dot"), filepath.Join(dir, "run.svg")
	out := wantSuccess(t, "demo", "--dot", dotFile, "--svg", svgFile)
	if !strings.Contains(out, "wrote the diagram with the run's visit counts to "+dotFile) {
		t.Errorf("report does not say where the diagram went:\n%s", out)
	}
	src, err := os.ReadFile(dotFile)
	if err != nil {
		t.Fatal(err)
	}
	checkDot(t, string(src))
	for _, want := range []string{"begin ×3600", "admitted ×3600", "after openTimeout ×"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("diagram lacks %q", want)
		}
	}
	svg, err := os.ReadFile(svgFile)
	if err != nil || !bytes.Contains(svg, src) {
		t.Errorf("SVG file is not the rendered diagram (%v)", err)
	}
}

func TestSimulateReportsConfigProblems(t *testing.T) {
	code, stdout, stderr := runCmd(t, "simulate", "-f", "testdata/configs/invalid/wrong-type.yaml")
	if code != ExitFail || stdout != "" || !strings.Contains(stderr, "wrong-type.yaml:3:17: retry.max_attempts: want an integer") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestNoProgressBarWhenStderrIsNotATerminal(t *testing.T) {
	_, _, stderr := runCmd(t, "demo")
	if stderr != "" {
		t.Errorf("stderr: %q, want nothing", stderr)
	}
}

func TestProgressBarRedrawsInPlaceAndClears(t *testing.T) {
	var b bytes.Buffer
	p := &progressBar{w: &b, total: 4}
	for i := 1; i <= 4; i++ {
		p.update(i)
	}
	p.clear()
	out := b.String()
	if !strings.HasPrefix(out, "\r[") || !strings.Contains(out, "100%  4/4 executions") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("bar output %q", out)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFailureExitsWithStatus1(t *testing.T) {
	for _, args := range [][]string{{"render", "door"}, {"demo"}, {"--version"}} {
		var stderr bytes.Buffer
		if code := Main(args, Env{Stdout: failingWriter{}, Stderr: &stderr}); code != ExitFail {
			t.Errorf("%v: exit status %d, want %d", args, code, ExitFail)
		}
		if !strings.Contains(stderr.String(), "disk full") {
			t.Errorf("%v: stderr does not report the write error: %q", args, stderr.String())
		}
	}
}

func TestSampleDoorUsesEachKindOfDeclaration(t *testing.T) {
	def := sampleDoor()
	if got := def.Initial(); got != closed {
		t.Errorf("initial state: got %v, want %v", got, closed)
	}
	if got := def.Finals(); len(got) != 1 || got[0] != demolished {
		t.Errorf("final states: got %v, want [%v]", got, demolished)
	}
	var guarded, withAction, delayed bool
	for _, tr := range def.Transitions() {
		guarded = guarded || !tr.Guard.IsZero()
		withAction = withAction || len(tr.Actions) > 0
		delayed = delayed || tr.Delayed
	}
	if !guarded || !withAction || !delayed {
		t.Errorf("sample lacks a declaration kind: guarded %v, with action %v, delayed %v", guarded, withAction, delayed)
	}
}

// BenchmarkDemo measures the README's first command in-process: an hour
// of simulated traffic (3600 executions) through the demo's layered
// workflow, report included.
func BenchmarkDemo(b *testing.B) {
	b.Chdir(repoRoot)
	b.ReportAllocs()
	for b.Loop() {
		var out, errOut bytes.Buffer
		if code := Main([]string{"demo"}, Env{Stdout: &out, Stderr: &errOut, SVG: fakeSVG}); code != ExitOK {
			b.Fatalf("exit %d: %s", code, errOut.String())
		}
	}
}
