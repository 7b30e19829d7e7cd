package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// runScenarioSims runs a scenario's two runs in-process, with its seed.
func runScenarioSims(t *testing.T, name string) (s scenario, cfg errorrecovery.ErrorRecoveryConfig[any], other, with *sim.Result) {
	t.Helper()
	s, ok := findScenario(name)
	require.True(t, ok, "scenario %q", name)
	cfg, err := config.Parse[any](s.file(), s.config())
	require.NoError(t, err)
	other, with, err = s.run(cfg, s.opts.Seed)
	require.NoError(t, err)
	return s, cfg, other, with
}

func TestScenarioConfigsAreTheSampleConfigs(t *testing.T) {
	for _, s := range scenarios() {
		sample, err := os.ReadFile(filepath.Join(repoRoot, s.file()))
		require.NoError(t, err)
		assert.Equal(t, string(sample), string(s.config()),
			"cmd/statecraft/internal/cli/scenarios/%s.yaml and %s differ: keep them equal", s.name, s.file())
	}
}

// TestRateLimitFlattensTheBurst: without the limiter the dependency gets
// the whole burst in one second; with it, never more than a second's
// permits plus the bucket's burst, in any second.
func TestRateLimitFlattensTheBurst(t *testing.T) {
	s, cfg, other, with := runScenarioSims(t, "ratelimit")
	burst := s.opts.Bursts[0].Executions
	rc := cfg.RateLimit
	require.NotNil(t, rc)
	most := rc.Permits + rc.Burst // in any one second: a second's permits, and the bucket full at its start
	assert.GreaterOrEqual(t, other.PeakCalls, burst, "without the limiter: most calls in one second")
	assert.Equal(t, 30*time.Second, other.PeakSecond, "without the limiter: the busiest second")
	assert.LessOrEqual(t, with.PeakCalls, most, "with the limiter: most calls in one second")
	for _, b := range with.Timeline {
		assert.LessOrEqual(t, b.Calls, most, "with the limiter: calls in the second from %v", b.Start)
	}
	// Every execution the limiter refused was answered by the fallback,
	// and the rest by the dependency.
	require.NotNil(t, with.RateLimit)
	assert.Equal(t, int(with.RateLimit.Rejected), with.Fallbacks, "fallbacks with the limiter")
	assert.Equal(t, with.Executions, with.Succeeded+with.Fallbacks, "executions with the limiter")
	assert.Zero(t, other.Fallbacks, "fallbacks without the limiter")
	// No permit is waited for longer than max_wait.
	assert.LessOrEqual(t, with.Percentile(1), rc.MaxWait+2*s.opts.Dependency.Latency.A+100*time.Millisecond, "the slowest execution")
}

// TestBudgetBoundsTheRetryStorm: during the outage the calls to the
// dependency stay within the budget's ratio of the executions plus its
// floor (and one window's allowance, earned before the outage), where
// without the budget each execution makes every attempt.
func TestBudgetBoundsTheRetryStorm(t *testing.T) {
	s, cfg, other, with := runScenarioSims(t, "budget")
	bc := cfg.Budget
	require.NotNil(t, bc)
	width := s.opts.Duration / time.Duration(s.opts.Buckets)
	from, to := int(budgetOutageAt/width), int((budgetOutageAt+budgetOutage)/width)
	calls := func(r *sim.Result) int { return sum(r, from, to, func(b sim.Bucket) int { return b.Calls }) }
	executions := sum(with, from, to, func(b sim.Bucket) int { return b.Executions })
	require.Greater(t, executions, 2500, "executions arriving in the outage")

	secs := func(d time.Duration) float64 { return d.Seconds() }
	bound := float64(executions)*(1+bc.Ratio) + float64(bc.MinPerSecond)*secs(budgetOutage) +
		bc.Ratio*budgetRate*secs(bc.Window) + float64(bc.MinPerSecond)*secs(bc.Window)
	t.Logf("outage: %d executions; calls %d without the budget, %d with it, bound %.0f", executions, calls(other), calls(with), bound)
	assert.LessOrEqual(t, float64(calls(with)), bound, "calls during the outage with the budget")
	assert.GreaterOrEqual(t, calls(with), executions, "every execution's first attempt reaches the dependency")
	attempts := cfg.Retry.MaxAttempts
	assert.GreaterOrEqual(t, calls(other), (attempts-1)*executions, "calls during the outage without the budget (%d attempts each)", attempts)
	require.NotNil(t, with.Budget)
	assert.Positive(t, with.Budget.Refused, "retries refused")
	// A refused retry ends the retrying, not the call: the fallback answers.
	assert.Zero(t, with.Failed, "failed executions with the budget")
}

// TestAdaptiveLimitShrinksAndRecovers: while the dependency is slow the
// limit falls to what it can serve (its capacity or under), and grows back
// once it recovers; without the limit the queue makes every call time out.
func TestAdaptiveLimitShrinksAndRecovers(t *testing.T) {
	s, cfg, other, with := runScenarioSims(t, "adaptive")
	require.NotNil(t, with.Adaptive)
	capacity := s.opts.Dependency.Capacity
	from, to := int(adaptiveSlowAt/adaptiveRow), int((adaptiveSlowAt+adaptiveSlow)/adaptiveRow)
	tl := with.Timeline
	initial := cfg.AdaptiveLimit.InitialLimit

	assert.GreaterOrEqual(t, tl[from-1].Limit, initial, "limit before the slowdown")
	// Within the slowdown's first row the limit is down to the capacity,
	// and it stays there to the end of the slowdown.
	for _, b := range tl[from+1 : to] {
		assert.LessOrEqual(t, b.Limit, capacity, "limit at the end of the row from %v, in the slowdown", b.Start)
		assert.GreaterOrEqual(t, b.LimitLow, cfg.AdaptiveLimit.MinLimit, "the floor")
	}
	// Within one row of the recovery it is back above where it started.
	for _, b := range tl[to+1:] {
		assert.GreaterOrEqual(t, b.Limit, initial, "limit at the end of the row from %v, after the slowdown", b.Start)
	}
	succeeded := func(r *sim.Result) int { return sum(r, from+1, to, func(b sim.Bucket) int { return b.Succeeded }) }
	assert.Zero(t, succeeded(other), "without the limit: executions that succeeded after the slowdown's first row")
	assert.Greater(t, succeeded(with), 1000, "with the limit: executions that succeeded in the slowdown")
	assert.Greater(t, other.Metrics.Timeouts, int64(5000), "without the limit: executions ended by the overall deadline")
	assert.Zero(t, with.Metrics.Timeouts, "with the limit: executions ended by the overall deadline")
	assert.LessOrEqual(t, with.Percentile(0.99), 4*s.opts.Dependency.Latency.A*time.Duration(capacity+1)/time.Duration(capacity), "p99 with the limit")
}

func TestScenariosMatchGoldens(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			out := wantSuccess(t, "simulate", "--scenario", s.name)
			checkGolden(t, "simulate/scenario-"+s.name+".txt", out)
			assert.NotEqual(t, out, wantSuccess(t, "simulate", "--scenario", s.name, "--seed", "2"), "seeds 1 and 2 printed the same")
		})
	}
}

// TestScenarioCommandLineMakesTheRunWithTheLayer: the command line a
// scenario ends with is the run with the layer, as simulate -f makes it.
func TestScenarioCommandLineMakesTheRunWithTheLayer(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			_, cfg, _, with := runScenarioSims(t, s.name)
			var want bytes.Buffer
			writeReport(&want, s.file(), strategyNames(cfg), s.opts, with)
			args := append([]string{"simulate", "-f", s.file()}, simArgs(s.opts)...)
			out := wantSuccess(t, args...)
			assert.Equal(t, want.String(), out, "statecraft %s", strings.Join(args, " "))
		})
	}
}

// TestABreakerPerHostIsolatesTheBadHost: with one host of four down, the
// breaker the hosts share opens and the fallback answers executions of the
// hosts that are fine; with a breaker per host only h1's opens, and every
// execution of the other hosts succeeds.
func TestABreakerPerHostIsolatesTheBadHost(t *testing.T) {
	_, _, shared, keyed := runScenarioSims(t, "hosts")
	require.Len(t, keyed.Hosts, 4)
	require.Len(t, shared.Hosts, 4)

	require.NotNil(t, shared.Breaker, "one shared breaker")
	assert.Positive(t, shared.Breaker.Opens, "the shared breaker's opens")
	var open time.Duration
	for _, st := range shared.Breaker.Time {
		if st.State == "Open" {
			open = st.Time
		}
	}
	assert.Greater(t, open, hostsDown*3/4, "the shared breaker's time open, in an outage of h1 of %v", hostsDown)

	assert.Nil(t, keyed.Breaker, "no shared breaker with a breaker per host")
	bad := keyed.Hosts[0]
	assert.Positive(t, bad.BreakerOpens, "h1's breaker opens")
	assert.Greater(t, bad.Fallbacks, 500, "h1's executions the fallback answered")
	for i, h := range keyed.Hosts[1:] {
		one := shared.Hosts[i+1]
		assert.Greater(t, one.Fallbacks, one.Executions/5, "one shared breaker: %s's executions the fallback answered", one.Host)
		assert.Zero(t, h.BreakerOpens, "a breaker per host: %s's breaker opens", h.Host)
		assert.Equal(t, h.Executions, h.Succeeded, "a breaker per host: %s's executions all succeed", h.Host)
	}
	for _, h := range keyed.Hosts {
		assert.Equal(t, "Closed", h.Breaker, "%s's breaker at the end", h.Host)
	}
}

// TestHedgingCutsTheTailOffP99: without hedging p99 is the slow tail's
// latency; with a hedge after the delay it is the delay plus an ordinary
// call, for a few per cent more calls.
func TestHedgingCutsTheTailOffP99(t *testing.T) {
	_, cfg, other, with := runScenarioSims(t, "hedge")
	require.NotNil(t, cfg.Hedge)
	delay := cfg.Hedge.Delay
	assert.Equal(t, hedgeTail, other.Percentile(0.99), "p99 without hedging")
	assert.Less(t, with.Percentile(0.99), delay+200*time.Millisecond, "p99 with hedging (delay %v)", delay)
	assert.InDelta(t, float64(other.Percentile(0.50)), float64(with.Percentile(0.50)), float64(time.Millisecond), "p50 is the same with hedging")
	assert.Equal(t, other.Executions, other.Calls, "calls without hedging")
	assert.Equal(t, int64(with.Calls-with.Executions), with.Metrics.Hedges, "with hedging, the calls beyond one per execution are the hedges")
	assert.InDelta(t, hedgeTailShare*float64(with.Executions), float64(with.Metrics.Hedges), 0.02*float64(with.Executions), "hedges started")
	assert.Equal(t, with.Executions, with.Succeeded, "executions that succeeded with hedging")
}
