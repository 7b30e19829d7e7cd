// Package docgen generates the parts of docs/ that are drawn from the code:
// a diagram of each recovery strategy in docs/diagrams (dot, Mermaid and
// SVG), the Mermaid block of each diagram inside its guide, and the Go
// snippets of the guides, taken from the compiled files of package
// snippets. "make docs" runs it (go run ./cmd/statecraft/internal/docgen/run);
// TestDocsAreUpToDate fails when a committed file or region differs from
// what it would write.
//
// The diagrams are drawn by the statecraft command's own render command
// (cli.Main with "render"), so docs/diagrams shows exactly what
// "statecraft render" prints. A strategy with no machine of its own
// (fallback) is drawn as the per-call machine of a workflow configured with
// that strategy alone, from a config file kept beside its diagram.
//
// # Regions
//
// A guide marks a generated region with a pair of HTML comments, each on a
// line of its own:
//
//	<!-- diagram:retry begin -->
//	…
//	<!-- diagram:retry end -->
//
// Between them, "diagram:NAME" gets the Mermaid text of diagram NAME in a
// ```mermaid block (GitHub draws it) and links to its files;
// "snippet:NAME" gets the lines between "// snippet:NAME begin" and
// "// snippet:NAME end" in a file of package snippets, without their
// common indentation, in a ```go block. Everything outside the markers is
// left as it is, byte for byte.
//
// # SVG
//
// SVG is rendered with go-graphviz, as "statecraft render --format svg"
// does, and stamped with the SHA-256 of the dot text it was rendered from.
// An SVG whose stamp matches the current dot is not rendered again (unless
// forced), so "make docs" leaves it alone, and the test checks it by its
// stamp alone, without loading Graphviz: its WebAssembly start-up costs a
// second, and ten under the race detector.
package docgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/cli"
)

// Paths relative to the module's root, with forward slashes.
const (
	docsDir     = "docs"
	diagramsDir = "docs/diagrams"
	snippetsDir = "cmd/statecraft/internal/docgen/snippets"
)

// A Diagram is one machine drawn into docs/diagrams and into a guide.
type Diagram struct {
	// Name is the stem of its files in docs/diagrams and the NAME of its
	// diagram:NAME region.
	Name string
	// Guide is the guide that must hold its region, relative to docs/.
	Guide string
	// Machine is the built-in machine "statecraft render" draws, or "" when
	// Config is set.
	Machine string
	// Config is a workflow config file, relative to the module's root,
	// drawn with "statecraft render -f".
	Config string
	// About says what the diagram shows, in a sentence for the guide.
	About string
}

// Diagrams returns the diagrams "make docs" draws, one per strategy.
func Diagrams() []Diagram {
	return []Diagram{
		{Name: "retry", Guide: "retry.md", Machine: "retry",
			About: "The per-call machine of `NewRetry` with `DefaultRetryConfig`"},
		{Name: "deadline", Guide: "deadline.md", Machine: "deadline",
			About: "The per-call machine of `NewDeadline` with `DefaultDeadlineConfig`"},
		{Name: "circuit-breaker", Guide: "circuit-breaker.md", Machine: "breaker",
			About: "`breaker.Definition()`, the shared machine every `breaker.Breaker` runs"},
		{Name: "bulkhead", Guide: "bulkhead.md", Machine: "bulkhead",
			About: "`bulkhead.Definition()`, the shared machine every `bulkhead.Bulkhead` runs"},
		{Name: "adaptive", Guide: "adaptive.md", Machine: "adaptive",
			About: "`adaptive.Definition()`, the shared machine every `adaptive.Limiter` runs"},
		{Name: "perkey", Guide: "perkey.md", Machine: "perkey",
			About: "A circuit breaker per host, as `perkey.Diagram` draws the machine each key of a registry gets (`perkey.DefaultConfig()`)"},
		{Name: "ratelimit", Guide: "ratelimit.md", Machine: "ratelimit",
			About: "`ratelimit.Definition()`, the shared machine every `ratelimit.Limiter` runs"},
		{Name: "budget", Guide: "budget.md", Machine: "budget",
			About: "`budget.Definition()`, the shared machine every `budget.Budget` runs"},
		{Name: "hedge", Guide: "hedge.md", Machine: "hedge",
			About: "The per-call machine of a workflow with retry, a circuit breaker and HEDGE (up to two hedges 100ms apart), with the breaker each hedge asks as a cluster"},
		{Name: "fallback", Guide: "fallback.md", Config: "docs/diagrams/fallback.yaml",
			About: "The per-call machine of a workflow configured with FALLBACK alone (fallback has no machine of its own)"},
		{Name: "cache", Guide: "cache.md", Config: "docs/diagrams/cache.yaml",
			About: "The per-call machine of a workflow configured with CACHE alone, " +
				"with the cache entry machine (`cache.Definition()`), which decides what the cache answers, as a cluster"},
		{Name: "saga", Guide: "sagas.md", Machine: "saga",
			About: "The generated machine of a three-step order saga (COMPENSATE)"},
		{Name: "limits", Guide: "workflow.md", Config: "docs/diagrams/limits.yaml",
			About: "The per-call machine of a workflow with retry and its budget, a breaker, a rate limiter, an adaptive limit and a fallback " +
				"(`docs/diagrams/limits.yaml`), with the four shared machines as clusters"},
		{Name: "workflow", Guide: "workflow.md", Machine: "workflow",
			About: "The per-call machine of the demo's layered workflow (`testdata/configs/layered.yaml`), " +
				"with the breaker and bulkhead it uses as clusters"},
	}
}

// command returns the statecraft command line that draws d, as a reader
// would type it from the module's root.
func (d Diagram) command() string {
	if d.Config != "" {
		return "statecraft render -f " + d.Config
	}
	return "statecraft render " + d.Machine
}

// A File is the content a generated file, or a guide with its regions
// rewritten, should have.
type File struct {
	// Path is relative to the module's root, with forward slashes.
	Path    string
	Content []byte
}

// An SVG is a diagram's SVG file and the dot it must be rendered from.
type SVG struct {
	// Path is relative to the module's root, with forward slashes.
	Path string
	Dot  []byte
}

// Docs is everything docgen generates.
type Docs struct {
	// Files are the dot and Mermaid files of the diagrams and the guides
	// holding regions, in that order.
	Files []File
	// SVGs are the diagrams' SVG files.
	SVGs []SVG
}

// Generate computes the generated docs of the module at root from the
// current code: it draws each diagram through the render command, reads
// the snippets, and rewrites the regions of every guide in docs/. It
// writes nothing.
func Generate(root string) (*Docs, error) {
	var docs Docs
	regions := make(map[string][]byte)
	for _, d := range Diagrams() {
		dot, err := render(root, d, "dot")
		if err != nil {
			return nil, err
		}
		mmd, err := render(root, d, "mermaid")
		if err != nil {
			return nil, err
		}
		base := path.Join(diagramsDir, d.Name)
		docs.Files = append(docs.Files, File{base + ".dot", dot}, File{base + ".mmd", mmd})
		docs.SVGs = append(docs.SVGs, SVG{base + ".svg", dot})
		regions["diagram:"+d.Name] = diagramRegion(d, mmd)
	}
	snippets, err := readSnippets(filepath.Join(root, filepath.FromSlash(snippetsDir)))
	if err != nil {
		return nil, err
	}
	for name, text := range snippets {
		regions["snippet:"+name] = text
	}

	guides, err := filepath.Glob(filepath.Join(root, docsDir, "*.md"))
	if err != nil {
		return nil, err
	}
	slices.Sort(guides)
	used := make(map[string]string) // region → the first guide holding it
	for _, g := range guides {
		rel := path.Join(docsDir, filepath.Base(g))
		text, err := os.ReadFile(g)
		if err != nil {
			return nil, err
		}
		out, names, err := rewrite(rel, text, regions)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			continue
		}
		for _, n := range names {
			if _, ok := used[n]; !ok {
				used[n] = rel
			}
		}
		docs.Files = append(docs.Files, File{rel, out})
	}
	// Every diagram appears in its guide; every snippet somewhere.
	for _, d := range Diagrams() {
		if !slices.ContainsFunc(docs.Files, func(f File) bool {
			return f.Path == path.Join(docsDir, d.Guide) && bytes.Contains(f.Content, []byte(beginMarker("diagram:"+d.Name)))
		}) {
			return nil, fmt.Errorf("%s: no region %s for diagram %q: add the markers %s and %s",
				path.Join(docsDir, d.Guide), "diagram:"+d.Name, d.Name, beginMarker("diagram:"+d.Name), endMarker("diagram:"+d.Name))
		}
	}
	for name := range snippets {
		if _, ok := used["snippet:"+name]; !ok {
			return nil, fmt.Errorf("%s: snippet %q is in no guide: mark its place in docs/ with %s and %s, or remove it",
				snippetsDir, name, beginMarker("snippet:"+name), endMarker("snippet:"+name))
		}
	}
	return &docs, nil
}

// render draws d in format through the statecraft command line.
func render(root string, d Diagram, format string) ([]byte, error) {
	args := []string{"render", d.Machine}
	if d.Config != "" {
		args = []string{"render", "-f", filepath.Join(root, filepath.FromSlash(d.Config))}
	}
	args = append(args, "--format", format)
	var stdout, stderr bytes.Buffer
	if code := cli.Main(args, cli.Env{Stdout: &stdout, Stderr: &stderr}); code != cli.ExitOK {
		return nil, fmt.Errorf("diagram %s: %s --format %s: exit status %d: %s", d.Name, d.command(), format, code, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// diagramRegion is the text of a diagram:NAME region.
func diagramRegion(d Diagram, mmd []byte) []byte {
	var b bytes.Buffer
	b.WriteString("```mermaid\n")
	b.Write(mmd)
	if !bytes.HasSuffix(mmd, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString("```\n\n")
	fmt.Fprintf(&b, "%s. Drawn by `%s`; files: [SVG](diagrams/%s.svg), [dot](diagrams/%s.dot), [Mermaid](diagrams/%s.mmd).\n",
		d.About, d.command(), d.Name, d.Name, d.Name)
	return b.Bytes()
}

// Write brings the generated docs of the module at root up to date: it
// writes each file whose content differs, and renders each SVG with
// renderSVG unless its stamp says it was rendered from the current dot
// (always, with force). It returns the paths it wrote.
func Write(root string, renderSVG func(dot []byte) ([]byte, error), force bool) ([]string, error) {
	docs, err := Generate(root)
	if err != nil {
		return nil, err
	}
	var wrote []string
	write := func(rel string, content []byte) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, content) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
		wrote = append(wrote, rel)
		return nil
	}
	for _, f := range docs.Files {
		if err := write(f.Path, f.Content); err != nil {
			return wrote, err
		}
	}
	for _, s := range docs.SVGs {
		if !force {
			if old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(s.Path))); err == nil && stampOf(old) == stamp(s.Dot) {
				continue
			}
		}
		svg, err := renderSVG(s.Dot)
		if err != nil {
			return wrote, fmt.Errorf("%s: %w", s.Path, err)
		}
		if err := write(s.Path, withStamp(svg, s.Dot)); err != nil {
			return wrote, err
		}
	}
	return wrote, nil
}

// Check compares the committed docs of the module at root with what
// Generate makes, and returns one error per file out of date, each naming
// the file. An SVG is checked by its stamp. Files in docs/diagrams that
// make docs would not write, other than the configs it draws, are errors
// too.
func Check(root string) ([]error, error) {
	docs, err := Generate(root)
	if err != nil {
		return nil, err
	}
	var problems []error
	stale := func(rel, why string) {
		problems = append(problems, fmt.Errorf("%s %s: run make docs (and commit the result)", rel, why))
	}
	want := make(map[string]bool)
	for _, f := range docs.Files {
		want[f.Path] = true
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			stale(f.Path, "is missing")
		case err != nil:
			return nil, err
		case !bytes.Equal(got, f.Content):
			stale(f.Path, "is out of date"+firstDifference(got, f.Content))
		}
	}
	for _, s := range docs.SVGs {
		want[s.Path] = true
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(s.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			stale(s.Path, "is missing")
		case err != nil:
			return nil, err
		case stampOf(got) != stamp(s.Dot):
			stale(s.Path, "was not rendered from the current "+path.Base(strings.TrimSuffix(s.Path, ".svg"))+".dot")
		}
	}
	for _, d := range Diagrams() {
		if d.Config != "" {
			want[d.Config] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(diagramsDir)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if rel := path.Join(diagramsDir, e.Name()); !want[rel] {
			problems = append(problems, fmt.Errorf("%s is not made by make docs: remove it, or add its diagram to docgen.Diagrams", rel))
		}
	}
	return problems, nil
}

// firstDifference says where got first differs from want, as
// " (line N: have …, want …)".
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf(" (line %d: have %q, want %q)", i+1, gl, wl)
		}
	}
	return ""
}

// stampPrefix starts the comment that records which dot an SVG was
// rendered from.
const stampPrefix = "<!-- make docs: rendered from dot with sha256 "

// stamp is the hash of dot an SVG rendered from it carries.
func stamp(dot []byte) string {
	sum := sha256.Sum256(dot)
	return hex.EncodeToString(sum[:])
}

// withStamp inserts the stamp of dot into svg, on a line before the <svg
// element (after Graphviz's own comments), or first when there is none.
func withStamp(svg, dot []byte) []byte {
	line := []byte(stampPrefix + stamp(dot) + " -->\n")
	i := bytes.Index(svg, []byte("\n<svg"))
	if i < 0 {
		return append(line, svg...)
	}
	return slices.Concat(svg[:i+1], line, svg[i+1:])
}

// stampOf returns the hash an SVG's stamp records, or "".
func stampOf(svg []byte) string {
	i := bytes.Index(svg, []byte(stampPrefix))
	if i < 0 {
		return ""
	}
	rest := svg[i+len(stampPrefix):]
	if j := bytes.IndexByte(rest, ' '); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// Root returns the root of the module holding dir: the nearest directory
// at or above dir with a go.mod file.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in this directory or any above it")
		}
		dir = parent
	}
}
