// Package svg draws Graphviz dot as SVG with go-graphviz: Graphviz
// compiled to WebAssembly and run by a pure-Go runtime (wazero), so SVG
// output needs neither cgo nor a Graphviz installation. docs/cli.md says
// why it was chosen over running the dot program.
//
// Only programs that import this package link Graphviz: the statecraft
// binary (unless built with the nosvg tag, as "make demo" does) and the
// docs generator.
package svg

import (
	"bytes"
	"context"

	"github.com/goccy/go-graphviz"
)

// Render lays out the dot graph and draws it as SVG.
func Render(dot []byte) ([]byte, error) {
	ctx := context.Background()
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, err
	}
	defer gv.Close()
	g, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	var b bytes.Buffer
	if err := gv.Render(ctx, g, graphviz.SVG, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
