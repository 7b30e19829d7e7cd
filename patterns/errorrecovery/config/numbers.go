package config

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// intPaths are the paths of the settings that take an integer
// ("retry.max_attempts", "health_window"), from the schema.
var intPaths = intKeys(reflect.TypeFor[fileConfig](), "")

func intKeys(t reflect.Type, prefix string) []string {
	var paths []string
	for f := range t.Fields() {
		k := yamlKey(f)
		if k == "" || f.Type.Kind() != reflect.Pointer {
			continue
		}
		switch e := f.Type.Elem(); e.Kind() {
		case reflect.Int:
			paths = append(paths, join(prefix, k))
		case reflect.Struct:
			paths = append(paths, intKeys(e, join(prefix, k))...)
		}
	}
	return paths
}

// integers records an *IntegerError for each setting that takes an
// integer and that the file gives a number that is not one: the YAML
// decoder would truncate 2.9 to 2, and wrap 1e19 or 2^64 around to a
// negative number, without a word.
func (p *parsing) integers() {
	for _, path := range intPaths {
		if err := checkInteger(p.ix.node(path)); err != nil {
			p.add(path, err)
		}
	}
}

// maxExact is the largest float64 below which every integer is exact.
const maxExact = 1 << 53

// checkInteger returns an *IntegerError if n is a number that does not fit
// an int exactly, and nil for anything else (a value that is not a number
// is left for the decoder to refuse). The library reads 1e19 and integers
// beyond 64 bits as strings, and decodes them into an int all the same.
func checkInteger(n ast.Node) error {
	var text string
	for text == "" {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.IntegerNode:
			text = v.Token.Value
		case *ast.FloatNode:
			text = v.Token.Value
		case *ast.StringNode:
			text = v.Value
		case *ast.InfinityNode:
			return &IntegerError{Value: v.Token.Value, OutOfRange: true}
		case *ast.NanNode:
			return &IntegerError{Value: v.Token.Value}
		default:
			return nil
		}
	}
	digits := strings.ReplaceAll(text, "_", "")
	_, err := strconv.ParseInt(digits, 0, 64)
	if err == nil {
		return nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return &IntegerError{Value: text, OutOfRange: true}
	}
	f, err := strconv.ParseFloat(digits, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return &IntegerError{Value: text, OutOfRange: true}
	case err != nil:
		return nil // not a number: the decoder refuses it, as "want an integer"
	case math.IsNaN(f):
		return &IntegerError{Value: text}
	case math.Abs(f) > maxExact:
		return &IntegerError{Value: text, OutOfRange: true}
	case f != math.Trunc(f):
		return &IntegerError{Value: text}
	}
	return nil
}
