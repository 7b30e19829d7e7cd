package cli

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The scenarios of "statecraft simulate --scenario NAME": each runs the
// same traffic through a workflow twice, with one layer and without it
// (or with another form of it), and prints the figures that show what the
// layer is for, side by side. The configs are the sample configs
// testdata/configs/NAME.yaml, built in (a test keeps them equal), so that
// the run with the layer can also be made, and changed, with simulate -f.
//
//go:embed scenarios/*.yaml
var scenarioConfigs embed.FS

// A scenario is a simulation that shows one layer at work.
type scenario struct {
	name  string
	title string // what it shows, in a line
	// layer is the strategy the comparison run leaves out; with and
	// other are what the two runs are called, when not "with LAYER" and
	// "without LAYER"; baseline makes the comparison run's config, when
	// it is not cfg without layer.
	layer    errorrecovery.Strategy
	with     string
	other    string
	baseline func(errorrecovery.ErrorRecoveryConfig[any]) errorrecovery.ErrorRecoveryConfig[any]
	opts     sim.Options
	// figures are the rows of the comparison table.
	figures []figure
	// head and rows make the second table (timelineRows makes rows from
	// the timeline).
	head []string
	rows func(other, with *sim.Result) [][]string
	// look says what to look for, after the tables.
	look string
}

// figure is a row of a scenario's comparison: a label and the figure of
// each run.
type figure struct {
	label string
	value func(r *sim.Result) string
}

// scenarios returns the scenarios in the order the usage lists them.
func scenarios() []scenario {
	return []scenario{rateLimitScenario(), budgetScenario(), adaptiveScenario(), hedgeScenario(), hostsScenario()}
}

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios() {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// scenarioNames lists the scenarios for the usage and for errors.
func scenarioNames() string {
	var b strings.Builder
	for _, s := range scenarios() {
		fmt.Fprintf(&b, "  %-11s %s\n", s.name, s.title)
	}
	return b.String()
}

// file is the sample config the scenario's config is the same as.
func (s *scenario) file() string { return "testdata/configs/" + s.name + ".yaml" }

func (s *scenario) config() []byte {
	b, err := scenarioConfigs.ReadFile("scenarios/" + s.name + ".yaml")
	if err != nil {
		panic(err) // the embedded files are there: a test reads each
	}
	return b
}

func (s *scenario) otherName() string {
	if s.other != "" {
		return s.other
	}
	return "without " + s.layer.String()
}

// without returns cfg without strategy st: not named, and without its
// sub-config. A primary st gives its place to the first secondary.
func without(cfg errorrecovery.ErrorRecoveryConfig[any], st errorrecovery.Strategy) errorrecovery.ErrorRecoveryConfig[any] {
	cfg.Secondary = slices.DeleteFunc(slices.Clone(cfg.Secondary), func(x errorrecovery.Strategy) bool { return x == st })
	if cfg.Primary == st && len(cfg.Secondary) > 0 {
		cfg.Primary, cfg.Secondary = cfg.Secondary[0], cfg.Secondary[1:]
	}
	switch st {
	case errorrecovery.StrategyRateLimit:
		cfg.RateLimit = nil
	case errorrecovery.StrategyBudget:
		cfg.Budget = nil
	case errorrecovery.StrategyAdaptiveLimit:
		cfg.AdaptiveLimit = nil
	case errorrecovery.StrategyCircuitBreaker:
		cfg.Breaker = nil
	case errorrecovery.StrategyHedge:
		cfg.Hedge = nil
	}
	return cfg
}

// run runs the scenario: the comparison run, then the run with the
// layer, from the same seed.
func (s *scenario) run(cfg errorrecovery.ErrorRecoveryConfig[any], seed uint64) (other, with *sim.Result, err error) {
	opts := s.opts
	opts.Seed = seed
	base := without(cfg, s.layer)
	if s.baseline != nil {
		base = s.baseline(cfg)
	}
	if other, err = sim.Run(base, opts); err != nil {
		return nil, nil, err
	}
	if with, err = sim.Run(cfg, opts); err != nil {
		return nil, nil, err
	}
	return other, with, nil
}

// runScenario implements "statecraft simulate --scenario NAME".
func runScenario(env *Env, s scenario, seed uint64) int {
	cmd := "simulate"
	cfg, ok := parseConfig(env, cmd, s.file(), s.config())
	if !ok {
		return ExitFail
	}
	other, with, err := s.run(cfg, seed)
	if err != nil {
		return fail(env, cmd, err)
	}
	var out bytes.Buffer
	opts := s.opts
	opts.Seed = seed
	s.write(&out, strategyNames(cfg), opts, other, with)
	return write(env, out.String())
}

// write writes the scenario's report.
func (s *scenario) write(w io.Writer, strategies []string, opts sim.Options, other, with *sim.Result) {
	fmt.Fprintf(w, "scenario    %s: %s\n", s.name, s.title)
	fmt.Fprintf(w, "traffic     %d executions over %s (%s arrivals, seed %d)", opts.Executions, fmtDur(opts.Duration), opts.Arrivals, opts.Seed)
	for _, b := range opts.Bursts {
		fmt.Fprintf(w, ", and a burst of %d in %s-%s", b.Executions, fmtDur(b.Start), fmtDur(b.End))
	}
	dep := opts.Dependency
	fmt.Fprintf(w, "\ndependency  latency %s; %s of calls fail with a 503", dep.Latency, pct(dep.FailureRate))
	for _, o := range dep.Outages {
		fmt.Fprintf(w, "; outage %s-%s", fmtDur(o.Start), fmtDur(o.End))
	}
	writeDependencyExtras(w, dep)
	fmt.Fprintf(w, "\nworkflow    %s: %s; and the same %s\n\n", s.file(), strings.Join(strategies, ", "), s.otherName())

	t := table{}
	t.row("", s.otherName(), s.withName())
	for _, f := range s.figures {
		t.row("  "+f.label, f.value(other), f.value(with))
	}
	t.write(w)
	if s.rows != nil {
		fmt.Fprintln(w)
		t = table{}
		t.row(s.head...)
		for _, r := range s.rows(other, with) {
			t.row(r...)
		}
		t.write(w)
	}
	fmt.Fprintf(w, "\n%s\n", s.look)
	fmt.Fprintf(w, "\nthe run %s, in full:\n  statecraft simulate -f %s %s\n", s.withName(), s.file(), strings.Join(simArgs(opts), " "))
}

// withName is what the run with the layer is called.
func (s *scenario) withName() string {
	if s.with != "" {
		return s.with
	}
	return "with " + s.layer.String()
}

// simArgs returns the simulate flags that make opts (with the config's
// file), so that a scenario's run can be made again and changed.
func simArgs(o sim.Options) []string {
	args := []string{"--executions", fmt.Sprint(o.Executions), "--duration", o.Duration.String()}
	if o.Arrivals != sim.Poisson {
		args = append(args, "--arrivals", o.Arrivals.String())
	}
	if o.Seed != 1 {
		args = append(args, "--seed", fmt.Sprint(o.Seed))
	}
	for _, b := range o.Bursts {
		args = append(args, "--burst", b.String())
	}
	d := o.Dependency
	args = append(args, "--latency", d.Latency.String(), "--failure-rate", fmt.Sprint(d.FailureRate))
	for _, w := range d.Outages {
		args = append(args, "--outage", w.String())
	}
	if d.Tail.Share > 0 {
		args = append(args, "--tail", d.Tail.String())
	}
	for _, s := range d.Slowdowns {
		args = append(args, "--slowdown", s.String())
	}
	if d.Capacity > 0 {
		args = append(args, "--capacity", fmt.Sprint(d.Capacity))
	}
	if d.Hosts > 1 {
		args = append(args, "--hosts", fmt.Sprint(d.Hosts))
	}
	for _, w := range d.HostOutages {
		args = append(args, "--host-outage", w.String())
	}
	return append(args, "--timeline", fmt.Sprint(o.Buckets))
}

// Figures that several scenarios show.
var (
	figCalls     = figure{"calls of the dependency", func(r *sim.Result) string { return fmt.Sprint(r.Calls) }}
	figPeak      = figure{"most calls in one second", func(r *sim.Result) string { return fmt.Sprint(r.PeakCalls) }}
	figSucceeded = figure{"succeeded", func(r *sim.Result) string { return fmt.Sprint(r.Succeeded + r.FromCache) }}
	figFallback  = figure{"answered by the fallback", func(r *sim.Result) string { return fmt.Sprint(r.Fallbacks + r.Stale) }}
	figP50       = figure{"virtual latency p50", func(r *sim.Result) string { return fmtDur(r.Percentile(0.50)) }}
	figP99       = figure{"virtual latency p99", func(r *sim.Result) string { return fmtDur(r.Percentile(0.99)) }}
)

// timelineRows returns rows of a scenario's second table: one per row
// of the timeline in [from, to), its start and then cells.
func timelineRows(from, to int, cells func(other, with sim.Bucket) []string) func(other, with *sim.Result) [][]string {
	return func(other, with *sim.Result) [][]string {
		var rows [][]string
		for i := from; i < to && i < len(with.Timeline); i++ {
			rows = append(rows, append([]string{"  " + fmtDur(with.Timeline[i].Start)}, cells(other.Timeline[i], with.Timeline[i])...))
		}
		return rows
	}
}

// sum adds up f over the rows [from, to) of r's timeline.
func sum(r *sim.Result, from, to int, f func(sim.Bucket) int) int {
	n := 0
	for _, b := range r.Timeline[from:min(to, len(r.Timeline))] {
		n += f(b)
	}
	return n
}

func rateLimitScenario() scenario {
	return scenario{
		name:  "ratelimit",
		title: "a rate limit flattens a burst (RATE_LIMIT)",
		layer: errorrecovery.StrategyRateLimit,
		opts: sim.Options{
			Executions: 1200, Duration: time.Minute, Arrivals: sim.Even, Seed: 1, Buckets: 60,
			Bursts:     []sim.Burst{{Window: sim.Window{Start: 30 * time.Second, End: 31 * time.Second}, Executions: 600}},
			Dependency: sim.Dependency{FailureRate: 0.01, Latency: sim.Latency{Kind: sim.Constant, A: 20 * time.Millisecond}},
		},
		figures: []figure{figCalls, figPeak, figSucceeded, figFallback,
			{"attempts the rate limiter refused", func(r *sim.Result) string {
				if r.RateLimit == nil {
					return "-"
				}
				return fmt.Sprint(r.RateLimit.Rejected)
			}},
			figP50, figP99},
		head: []string{"second from", "calls without", "calls with"},
		rows: timelineRows(28, 38, func(o, w sim.Bucket) []string { return []string{fmt.Sprint(o.Calls), fmt.Sprint(w.Calls)} }),
		look: `Without the limiter the 600 executions of the burst reach the dependency
in the second they arrive. With it, attempts get a permit every 10ms (100
a second, 10 at once after an idle spell), waiting up to max_wait (2s) for
it: the burst is spread over the next seconds, and the executions whose
permit was more than 2s away are refused at once and the fallback answers.`,
	}
}
