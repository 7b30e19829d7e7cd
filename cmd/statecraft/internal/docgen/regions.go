package docgen

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

func beginMarker(region string) string { return "<!-- " + region + " begin -->" }
func endMarker(region string) string   { return "<!-- " + region + " end -->" }

// parseMarker reports the region and whether line (without its newline) is
// a begin or end marker: "<!-- KIND:NAME begin -->" or "… end -->".
func parseMarker(line string) (region string, begin, ok bool) {
	s, found := strings.CutPrefix(strings.TrimSpace(line), "<!-- ")
	if !found {
		return "", false, false
	}
	if s, found = strings.CutSuffix(s, " -->"); !found {
		return "", false, false
	}
	region, which, found := strings.Cut(s, " ")
	if !found || !strings.Contains(region, ":") || strings.ContainsAny(region, " \t") {
		return "", false, false
	}
	kind, _, _ := strings.Cut(region, ":")
	if kind != "diagram" && kind != "snippet" {
		return "", false, false
	}
	switch which {
	case "begin":
		return region, true, true
	case "end":
		return region, false, true
	}
	return "", false, false
}

// rewrite replaces the inside of every marked region of text (the guide
// at rel) with its content from regions, and returns the new text and the
// regions it holds, in order. A region with no content, an end without a
// begin, a begin without an end, or a region opened twice is an error
// naming the guide and the line.
func rewrite(rel string, text []byte, regions map[string][]byte) ([]byte, []string, error) {
	var out bytes.Buffer
	var names []string
	open := "" // the region being replaced, or ""
	openLine := 0
	lines := bytes.SplitAfter(text, []byte("\n"))
	for i, l := range lines {
		region, begin, ok := parseMarker(strings.TrimRight(string(l), "\r\n"))
		switch {
		case !ok:
			if open == "" {
				out.Write(l)
			}
		case begin && open != "":
			return nil, nil, fmt.Errorf("%s:%d: %s begins inside %s (line %d), which has no end marker before it", rel, i+1, region, open, openLine)
		case begin:
			content, known := regions[region]
			if !known {
				return nil, nil, fmt.Errorf("%s:%d: unknown region %s (diagrams: docgen.Diagrams; snippets: %s)", rel, i+1, region, snippetsDir)
			}
			if slices.Contains(names, region) {
				return nil, nil, fmt.Errorf("%s:%d: region %s appears twice in the guide", rel, i+1, region)
			}
			open, openLine = region, i+1
			names = append(names, region)
			out.Write(l)
			if !bytes.HasSuffix(l, []byte("\n")) {
				out.WriteByte('\n')
			}
			out.Write(content)
		case region != open:
			return nil, nil, fmt.Errorf("%s:%d: end of %s, but the open region is %q", rel, i+1, region, open)
		default:
			open = ""
			out.Write(l)
		}
	}
	if open != "" {
		return nil, nil, fmt.Errorf("%s:%d: region %s has no end marker %s", rel, openLine, open, endMarker(open))
	}
	return out.Bytes(), names, nil
}

// readSnippets returns the snippets of the Go files in dir (tests
// included): for each "// snippet:NAME begin" line, the lines up to
// "// snippet:NAME end", without their common indentation, in a ```go
// block. Each file must parse, and a name must be used once.
func readSnippets(dir string) (map[string][]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	snippets := make(map[string][]byte)
	fset := token.NewFileSet()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution); err != nil {
			return nil, err
		}
		rel := path.Join(snippetsDir, filepath.Base(f))
		name, start := "", 0
		var body []string
		for i, l := range strings.Split(string(src), "\n") {
			t := strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(t, "// snippet:") && strings.HasSuffix(t, " begin"):
				if name != "" {
					return nil, fmt.Errorf("%s:%d: snippet begins inside snippet %q (line %d)", rel, i+1, name, start)
				}
				name, start, body = strings.TrimSuffix(strings.TrimPrefix(t, "// snippet:"), " begin"), i+1, nil
				if _, dup := snippets[name]; dup {
					return nil, fmt.Errorf("%s:%d: snippet %q is declared twice", rel, i+1, name)
				}
			case strings.HasPrefix(t, "// snippet:") && strings.HasSuffix(t, " end"):
				if end := strings.TrimSuffix(strings.TrimPrefix(t, "// snippet:"), " end"); end != name {
					return nil, fmt.Errorf("%s:%d: end of snippet %q, but the open snippet is %q", rel, i+1, end, name)
				}
				snippets[name] = goBlock(body)
				name = ""
			case name != "":
				body = append(body, l)
			}
		}
		if name != "" {
			return nil, fmt.Errorf("%s:%d: snippet %q has no end", rel, start, name)
		}
	}
	return snippets, nil
}

// goBlock returns lines without their common leading tabs and without
// blank lines at either end, in a ```go block, with tabs kept for the
// indentation left (gofmt's).
func goBlock(lines []string) []byte {
	blank := func(l string) bool { return strings.TrimSpace(l) == "" }
	for len(lines) > 0 && blank(lines[0]) {
		lines = lines[1:]
	}
	for len(lines) > 0 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	var b bytes.Buffer
	b.WriteString("```go\n")
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			b.WriteByte('\n')
			continue
		}
		b.WriteString(l[indent:])
		b.WriteByte('\n')
	}
	b.WriteString("```\n")
	return b.Bytes()
}
