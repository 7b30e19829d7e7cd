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
// be reported at its line. Its size is linear in the file's: each key and
// item is kept once, under its parent, and a path is looked up one segment
// at a time; a path's text is built only when a problem is reported.
type index struct {
	nodes    []node
	children map[edge]int // by parent and key or item: the node's index
}

// node is one key or sequence item of the file.
type node struct {
	edge  edge
	place place
	value ast.Node
}

// edge names a node from its parent: by key in a mapping, by position
// (item >= 0) in a sequence. parent is -1 at the top.
type edge struct {
	parent int
	key    string
	item   int
}

func newIndex(body ast.Node) *index {
	ix := &index{children: map[edge]int{}}
	ix.walk(-1, body)
	return ix
}

func (ix *index) add(e edge, pl place, value ast.Node) int {
	i := len(ix.nodes)
	ix.nodes = append(ix.nodes, node{edge: e, place: pl, value: value})
	ix.children[e] = i
	return i
}

func (ix *index) walk(parent int, n ast.Node) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			ix.pair(parent, mv)
		}
	case *ast.MappingValueNode:
		ix.pair(parent, n)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			ix.walk(ix.add(edge{parent: parent, item: i}, place{value: position(v)}, v), v)
		}
	case *ast.AnchorNode:
		ix.walk(parent, n.Value)
	case *ast.TagNode:
		ix.walk(parent, n.Value)
	}
}

func (ix *index) pair(parent int, mv *ast.MappingValueNode) {
	tk := mv.Key.GetToken()
	if tk == nil {
		return
	}
	i := ix.add(edge{parent: parent, key: tk.Value, item: -1}, place{key: tk.Position, value: position(mv.Value)}, mv.Value)
	ix.walk(i, mv.Value)
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

// find returns the node at path, or false when the file does not set it.
func (ix *index) find(path string) (int, bool) {
	if ix == nil || path == "" {
		return 0, false
	}
	at := -1
	for path != "" {
		e := edge{parent: at, item: -1}
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			n, err := strconv.Atoi(path[1:max(end, 1)])
			if end < 0 || err != nil {
				return 0, false
			}
			e.item, path = n, path[end+1:]
		} else {
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			e.key, path = path[:end], path[end:]
		}
		path = strings.TrimPrefix(path, ".")
		i, ok := ix.children[e]
		if !ok {
			return 0, false
		}
		at = i
	}
	return at, true
}

// has reports whether the file sets path.
func (ix *index) has(path string) bool {
	_, ok := ix.find(path)
	return ok
}

// node returns the value the file sets at path, or nil.
func (ix *index) node(path string) ast.Node {
	if i, ok := ix.find(path); ok {
		return ix.nodes[i].value
	}
	return nil
}

// at returns the line and column of path's value (or key), or of the
// nearest enclosing setting the file has; zeros when there is none.
func (ix *index) at(path string) (line, col int) {
	if i, ok := ix.find(path); ok {
		pl := ix.nodes[i].place
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
func (ix *index) pathAt(pos *token.Position) string {
	if ix == nil || pos == nil {
		return ""
	}
	best, bestDepth := -1, 0
	for i, n := range ix.nodes {
		for _, q := range []*token.Position{n.place.key, n.place.value} {
			// Prefer the deepest: a value that is itself a mapping starts
			// where its first key does.
			if q != nil && q.Line == pos.Line && q.Column == pos.Column {
				if d := ix.depth(i); d > bestDepth {
					best, bestDepth = i, d
				}
			}
		}
	}
	if best < 0 {
		return ""
	}
	return ix.path(best)
}

func (ix *index) depth(i int) int {
	d := 0
	for ; i >= 0; i = ix.nodes[i].edge.parent {
		d++
	}
	return d
}

// path returns the dotted path of node i.
func (ix *index) path(i int) string {
	var edges []edge
	for ; i >= 0; i = ix.nodes[i].edge.parent {
		edges = append(edges, ix.nodes[i].edge)
	}
	var b strings.Builder
	for j := len(edges) - 1; j >= 0; j-- {
		switch e := edges[j]; {
		case e.item >= 0:
			b.WriteString("[" + strconv.Itoa(e.item) + "]")
		case j < len(edges)-1:
			b.WriteString("." + e.key)
		default:
			b.WriteString(e.key)
		}
	}
	return b.String()
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
