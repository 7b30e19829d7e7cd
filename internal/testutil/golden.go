package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/graph/formats/dot"
)

// CheckGolden compares got with the golden file at path, or rewrites the
// file when update is set (tests pass their -update flag).
func CheckGolden(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// CheckDot parses dot text with gonum's parser, and renders it with
// Graphviz's dot -Tsvg when the binary is installed (CI installs it),
// failing on a non-zero exit or anything written to stderr, warnings
// included.
func CheckDot(t *testing.T, text string) {
	t.Helper()
	if _, err := dot.ParseString(text); err != nil {
		t.Fatalf("dot does not parse: %v\n%s", err, text)
	}
	bin, err := exec.LookPath("dot")
	if err != nil {
		t.Log("Graphviz dot not installed: parsed but not rendered")
		return
	}
	cmd := exec.Command(bin, "-Tsvg")
	cmd.Stdin = bytes.NewBufferString(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 || !bytes.Contains(out, []byte("<svg")) {
		t.Fatalf("dot -Tsvg: %v\n%s", err, stderr.String())
	}
}
