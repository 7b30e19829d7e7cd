package main

import (
	"fmt"
	"io"
	"strings"
)

const renderAbout = `render prints the sample door machine as a diagram, in Graphviz dot or in
Mermaid (stateDiagram-v2). The output is deterministic, byte for byte.`

// formats maps each --format value to the exporter that produces it.
var formats = map[string]func() string{
	"dot":     func() string { return sampleDoor().Dot() },
	"mermaid": func() string { return sampleDoor().Mermaid() },
}

// runRender implements "statecraft render".
func runRender(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("render [--format dot|mermaid]", renderAbout)
	format := fs.String("format", "dot", "output `format`: dot or mermaid")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	export, ok := formats[strings.ToLower(*format)]
	if !ok {
		return usageError(fs, stderr, fmt.Sprintf("unknown format %q: want dot or mermaid", *format))
	}
	return write(stdout, stderr, withNewline(export()))
}
