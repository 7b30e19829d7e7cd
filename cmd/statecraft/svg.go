//go:build !nosvg

package main

import (
	"bytes"
	"context"

	"github.com/goccy/go-graphviz"
)

// renderSVG lays out a dot graph and draws it as SVG with go-graphviz,
// Graphviz compiled to WebAssembly and run by a pure-Go runtime (wazero),
// so SVG output needs neither cgo nor a Graphviz installation. It lives in
// package main so that only the binary links it; docs/cli.md says why it
// was chosen over running the dot program, and what the nosvg build tag
// (which "make demo" uses) leaves out.
var renderSVG = func(dot []byte) ([]byte, error) {
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
