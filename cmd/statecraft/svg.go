//go:build !nosvg

package main

import "github.com/statecraft/statecraft/cmd/statecraft/internal/svg"

// renderSVG draws dot as SVG with go-graphviz (see package svg). It is
// set in package main so that only the binary links Graphviz; the nosvg
// build tag, which "make demo" uses, leaves it out.
var renderSVG = svg.Render
