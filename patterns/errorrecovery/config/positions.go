package config

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// place is where a setting is in the file: its key and its value.
type place struct {
	key, value *token.Position
}

// index maps each setting's dotted path ("retry.max_attempts",
// "secondary[1]") to its place, so that a problem found after decoding can
// be reported at its line.
type index map[string]place

func newIndex(body ast.Node) index {
	ix := index{}
	ix.walk("", body)
	return ix
}

func (ix index) walk(path string, n ast.Node) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			ix.pair(path, mv)
		}
	case *ast.MappingValueNode:
		ix.pair(path, n)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := path + "[" + strconv.Itoa(i) + "]"
			ix[p] = place{value: position(v)}
			ix.walk(p, v)
		}
	case *ast.AnchorNode:
		ix.walk(path, n.Value)
	case *ast.TagNode:
		ix.walk(path, n.Value)
	}
}

func (ix index) pair(path string, mv *ast.MappingValueNode) {
	tk := mv.Key.GetToken()
	if tk == nil {
		return
	}
	p := join(path, tk.Value)
	ix[p] = place{key: tk.Position, value: position(mv.Value)}
	ix.walk(p, mv.Value)
}

func position(n ast.Node) *token.Position {
	if n == nil {
		return nil
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Position
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// has reports whether the file sets path.
func (ix index) has(path string) bool {
	_, ok := ix[path]
	return ok
}

// at returns the line and column of path's value (or key), or of the
// nearest enclosing setting the file has; zeros when there is none.
func (ix index) at(path string) (line, col int) {
	if pl, ok := ix[path]; ok {
		pos := pl.value
		if pos == nil || pos.Line == 0 {
			pos = pl.key
		}
		if pos != nil {
			return pos.Line, pos.Column
		}
	}
	if path == "" {
		return 0, 0
	}
	return ix.at(parent(path))
}

// pathAt returns the path of the setting whose key or value starts at
// pos, or "".
func (ix index) pathAt(pos *token.Position) string {
	if pos == nil {
		return ""
	}
	best := ""
	for p, pl := range ix {
		for _, q := range []*token.Position{pl.key, pl.value} {
			// Prefer the longest path: a value that is itself a mapping
			// starts where its first key does.
			if q != nil && q.Line == pos.Line && q.Column == pos.Column && len(p) > len(best) {
				best = p
			}
		}
	}
	return best
}

// parent returns the path enclosing path: "retry" for
// "retry.max_attempts", "secondary" for "secondary[1]", "" at the top.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// keysOf returns the keys the file may use in the mapping at path (the
// top level for ""), or nil when path is not a mapping of the schema.
func keysOf(path string) []string {
	t := reflect.TypeFor[fileConfig]()
	for path != "" {
		first, rest, _ := strings.Cut(path, ".")
		f, ok := fieldByKey(t, first)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		path = rest
	}
	var keys []string
	for f := range t.Fields() {
		if k := yamlKey(f); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keyOfField returns the key of the Go field name in the section whose
// struct is t, or "".
func keyOfField(t reflect.Type, name string) string {
	if f, ok := t.FieldByName(name); ok {
		return yamlKey(f)
	}
	return ""
}

func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "-" {
		return ""
	}
	return k
}
