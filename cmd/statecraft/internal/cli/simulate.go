package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

const simulateAbout = `simulate runs many executions of the workflow a config file describes
against a simulated dependency, and prints what happened: outcomes, calls
per execution, latency in virtual time, the circuit breaker's states, and
how often executions entered each state of the per-call machine.

It is a discrete-event simulation on a manual clock: executions take turns
in one goroutine, and time jumps from one timer to the next, so an hour of
traffic takes well under a second and the same --seed prints the same
report, byte for byte. Latencies, backoffs, timeouts and the breaker's
open timeout all run on that clock.

The dependency: each call outside an outage takes a latency drawn from
--latency and fails with a 503 (error class status5xx) with probability
--failure-rate; a call that outlives its attempt's deadline ends with the
deadline (class timeout). During an --outage every call is refused at once
(class connection). --tail, --slowdown, --capacity, --hosts and
--host-outage give it a slow tail, windows of degraded latency, a number
of calls it serves at once, several hosts and a host that goes down;
--burst adds a spike of arrivals. docs/cli.md says how each works.

latency distributions (--latency):
  const:50ms            always 50ms (a bare 50ms means the same)
  uniform:10ms,100ms    uniform between 10ms and 100ms
  exp:50ms              exponential with mean 50ms
  lognormal:50ms,0.5    log-normal with median 50ms (e^mu) and sigma 0.5

A progress bar is drawn on standard error when it is a terminal, unless
--quiet.`

// runSimulate implements "statecraft simulate".
func runSimulate(args []string, env *Env) int {
	fs := newFlagSet("simulate -f CONFIG [flags] | simulate --scenario NAME [--seed S]", simulateAbout+"\n\nscenarios (--scenario), each a layer with and without it:\n"+strings.TrimSuffix(scenarioNames(), "\n"))
	file := fs.String("f", "", "the workflow config `file` (YAML or JSON; required without --scenario)")
	name := fs.String("scenario", "", "run the scenario `name` (see above): its workflow with one layer and without it, compared")
	sf := addSimFlags(fs, defaultSimOptions())
	if code, ok := parseNoArgs(fs, args, env); !ok {
		return code
	}
	if *name != "" {
		s, ok := findScenario(*name)
		if !ok {
			return usageError(fs, env, fmt.Sprintf("unknown scenario %q; the scenarios are:\n%s", *name, scenarioNames()))
		}
		var others []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "scenario" && f.Name != "seed" && f.Name != "quiet" {
				others = append(others, "--"+f.Name)
			}
		})
		if len(others) > 0 {
			return usageError(fs, env, fmt.Sprintf("--scenario takes only --seed (and --quiet), not %s: a scenario's last line is the simulate command line to change", strings.Join(others, ", ")))
		}
		return runScenario(env, s, *sf.seed)
	}
	if *file == "" {
		return usageError(fs, env, "-f CONFIG or --scenario NAME is required")
	}
	opts, err := sf.options()
	if err != nil {
		return usageError(fs, env, err.Error())
	}
	cfg, ok := readConfig(env, "simulate", *file)
	if !ok {
		return ExitFail
	}
	return simulate(env, "simulate", *file, cfg, opts, sf, "")
}

// defaultSimOptions are simulate's defaults: an hour of traffic at one
// execution a second against a dependency that answers in about 40ms and
// fails 5% of the time.
func defaultSimOptions() sim.Options {
	return sim.Options{
		Executions: 3600,
		Duration:   time.Hour,
		Seed:       1,
		Dependency: sim.Dependency{
			FailureRate: 0.05,
			Latency:     sim.Latency{Kind: sim.LogNormal, A: 40 * time.Millisecond, Sigma: 0.5},
		},
	}
}

// simFlags are the flags simulate and demo share.
type simFlags struct {
	executions  *int
	duration    *time.Duration
	arrivals    *string
	seed        *uint64
	failureRate *float64
	latency     *latencyFlag
	outages     *outageFlag
	bursts      *listFlag[sim.Burst]
	tail        *tailFlag
	slowdowns   *listFlag[sim.Slowdown]
	capacity    *int
	hosts       *int
	hostOutages *listFlag[sim.Window]
	timeline    *int
	quiet       *bool
	dot, svg    *string
}

// addSimFlags defines the simulation flags on fs, with defaults from def.
func addSimFlags(fs *flag.FlagSet, def sim.Options) *simFlags {
	sf := &simFlags{
		executions:  fs.Int("executions", def.Executions, "the `number` of executions (at most 10000000)"),
		duration:    fs.Duration("duration", def.Duration, "the virtual `time` over which executions arrive"),
		arrivals:    fs.String("arrivals", def.Arrivals.String(), "how arrivals are spread: poisson or even"),
		seed:        fs.Uint64("seed", def.Seed, "the `seed` of the random sources; the same seed prints the same report"),
		failureRate: fs.Float64("failure-rate", def.Dependency.FailureRate, "the `probability` that a call outside an outage fails with a 503"),
		latency:     &latencyFlag{def.Dependency.Latency},
		outages:     &outageFlag{},
		timeline:    fs.Int("timeline", 12, "the `number` of rows of the timeline by arrival time (0: none, at most 1000)"),
		quiet:       fs.Bool("quiet", false, "draw no progress bar"),
		dot:         fs.String("dot", "", "write the workflow's diagram with the run's visit counts to `file`, as Graphviz dot"),
		svg:         fs.String("svg", "", "write that diagram to `file` as SVG"),
	}
	fs.Var(sf.latency, "latency", "the `distribution` of a call's latency (see above)")
	fs.Var(sf.outages, "outage", "a `window` of virtual time, such as 10m-20m, in which every call is refused (repeatable)")
	sf.bursts = &listFlag[sim.Burst]{parse: sim.ParseBurst, items: def.Bursts}
	fs.Var(sf.bursts, "burst", "N more executions arriving evenly in the window `START-END:N`, such as 30s-31s:500 (repeatable)")
	sf.tail = &tailFlag{def.Dependency.Tail}
	fs.Var(sf.tail, "tail", "a slow tail `SHARE:LATENCY`: that share of the calls take that latency, such as 0.05:2s")
	sf.slowdowns = &listFlag[sim.Slowdown]{parse: sim.ParseSlowdown, items: def.Dependency.Slowdowns}
	fs.Var(sf.slowdowns, "slowdown", "calls starting in the window `START-END:xF` take F times their latency, such as 2m-4m:x5 (repeatable)")
	sf.capacity = fs.Int("capacity", def.Dependency.Capacity, "the `number` of calls the dependency serves at once at their latency; beyond it, latency grows with the calls in progress (0: no bound)")
	sf.hosts = fs.Int("hosts", max(def.Dependency.Hosts, 1), "the `number` of hosts of the dependency, each execution sent to one at random (at most 1000)")
	sf.hostOutages = &listFlag[sim.Window]{parse: sim.ParseWindow, items: def.Dependency.HostOutages}
	fs.Var(sf.hostOutages, "host-outage", "a `window` in which host h1 alone refuses every call (needs --hosts 2 or more; repeatable)")
	sf.outages.ws = append(sf.outages.ws, def.Dependency.Outages...)
	sf.outages.dflt = true
	return sf
}

// options checks the flags and returns the simulation's options.
func (sf *simFlags) options() (sim.Options, error) {
	o := sim.Options{
		Executions: *sf.executions,
		Duration:   *sf.duration,
		Seed:       *sf.seed,
		Buckets:    *sf.timeline,
		Bursts:     sf.bursts.items,
		Dependency: sim.Dependency{FailureRate: *sf.failureRate, Latency: sf.latency.l, Outages: sf.outages.ws,
			Tail: sf.tail.t, Slowdowns: sf.slowdowns.items, Capacity: *sf.capacity, Hosts: *sf.hosts, HostOutages: sf.hostOutages.items},
	}
	switch strings.ToLower(*sf.arrivals) {
	case "poisson":
		o.Arrivals = sim.Poisson
	case "even":
		o.Arrivals = sim.Even
	default:
		return o, fmt.Errorf("--arrivals %q: want poisson or even", *sf.arrivals)
	}
	switch {
	case o.Executions < 1 || o.Executions > sim.MaxExecutions:
		return o, fmt.Errorf("--executions %d: want 1 to %d", o.Executions, sim.MaxExecutions)
	case o.Duration <= 0:
		return o, fmt.Errorf("--duration %v: want a positive duration", o.Duration)
	case !(o.Dependency.FailureRate >= 0 && o.Dependency.FailureRate <= 1):
		return o, fmt.Errorf("--failure-rate %v: want a probability in [0, 1]", o.Dependency.FailureRate)
	case o.Buckets < 0 || o.Buckets > sim.MaxBuckets:
		return o, fmt.Errorf("--timeline %d: want 0 to %d rows", o.Buckets, sim.MaxBuckets)
	case o.Dependency.Capacity < 0:
		return o, fmt.Errorf("--capacity %d: want 0 (no bound) or more", o.Dependency.Capacity)
	case o.Dependency.Hosts < 1 || o.Dependency.Hosts > sim.MaxHosts:
		return o, fmt.Errorf("--hosts %d: want 1 to %d", o.Dependency.Hosts, sim.MaxHosts)
	case len(o.Dependency.HostOutages) > 0 && o.Dependency.Hosts < 2:
		return o, errors.New("--host-outage needs --hosts 2 or more")
	}
	return o, nil
}

// simulate runs the simulation, writes the diagram files asked for and
// prints the report, then footer.
func simulate(env *Env, cmd, name string, cfg errorrecovery.ErrorRecoveryConfig[any], opts sim.Options, sf *simFlags, footer string) int {
	if *sf.svg != "" && env.SVG == nil {
		return fail(env, cmd, errNoSVG)
	}
	var bar *progressBar
	if !*sf.quiet && isTerminal(env.Stderr) {
		bar = &progressBar{w: env.Stderr, total: opts.Executions}
		opts.Progress = bar.update
	}
	strategies := strategyNames(cfg)
	r, err := sim.Run(cfg, opts)
	if bar != nil {
		bar.clear()
	}
	if err != nil {
		return fail(env, cmd, err)
	}
	var out bytes.Buffer
	writeReport(&out, name, strategies, opts, r)
	if *sf.dot != "" || *sf.svg != "" {
		g, dopts := r.Diagram()
		var dot bytes.Buffer
		if err := fsm.WriteDot(&dot, g, dopts); err != nil {
			return fail(env, cmd, err)
		}
		if *sf.dot != "" {
			if err := os.WriteFile(*sf.dot, dot.Bytes(), 0o644); err != nil {
				return fail(env, cmd, err)
			}
			fmt.Fprintf(&out, "\nwrote the diagram with the run's visit counts to %s\n", *sf.dot)
		}
		if *sf.svg != "" {
			svg, err := renderSVG(env, dot.Bytes())
			if err == nil {
				err = os.WriteFile(*sf.svg, svg, 0o644)
			}
			if err != nil {
				return fail(env, cmd, err)
			}
			fmt.Fprintf(&out, "\nwrote the diagram with the run's visit counts to %s\n", *sf.svg)
		}
	}
	out.WriteString(footer)
	return write(env, out.String())
}

// latencyFlag is the --latency flag.
type latencyFlag struct{ l sim.Latency }

func (f *latencyFlag) String() string {
	if f == nil {
		return ""
	}
	return f.l.String()
}

func (f *latencyFlag) Set(s string) error {
	l, err := sim.ParseLatency(s)
	if err != nil {
		return err
	}
	f.l = l
	return nil
}

// outageFlag is the repeatable --outage flag. The first --outage given
// replaces the default windows.
type outageFlag struct {
	ws   []sim.Window
	dflt bool // ws holds the defaults
}

func (f *outageFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.ws))
	for i, w := range f.ws {
		parts[i] = w.String()
	}
	return strings.Join(parts, ",")
}

func (f *outageFlag) Set(s string) error {
	w, err := sim.ParseWindow(s)
	if err != nil {
		return err
	}
	if f.dflt {
		f.ws, f.dflt = nil, false
	}
	f.ws = append(f.ws, w)
	return nil
}

// listFlag is a repeatable flag of values that parse reads.
type listFlag[T fmt.Stringer] struct {
	parse func(string) (T, error)
	items []T
}

func (f *listFlag[T]) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.items))
	for i, x := range f.items {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func (f *listFlag[T]) Set(s string) error {
	x, err := f.parse(s)
	if err != nil {
		return err
	}
	f.items = append(f.items, x)
	return nil
}

// tailFlag is the --tail flag.
type tailFlag struct{ t sim.Tail }

func (f *tailFlag) String() string {
	if f == nil || f.t.Share == 0 {
		return ""
	}
	return f.t.String()
}

func (f *tailFlag) Set(s string) error {
	t, err := sim.ParseTail(s)
	if err != nil {
		return err
	}
	f.t = t
	return nil
}
