package cli

import (
	"fmt"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The scenarios of the retry budget and the adaptive limit (the rate
// limit's is beside the scenario type).

// The budget scenario's traffic and outage, which its figures and its
// test use.
const (
	budgetRate     = 50 // executions a second
	budgetOutageAt = time.Minute
	budgetOutage   = time.Minute
)

func budgetScenario() scenario {
	row := budgetOutageAt / (30 * time.Second) // the first row of the outage
	rows := int(budgetOutage / (30 * time.Second))
	return scenario{
		name:  "budget",
		title: "a retry budget stops a retry storm during an outage (BUDGET)",
		layer: errorrecovery.StrategyBudget,
		opts: sim.Options{
			Executions: budgetRate * 240, Duration: 4 * time.Minute, Seed: 1, Buckets: 8,
			Dependency: sim.Dependency{FailureRate: 0.01, Latency: sim.Latency{Kind: sim.Constant, A: 40 * time.Millisecond},
				Outages: []sim.Window{{Start: budgetOutageAt, End: budgetOutageAt + budgetOutage}}},
		},
		figures: []figure{figCalls,
			{"calls during the outage", func(r *sim.Result) string {
				return fmt.Sprint(sum(r, int(row), int(row)+rows, func(b sim.Bucket) int { return b.Calls }))
			}},
			figPeak,
			{"retries refused by the budget", func(r *sim.Result) string {
				if r.Budget == nil {
					return "-"
				}
				return fmt.Sprint(r.Budget.Refused)
			}},
			figSucceeded, figFallback, figP99},
		head: []string{"calls made from", "without", "with"},
		rows: timelineRows(0, 8, func(o, w sim.Bucket) []string { return []string{fmt.Sprint(o.Calls), fmt.Sprint(w.Calls)} }),
		look: `The dependency is down from 1m to 2m. Without the budget every execution
makes its five attempts, so the dependency receives five times its usual
traffic while it is down, and whatever would let it recover is buried. With
the budget, retries may reach a fifth of the executions of the last 10s
plus 10 a second: in the outage's minute that bounds the calls to about
(1 + 0.2) x 3000 executions + 10 x 60 (the test checks it, with one
window's worth more), and the retries refused go to the fallback at once.`,
	}
}

// The adaptive scenario's slowdown, which its figures and its test use.
const (
	adaptiveSlowAt = time.Minute
	adaptiveSlow   = 2 * time.Minute
	adaptiveRow    = 15 * time.Second
)

func adaptiveScenario() scenario {
	from, to := int(adaptiveSlowAt/adaptiveRow), int((adaptiveSlowAt+adaptiveSlow)/adaptiveRow)
	inSlowdown := func(f func(sim.Bucket) int) func(r *sim.Result) string {
		return func(r *sim.Result) string { return fmt.Sprint(sum(r, from, to, f)) }
	}
	return scenario{
		name:  "adaptive",
		title: "an adaptive limit shrinks while the dependency is slow, and recovers (ADAPTIVE_LIMIT)",
		layer: errorrecovery.StrategyAdaptiveLimit,
		opts: sim.Options{
			Executions: 50 * 240, Duration: 4 * time.Minute, Seed: 1, Buckets: int(4 * time.Minute / adaptiveRow),
			Dependency: sim.Dependency{Latency: sim.Latency{Kind: sim.Constant, A: 100 * time.Millisecond}, Capacity: 10,
				Slowdowns: []sim.Slowdown{{Window: sim.Window{Start: adaptiveSlowAt, End: adaptiveSlowAt + adaptiveSlow}, Factor: 4}}},
		},
		figures: []figure{
			figSucceeded,
			{"  of them in the slowdown", inSlowdown(func(b sim.Bucket) int { return b.Succeeded })},
			figFallback,
			{"most calls served at once", func(r *sim.Result) string { return fmt.Sprint(r.PeakServed) }},
			{"attempts the limit refused", func(r *sim.Result) string {
				if r.Adaptive == nil {
					return "-"
				}
				return fmt.Sprint(r.Adaptive.Rejected)
			}},
			{"overall deadline passed", func(r *sim.Result) string { return fmt.Sprint(r.Metrics.Timeouts) }},
			figP50, figP99},
		head: []string{"arrived from", "succeeded without", "succeeded with", "limit at end", "lowest"},
		rows: timelineRows(from-2, to+3, func(o, w sim.Bucket) []string {
			return []string{fmt.Sprint(o.Succeeded), fmt.Sprint(w.Succeeded), fmt.Sprint(w.Limit), fmt.Sprint(w.LimitLow)}
		}),
		look: `From 1m to 3m the dependency is 4 times slower (400ms a call), and it
serves 10 calls at once: beyond that every call slows down with the queue.
Without a limit, 50 executions a second pile up, the queue makes each call
slower still, and every call times out at the overall deadline (5s). With
the adaptive limit (TCP Vegas: the queue estimated from latency against the
unloaded baseline), the limit falls within seconds to what the dependency
can serve, the calls over it are refused at once and the fallback answers,
and those admitted succeed. When the dependency recovers the limit grows
back.`,
	}
}
