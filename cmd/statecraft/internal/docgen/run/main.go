// Command run regenerates the generated parts of docs/ ("make docs"): the
// diagrams in docs/diagrams, and the diagram and snippet regions of the
// guides. Package docgen describes what it writes.
//
// Usage, from anywhere in the module:
//
//	go run ./cmd/statecraft/internal/docgen/run [-force-svg]
//
// It prints each file it wrote; a second run writes nothing.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/docgen"
	"github.com/statecraft/statecraft/cmd/statecraft/internal/svg"
)

func main() {
	force := flag.Bool("force-svg", false, "render every SVG again, even those whose stamp matches their dot")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: go run ./cmd/statecraft/internal/docgen/run [-force-svg]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*force); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(force bool) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := docgen.Root(wd)
	if err != nil {
		return err
	}
	wrote, err := docgen.Write(root, svg.Render, force)
	for _, p := range wrote {
		fmt.Println("wrote", p)
	}
	if err == nil && len(wrote) == 0 {
		fmt.Println("docs: up to date")
	}
	return err
}
