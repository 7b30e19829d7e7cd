package cli

import (
	"fmt"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The hedge scenario: a dependency whose latency has a slow tail, with
// and without hedging.

// The hedge scenario's slow tail, which its test uses.
const (
	hedgeTailShare = 0.05
	hedgeTail      = 2 * time.Second
)

func hedgeScenario() scenario {
	pct := func(label string, q float64) figure {
		return figure{label, func(r *sim.Result) string { return fmtDur(r.Percentile(q)) }}
	}
	return scenario{
		name:  "hedge",
		title: "hedging takes a slow tail off the latency (HEDGE)",
		layer: errorrecovery.StrategyHedge,
		opts: sim.Options{
			Executions: 3600, Duration: time.Hour, Seed: 1,
			Dependency: sim.Dependency{Latency: sim.Latency{Kind: sim.LogNormal, A: 40 * time.Millisecond, Sigma: 0.3},
				Tail: sim.Tail{Share: hedgeTailShare, Latency: hedgeTail}},
		},
		figures: []figure{
			pct("virtual latency p50", 0.50), pct("virtual latency p90", 0.90), pct("virtual latency p95", 0.95),
			pct("virtual latency p99", 0.99), pct("virtual latency p99.9", 0.999), pct("virtual latency max", 1),
			figCalls,
			{"hedges started", func(r *sim.Result) string { return fmt.Sprint(r.Metrics.Hedges) }},
			{"  of them answering first", func(r *sim.Result) string { return fmt.Sprint(r.Metrics.HedgeWins) }},
			figSucceeded},
		look: `One call in twenty takes 2s instead of about 40ms (a pause, a cold cache,
a lost packet). Without hedging, the executions that meet the tail wait for
it: p99 is the tail's 2s. With hedging, an attempt that has not answered
after 100ms gets a second one beside it, on another draw of the latency,
and the first answer wins; the loser is cancelled. A hedge is started for
about one execution in twenty (the tail, and the slowest of the rest), so
about 5% more calls take p99 from 2s to about 150ms; only an execution
whose attempt and hedge both meet the tail (one in 400) still waits it out.`,
	}
}
