package cli

import (
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
)

const demoAbout = `demo simulates the layered workflow of "statecraft render workflow" (the
config testdata/configs/layered.yaml, built in) through an hour of
traffic, one execution a second, against a dependency that answers in
about 40ms and fails 5% of the time, and is down from minute 20 to minute
30. It prints what happened: retries absorb the odd failure, the circuit
breaker opens during the outage and the fallback answers, and after it the
breaker's trial calls close it again. The workflow's own health describes
the dependency, not what the callers saw: it is unhealthy during the
outage while the fallback answers every call, and its alert fires once.

It is "statecraft simulate -f testdata/configs/layered.yaml --outage
20m-30m" with the defaults of simulate; the same seed prints the same
report. It takes well under a second.

With --serve ADDR it runs the same simulation slowly instead, in real
time (--speed simulated seconds a second: the hour in two minutes by
default), and serves a live inspector at ADDR (such as :8080): open it in
a browser and watch the breaker open during the outage and close after
it, the path of each execution through the workflow's machine, and the
counters. It prints no report, and runs until interrupted (Ctrl-C).
docs/inspector.md shows the pages.`

// demoOptions are the demo's: simulate's defaults and an outage from
// minute 20 to minute 30.
func demoOptions() sim.Options {
	o := defaultSimOptions()
	o.Dependency.Outages = []sim.Window{{Start: 20 * time.Minute, End: 30 * time.Minute}}
	return o
}

// runDemo implements "statecraft demo".
func runDemo(args []string, env *Env) int {
	fs := newFlagSet("demo [--seed S] [--quiet] [--dot FILE] [--svg FILE] [--serve ADDR [--speed N]]", demoAbout)
	def := demoOptions()
	sf := &simFlags{
		seed:  fs.Uint64("seed", def.Seed, "the `seed` of the random sources"),
		quiet: fs.Bool("quiet", false, "draw no progress bar"),
		dot:   fs.String("dot", "", "write the workflow's diagram with the run's visit counts to `file`, as Graphviz dot"),
		svg:   fs.String("svg", "", "write that diagram to `file` as SVG"),
	}
	serve := fs.String("serve", "", "run the simulation in real time and serve a live inspector at `address` (such as :8080) until interrupted")
	speed := fs.Float64("speed", defaultSpeed, "with --serve: the simulated `seconds` per second of real time")
	if code, ok := parseNoArgs(fs, args, env); !ok {
		return code
	}
	cfg, ok := parseConfig(env, "demo", demoConfigName, demoConfig)
	if !ok {
		return ExitFail
	}
	opts := def
	opts.Seed = *sf.seed
	opts.Buckets = 12
	if *serve != "" {
		if !(*speed > 0) || *sf.dot != "" || *sf.svg != "" {
			return usageError(fs, env, "--serve takes a positive --speed, and neither --dot nor --svg")
		}
		return serveDemo(env, cfg, opts, *serve, *speed)
	}
	return simulate(env, "demo", demoConfigName, cfg, opts, sf, demoNext)
}

// demoNext ends the demo's report with what to try next.
const demoNext = `
next (docs/cli.md has more):
  go run ./cmd/statecraft render workflow --format svg > workflow.svg   draw the workflow and its shared machines
  go run ./cmd/statecraft demo --svg run.svg                            the same run, each edge labelled with its count
  go run ./cmd/statecraft simulate -f testdata/configs/layered.yaml --outage 20m-30m --failure-rate 0.2
`
