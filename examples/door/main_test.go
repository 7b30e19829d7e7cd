package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/graph/formats/dot"
)

func TestNewDoorBuilds(t *testing.T) {
	def, err := NewDoor()
	require.NoError(t, err, "NewDoor")
	if got := def.Initial(); got != Closed {
		t.Errorf("initial: got %v, want %v", got, Closed)
	}
	if got := def.Finals(); len(got) != 1 || got[0] != Demolished {
		t.Errorf("finals: got %v, want [%v]", got, Demolished)
	}
	if got, want := len(def.Transitions()), 7; got != want {
		t.Errorf("transitions: got %d, want %d", got, want)
	}
}

func TestRunPrintsDotThatParses(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out), "run")
	f, err := dot.ParseString(out.String())
	require.NoError(t, err, "output does not parse as dot:\n%s", out.String())
	if len(f.Graphs) != 1 || !f.Graphs[0].Directed {
		t.Fatalf("got %d graphs, want one directed graph", len(f.Graphs))
	}
}

func TestRunListsStatesAndTransitions(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out), "run")
	for _, want := range []string{
		`// machine "door": 4 states, 7 transitions`,
		"//   Closed     initial, accepts: [open lock demolish]",
		"//   Opened     normal, entry: chime, accepts: [close]",
		"//   Demolished final",
		"//   Closed -> Opened: open / count",
		"//   Opened -> Closed: after 30s",
		"//   Closed -> Locked: lock [has key]",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("output lacks the line %q:\n%s", want, out.String())
		}
	}
}

func TestRunRendersWithGraphvizWithoutWarnings(t *testing.T) {
	path, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz dot not installed")
	}
	var out bytes.Buffer
	require.NoError(t, run(&out), "run")
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin = &out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil || stderr.Len() > 0 {
		t.Fatalf("dot -Tsvg: %v; stderr: %s", err, stderr.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunReportsWriteError(t *testing.T) {
	require.Error(t, run(failingWriter{}), "run to a failing writer: got nil error")
}
