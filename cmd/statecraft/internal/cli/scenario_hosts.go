package cli

import (
	"fmt"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The hosts scenario: a dependency on four hosts, one of which goes down,
// behind one circuit breaker that every host shares. It shows the problem
// per-key breakers solve (issue 20): the bad host's failures open the
// breaker for every host.

// The hosts scenario's outage of h1, which its figures and its test use.
const (
	hostsDownAt = 2 * time.Minute
	hostsDown   = 2 * time.Minute
)

func hostsScenario() scenario {
	return scenario{
		name:  "hosts",
		title: "one host of four goes down, and one shared breaker opens for all (CIRCUIT_BREAKER)",
		layer: errorrecovery.StrategyCircuitBreaker,
		with:  "with one shared breaker",
		opts: sim.Options{
			Executions: 20 * 360, Duration: 6 * time.Minute, Seed: 1, Buckets: 12,
			Dependency: sim.Dependency{FailureRate: 0.01, Latency: sim.Latency{Kind: sim.Constant, A: 40 * time.Millisecond},
				Hosts: 4, HostOutages: []sim.Window{{Start: hostsDownAt, End: hostsDownAt + hostsDown}}},
		},
		figures: []figure{figSucceeded, figFallback, figCalls,
			{"calls of h1", func(r *sim.Result) string { return fmt.Sprint(r.Hosts[0].Calls) }},
			{"breaker opened", func(r *sim.Result) string {
				if r.Breaker == nil {
					return "-"
				}
				return plural(r.Breaker.Opens, "time")
			}},
			figP99},
		head: []string{"host", "executions", "succeeded without", "succeeded with", "fallback with"},
		rows: func(other, with *sim.Result) [][]string {
			var rows [][]string
			for i, h := range with.Hosts {
				rows = append(rows, []string{"  " + h.Host, fmt.Sprint(h.Executions),
					fmt.Sprint(other.Hosts[i].Succeeded), fmt.Sprint(h.Succeeded), fmt.Sprint(h.Fallbacks)})
			}
			return rows
		},
		look: `Host h1 is down from 2m to 4m; h2, h3 and h4 answer as usual. Each
execution goes to one host, and retries go to the same host. Without a
breaker, h1's executions make their three attempts and fall back, and
every other execution succeeds. With one breaker for all the hosts, h1's
failures fill its window: it opens, and stays open most of the outage, so
the fallback answers the executions of h2, h3 and h4 too. A breaker per
host (a per-key breaker, issue 20) would open for h1 alone.`,
	}
}
