package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/statecraft/statecraft/fsm"
)

func renderAbout() string {
	var b strings.Builder
	b.WriteString(`render draws a built-in machine, or the workflow a config file describes,
as Graphviz dot, Mermaid (stateDiagram-v2) or SVG. dot and Mermaid are
deterministic, byte for byte. SVG is laid out by the Graphviz library
built into statecraft (compiled to WebAssembly), so it needs no Graphviz
installed. A workflow is drawn with the shared machines it uses (breaker,
bulkhead, cache) as clusters joined by dashed "uses" edges.

machines:
`)
	for _, m := range machines() {
		fmt.Fprintf(&b, "  %-9s %s\n", m.name, m.about)
	}
	b.WriteString(`
With no machine and no -f, render draws "workflow".

--schedule prints, instead of a diagram, the delays the retry of "retry",
"workflow" or the config file waits before each retry when every attempt
fails: the formula's own values, capped, with the random formulas drawing
from --seed (the same seed prints the same delays).

examples:
  statecraft render breaker --highlight Open
  statecraft render -f testdata/configs/layered.yaml --format mermaid
  statecraft render workflow --format svg > workflow.svg
  statecraft render -f testdata/configs/retry.yaml --schedule --seed 7`)
	return b.String()
}

// runRender implements "statecraft render".
func runRender(args []string, env *Env) int {
	fs := newFlagSet("render [MACHINE | -f CONFIG] [--format dot|mermaid|svg] [--highlight STATE] [--schedule [--seed N]]", renderAbout())
	file := fs.String("f", "", "draw the workflow the config `file` (YAML or JSON) describes")
	format := fs.String("format", "dot", "output `format`: dot, mermaid or svg")
	highlight := fs.String("highlight", "", "fill the `state` with this label (of the main machine)")
	schedule := fs.Bool("schedule", false, "print the retry's backoff delays instead of a diagram")
	seed := fs.Uint64("seed", 1, "the `seed` the random backoffs draw from, with --schedule")
	if code, ok := parse(fs, interleave(fs, args), env); !ok {
		return code
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	name := ""
	switch {
	case fs.NArg() > 1:
		return usageError(fs, env, fmt.Sprintf("unexpected argument %q", fs.Arg(1)))
	case fs.NArg() == 1 && *file != "":
		return usageError(fs, env, "give a machine name or -f, not both")
	case fs.NArg() == 1:
		name = fs.Arg(0)
	case *file == "":
		name = "workflow"
	}
	if *schedule {
		if msg := scheduleUsage(name, explicit); msg != "" {
			return usageError(fs, env, msg)
		}
		return renderSchedule(env, name, *file, *seed)
	}
	if explicit["seed"] {
		return usageError(fs, env, "--seed applies to --schedule only")
	}
	f := strings.ToLower(*format)
	if f != "dot" && f != "mermaid" && f != "svg" {
		return usageError(fs, env, fmt.Sprintf("unknown format %q: want dot, mermaid or svg", *format))
	}

	var g fsm.Graph
	var opts fsm.DiagramOptions
	var err error
	if name != "" {
		m, ok := lookupMachine(name)
		if !ok {
			return usageError(fs, env, fmt.Sprintf("unknown machine %q: want one of %s", name, machineNames()))
		}
		g, opts, err = m.draw()
	} else {
		var data []byte
		if data, err = os.ReadFile(*file); err == nil {
			g, opts, err = workflowDiagram(*file, data)
		}
	}
	if err != nil {
		return fail(env, "render", err)
	}
	if *highlight != "" {
		labels := stateLabels(g)
		if !slices.Contains(labels, *highlight) {
			return usageError(fs, env, fmt.Sprintf("--highlight %q: %s has no such state (its states: %s)", *highlight, g.Name, strings.Join(labels, ", ")))
		}
		opts.Highlight = *highlight
	}
	out, err := drawGraph(env, g, opts, f)
	if err != nil {
		return fail(env, "render", err)
	}
	if _, err := env.Stdout.Write(out); err != nil {
		return fail(env, "render", err)
	}
	return ExitOK
}

// drawGraph writes g with opts in format: dot, mermaid or svg.
func drawGraph(env *Env, g fsm.Graph, opts fsm.DiagramOptions, format string) ([]byte, error) {
	var b bytes.Buffer
	if format == "mermaid" {
		err := fsm.WriteMermaid(&b, g, opts)
		return b.Bytes(), err
	}
	if err := fsm.WriteDot(&b, g, opts); err != nil {
		return nil, err
	}
	if format == "dot" {
		return b.Bytes(), nil
	}
	return renderSVG(env, b.Bytes())
}

// errNoSVG reports a build without an SVG renderer.
var errNoSVG = errors.New("SVG output is not available in this build; render dot and pipe it to Graphviz: dot -Tsvg")

func renderSVG(env *Env, dot []byte) ([]byte, error) {
	if env.SVG == nil {
		return nil, errNoSVG
	}
	svg, err := env.SVG(dot)
	if err != nil {
		return nil, fmt.Errorf("rendering SVG: %w", err)
	}
	return svg, nil
}

func stateLabels(g fsm.Graph) []string {
	labels := make([]string, len(g.States))
	for i, s := range g.States {
		labels[i] = s.Label
	}
	return labels
}

// interleave moves the flags in args before the positional arguments, so
// that "render breaker --format mermaid" reads as the user meant; the
// flag package stops at the first argument that is not a flag. A "--"
// ends the flags as usual.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(append(flags, a), append(rest, args[i+1:]...)...)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
