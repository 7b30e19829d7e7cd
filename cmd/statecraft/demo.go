package main

import (
	"fmt"
	"io"
)

const demoAbout = `demo prints the sample door machine as a Graphviz dot diagram: four states
(Closed is initial, Demolished is final), a guarded lock, an action when it
opens, and a delayed transition that closes it after 30s.

Draw it with Graphviz:

  statecraft demo | dot -Tsvg > door.svg`

// runDemo implements "statecraft demo".
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", demoAbout)
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	return write(stdout, stderr, withNewline(sampleDoor().Dot()))
}
