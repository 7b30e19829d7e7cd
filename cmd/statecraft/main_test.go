package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph/formats/dot"
)

// runCmd runs the command line in-process and returns its exit status and
// what it wrote.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// wantSuccess fails the test unless the command exited 0 with nothing on
// stderr, and returns its stdout.
func wantSuccess(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCmd(t, args...)
	if code != exitOK || stderr != "" {
		t.Fatalf("statecraft %s: exit %d, stderr %q; want exit 0 and no stderr", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// checkDot fails the test unless src parses as one directed dot graph that
// mentions every state and event of the sample door.
func checkDot(t *testing.T, src string) {
	t.Helper()
	f, err := dot.ParseString(src)
	if err != nil {
		t.Fatalf("output does not parse as dot: %v\n%s", err, src)
	}
	if len(f.Graphs) != 1 || !f.Graphs[0].Directed {
		t.Fatalf("got %d graphs (first directed: %v), want one directed graph", len(f.Graphs), len(f.Graphs) > 0 && f.Graphs[0].Directed)
	}
	checkMentionsSample(t, src)
}

func checkMentionsSample(t *testing.T, src string) {
	t.Helper()
	for _, name := range append(doorStateNames[:], doorEventNames[:]...) {
		if !strings.Contains(src, name) {
			t.Errorf("output does not mention %q:\n%s", name, src)
		}
	}
	for _, name := range []string{"has key", "count", "after 30s"} {
		if !strings.Contains(src, name) {
			t.Errorf("output does not mention %q:\n%s", name, src)
		}
	}
}

// hasLine reports whether src has a line that is want, apart from spaces.
func hasLine(src, want string) bool {
	for line := range strings.Lines(src) {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
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

func TestDemoPrintsDotThatParses(t *testing.T) {
	checkDot(t, wantSuccess(t, "demo"))
}

func TestDemoOutputIsDeterministic(t *testing.T) {
	first := wantSuccess(t, "demo")
	for range 5 {
		if again := wantSuccess(t, "demo"); again != first {
			t.Fatalf("demo output changed between runs:\n%s\n---\n%s", first, again)
		}
	}
}

func TestDemoRendersWithGraphvizWithoutWarnings(t *testing.T) {
	path, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz dot not installed")
	}
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin = strings.NewReader(wantSuccess(t, "demo"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("dot -Tsvg: %v; stderr: %s", err, stderr.String())
	}
	if !bytes.Contains(out, []byte("<svg")) {
		t.Fatalf("dot -Tsvg printed no SVG:\n%s", out)
	}
}

func TestRenderFormats(t *testing.T) {
	dotOut := wantSuccess(t, "demo")
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"default is dot", []string{"render"}, func(t *testing.T, out string) {
			if out != dotOut {
				t.Errorf("render without --format differs from demo:\n%s", out)
			}
		}},
		{"dot", []string{"render", "--format", "dot"}, checkDot},
		{"dot with =", []string{"render", "--format=dot"}, checkDot},
		{"format is case-insensitive", []string{"render", "-format", "DOT"}, checkDot},
		{"mermaid", []string{"render", "--format", "mermaid"}, func(t *testing.T, out string) {
			if !hasLine(out, "stateDiagram-v2") {
				t.Errorf("mermaid output has no stateDiagram-v2 line:\n%s", out)
			}
			checkMentionsSample(t, out)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := wantSuccess(t, tt.args...)
			if !strings.HasSuffix(out, "\n") {
				t.Errorf("output does not end in a newline")
			}
			tt.check(t, out)
		})
	}
}

func TestHelpGoesToStdoutWithStatus0(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"--help"}, "usage: statecraft [--version] <command>"},
		{[]string{"-h"}, "render"},
		{[]string{"help"}, "usage: statecraft [--version] <command>"},
		{[]string{"demo", "--help"}, "usage: statecraft demo"},
		{[]string{"demo", "-h"}, "dot -Tsvg"},
		{[]string{"render", "--help"}, "-format format"},
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
		{[]string{"render", "--format", "svg"}, `unknown format "svg"`},
		{[]string{"render", "--format"}, "flag needs an argument: -format"},
		{[]string{"render", "dot"}, `unexpected argument "dot"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"help", "demo", "render"}, "at most one command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit status: got %d, want %d", code, exitUsage)
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
}

func TestVersionSetAtLinkTimeWins(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "v1.2.3"
	if out := wantSuccess(t, "--version"); out != "statecraft v1.2.3\n" {
		t.Errorf("--version: got %q, want %q", out, "statecraft v1.2.3\n")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFailureExitsWithStatus1(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"demo"}, failingWriter{}, &stderr); code != exitFail {
		t.Errorf("exit status: got %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr.String(), "disk full") {
		t.Errorf("stderr does not report the write error: %q", stderr.String())
	}
}
