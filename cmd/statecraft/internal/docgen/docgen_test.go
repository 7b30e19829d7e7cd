package docgen

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocsAreUpToDate fails when a committed diagram in docs/diagrams, or
// a generated region of a guide in docs/, differs from what "make docs"
// would write from the current code.
func TestDocsAreUpToDate(t *testing.T) {
	root, err := Root(".")
	require.NoError(t, err)
	problems, err := Check(root)
	require.NoError(t, err, "(run make docs)")
	for _, p := range problems {
		t.Error(p)
	}
}

// fakeSVG stands in for go-graphviz, which this package's tests do not
// load.
func fakeSVG(dot []byte) ([]byte, error) {
	return append([]byte("<?xml version=\"1.0\"?>\n<svg><!--\n"), append(dot, "--></svg>\n"...)...), nil
}

// copyTree copies the files under src (relative to the module's root)
// into the same place under dst.
func copyTree(t *testing.T, root, dst, src string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(root, src), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
}

// sandbox returns a copy of the module's docs and snippets in a temporary
// directory, brought up to date with the fake renderer.
func sandbox(t *testing.T) string {
	t.Helper()
	root, err := Root(".")
	require.NoError(t, err)
	dir := t.TempDir()
	copyTree(t, root, dir, "docs")
	copyTree(t, root, dir, filepath.FromSlash(snippetsDir))
	if _, err := Write(dir, fakeSVG, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

func wantProblem(t *testing.T, dir, mention string) {
	t.Helper()
	problems, err := Check(dir)
	require.NoError(t, err)
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), mention) || !strings.Contains(problems[0].Error(), "make docs") {
		t.Fatalf("Check: %v; want one problem naming %s and make docs", problems, mention)
	}
}

func edit(t *testing.T, dir, rel string, f func(string) string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(f(string(b))), 0o644))
}

func TestWriteIsIdempotent(t *testing.T) {
	dir := sandbox(t)
	if problems, err := Check(dir); err != nil || len(problems) > 0 {
		t.Fatalf("Check after Write: %v, %v", problems, err)
	}
	wrote, err := Write(dir, func([]byte) ([]byte, error) {
		t.Error("an SVG whose stamp matches its dot was rendered again")
		return nil, nil
	}, false)
	if err != nil || len(wrote) > 0 {
		t.Errorf("second Write wrote %v, %v; want nothing", wrote, err)
	}
}

// replace returns an edit that replaces the first old in a file by new.
func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func TestCheckNamesTheFileOutOfDate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rel     string
		edit    func(string) string
		mention string
	}{
		{"hand-edited dot", "docs/diagrams/retry.dot", replace("Backoff", "Pause"), "docs/diagrams/retry.dot is out of date"},
		{"hand-edited Mermaid", "docs/diagrams/circuit-breaker.mmd", replace("stateDiagram-v2", "stateDiagram-v2\n%% note"), "docs/diagrams/circuit-breaker.mmd is out of date"},
		{"SVG of another dot", "docs/diagrams/bulkhead.svg", replace("sha256 ", "sha256 0"), "docs/diagrams/bulkhead.svg was not rendered from the current bulkhead.dot"},
		{"region edited", "docs/retry.md", replace("stateDiagram-v2", "stateDiagram"), "docs/retry.md is out of date"},
		{"snippet edited", "docs/testing.md", replace("BlockUntilWaiters(t.Context(), 1)", "BlockUntilWaiters(t.Context(), 2)"), "docs/testing.md is out of date"},
		{"snippet source changed", snippetsDir + "/retry.go", replace("MaxAttempts = 4", "MaxAttempts = 5"), "docs/retry.md is out of date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := sandbox(t)
			edit(t, dir, tc.rel, tc.edit)
			wantProblem(t, dir, tc.mention)
			if _, err := Write(dir, fakeSVG, false); err != nil {
				t.Fatal(err)
			}
			if problems, err := Check(dir); err != nil || len(problems) > 0 {
				t.Errorf("after Write: %v, %v", problems, err)
			}
		})
	}
}

func TestCheckReportsAStrayFile(t *testing.T) {
	dir := sandbox(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docs/diagrams/retry.png"), nil, 0o644))
	wantProblem(t, dir, "docs/diagrams/retry.png is not made by make docs")
}

func TestCheckReportsAMissingFile(t *testing.T) {
	dir := sandbox(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "docs/diagrams/saga.svg")))
	wantProblem(t, dir, "docs/diagrams/saga.svg is missing")
}

func TestGenerateRefusesAGuideWithoutItsDiagram(t *testing.T) {
	dir := sandbox(t)
	edit(t, dir, "docs/bulkhead.md", func(s string) string {
		return strings.ReplaceAll(s, "<!-- diagram:bulkhead ", "<!-- (removed) ")
	})
	_, err := Generate(dir)
	if err == nil || !strings.Contains(err.Error(), "docs/bulkhead.md: no region diagram:bulkhead") {
		t.Fatalf("Generate: %v", err)
	}
}

func TestRewriteReplacesOnlyInsideMarkers(t *testing.T) {
	regions := map[string][]byte{"diagram:a": []byte("A\n"), "snippet:b": []byte("B1\nB2\n")}
	in := "intro\n<!-- diagram:a begin -->\nold\nold\n<!-- diagram:a end -->\nmiddle <!-- diagram:a begin --> inline is text\n" +
		"  <!-- snippet:b begin -->\n<!-- snippet:b end -->\nend, no newline"
	want := "intro\n<!-- diagram:a begin -->\nA\n<!-- diagram:a end -->\nmiddle <!-- diagram:a begin --> inline is text\n" +
		"  <!-- snippet:b begin -->\nB1\nB2\n<!-- snippet:b end -->\nend, no newline"
	out, names, err := rewrite("g.md", []byte(in), regions)
	require.NoError(t, err)
	assert.Equal(t, want, string(out))
	if !slices.Equal(names, []string{"diagram:a", "snippet:b"}) {
		t.Errorf("regions %v", names)
	}
	if again, _, _ := rewrite("g.md", out, regions); !bytes.Equal(again, out) {
		t.Error("rewriting twice changed the text")
	}
}

func TestRewriteRefusesBadMarkers(t *testing.T) {
	regions := map[string][]byte{"diagram:a": nil, "diagram:b": nil}
	for _, tc := range []struct{ in, want string }{
		{"<!-- diagram:a begin -->\n", "g.md:1: region diagram:a has no end marker"},
		{"<!-- diagram:a end -->\n", "g.md:1: end of diagram:a"},
		{"<!-- diagram:a begin -->\n<!-- diagram:b begin -->\n", "g.md:2: diagram:b begins inside diagram:a"},
		{"<!-- diagram:c begin -->\n<!-- diagram:c end -->\n", "g.md:1: unknown region diagram:c"},
		{"<!-- diagram:a begin -->\n<!-- diagram:a end -->\n<!-- diagram:a begin -->\n<!-- diagram:a end -->\n", "g.md:3: region diagram:a appears twice"},
	} {
		_, _, err := rewrite("g.md", []byte(tc.in), regions)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q…", tc.in, err, tc.want)
		}
	}
}

func TestSnippetsLoseTheirCommonIndentation(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\nfunc f() {\n\t// snippet:x begin\n\tif true {\n\t\tprintln()\n\t}\n\n\t// snippet:x end\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644))
	got, err := readSnippets(dir)
	require.NoError(t, err)
	if want := "```go\nif true {\n\tprintln()\n}\n```\n"; string(got["x"]) != want {
		t.Errorf("got %q, want %q", got["x"], want)
	}
}

func TestStampSurvivesTheRoundTrip(t *testing.T) {
	svg := withStamp([]byte("<?xml?>\n<!-- Title -->\n<svg>\n</svg>\n"), []byte("digraph {}"))
	if stampOf(svg) != stamp([]byte("digraph {}")) || !bytes.Contains(svg, []byte("-->\n<svg>")) {
		t.Errorf("stamped SVG:\n%s", svg)
	}
	if stampOf([]byte("<svg/>")) != "" {
		t.Error("an unstamped SVG has a stamp")
	}
}
