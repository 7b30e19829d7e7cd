package cli

import (
	"fmt"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The hosts scenario: a dependency on four hosts, one of which goes down,
// behind a breaker per host (PerKey), compared with one breaker that
// every host shares.

// The hosts scenario's outage of h1, which its figures and its test use.
const (
	hostsDownAt = 2 * time.Minute
	hostsDown   = 2 * time.Minute
)

func hostsScenario() scenario {
	return scenario{
		name:  "hosts",
		title: "one host of four goes down: a breaker per host opens for it alone (per_key)",
		layer: errorrecovery.StrategyCircuitBreaker,
		with:  "with a breaker per host",
		other: "with one shared breaker",
		baseline: func(cfg errorrecovery.ErrorRecoveryConfig[any]) errorrecovery.ErrorRecoveryConfig[any] {
			cfg.PerKey = nil
			return cfg
		},
		opts: sim.Options{
			Executions: 20 * 360, Duration: 6 * time.Minute, Seed: 1, Buckets: 12,
			Dependency: sim.Dependency{FailureRate: 0.01, Latency: sim.Latency{Kind: sim.Constant, A: 40 * time.Millisecond},
				Hosts: 4, HostOutages: []sim.Window{{Start: hostsDownAt, End: hostsDownAt + hostsDown}}},
		},
		figures: []figure{figSucceeded, figFallback, figCalls,
			{"calls of h1", func(r *sim.Result) string { return fmt.Sprint(r.Hosts[0].Calls) }},
			{"breakers opened", func(r *sim.Result) string {
				if r.Breaker != nil {
					return plural(r.Breaker.Opens, "time")
				}
				n := 0
				for _, h := range r.Hosts {
					n += h.BreakerOpens
				}
				return plural(n, "time")
			}},
			figP99},
		head: []string{"host", "executions", "succeeded, one breaker", "succeeded, per host", "fallback, per host", "its breaker opened"},
		rows: func(other, with *sim.Result) [][]string {
			var rows [][]string
			for i, h := range with.Hosts {
				rows = append(rows, []string{"  " + h.Host, fmt.Sprint(h.Executions),
					fmt.Sprint(other.Hosts[i].Succeeded), fmt.Sprint(h.Succeeded), fmt.Sprint(h.Fallbacks), plural(h.BreakerOpens, "time")})
			}
			return rows
		},
		look: `Host h1 is down from 2m to 4m; h2, h3 and h4 answer as usual. Each
execution goes to one host, and its retries go to the same host. With one
breaker for all the hosts, h1's failures fill its window: it opens, and
stays open most of the outage, so the fallback answers the executions of
h2, h3 and h4 too. With a breaker per host (per_key: {key: host}), h1's
breaker opens and h1's executions get the fallback at once, while the
other hosts' breakers stay closed and their executions succeed.`,
	}
}
