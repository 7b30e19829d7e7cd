//go:build nosvg

package main

// renderSVG is nil in a build with the nosvg tag: it leaves go-graphviz
// out, for a build three times as fast from a cold cache and a binary half
// the size, and --format svg and --svg then say that SVG is not available.
var renderSVG func(dot []byte) ([]byte, error)
