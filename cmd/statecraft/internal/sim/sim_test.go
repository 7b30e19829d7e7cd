package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

const configs = "../../../../testdata/configs/"

func readConfig(t *testing.T, name string) errorrecovery.ErrorRecoveryConfig[any] {
	t.Helper()
	cfg, err := config.ReadFile[any](configs + name)
	require.NoError(t, err)
	return cfg
}

func parseConfig(t *testing.T, yaml string) errorrecovery.ErrorRecoveryConfig[any] {
	t.Helper()
	cfg, err := config.Parse[any]("test.yaml", []byte(yaml))
	require.NoError(t, err)
	return cfg
}

func mustRun(t *testing.T, cfg errorrecovery.ErrorRecoveryConfig[any], opts Options) *Result {
	t.Helper()
	r, err := Run(cfg, opts)
	require.NoError(t, err)
	total, err := opts.total()
	require.NoError(t, err)
	require.Equal(t, total, r.Executions, "executions, bursts included")
	require.Equal(t, total, r.Succeeded+r.FromCache+r.Stale+r.Fallbacks+r.Failed, "outcomes add up to")
	return r
}

func layeredOptions(seed uint64) Options {
	return Options{
		Executions: 1200, Duration: 20 * time.Minute, Seed: seed, Buckets: 4,
		Dependency: Dependency{
			FailureRate: 0.05,
			Latency:     Latency{Kind: LogNormal, A: 40 * time.Millisecond, Sigma: 0.5},
			Outages:     []Window{{5 * time.Minute, 10 * time.Minute}},
		},
	}
}

// comparable strips what differs between equal runs: the workflow itself.
func comparable(r *Result) Result {
	c := *r
	c.wf = nil
	return c
}

func TestSameSeedGivesTheSameRun(t *testing.T) {
	for _, name := range []string{"layered.yaml", "bulkhead.yaml"} {
		t.Run(name, func(t *testing.T) {
			cfg := readConfig(t, name)
			opts := layeredOptions(42)
			opts.Dependency.Latency = Latency{Kind: Exponential, A: 150 * time.Millisecond}
			opts.Executions = 3000
			a, b := mustRun(t, cfg, opts), mustRun(t, readConfig(t, name), opts)
			require.Equal(t, comparable(b), comparable(a), "two runs with seed 42 differ")
		})
	}
}

func TestDifferentSeedsGiveDifferentRuns(t *testing.T) {
	a := mustRun(t, readConfig(t, "layered.yaml"), layeredOptions(1))
	b := mustRun(t, readConfig(t, "layered.yaml"), layeredOptions(2))
	require.NotEqual(t, a.Latencies, b.Latencies, "seeds 1 and 2 gave the same latencies")
}

func TestOutageOpensTheBreakerAndTheFallbackAnswers(t *testing.T) {
	r := mustRun(t, readConfig(t, "layered.yaml"), layeredOptions(1))
	if r.Breaker == nil || r.Breaker.Opens == 0 {
		t.Fatalf("breaker did not open during the outage: %+v", r.Breaker)
	}
	outage := r.Timeline[1] // 5m-10m
	if outage.Succeeded != 0 || outage.Fallbacks != outage.Executions {
		t.Errorf("during the outage: %+v, want every execution answered by the fallback", outage)
	}
	if first := r.Breaker.Changes[0]; first.To != "Open" || first.At < 5*time.Minute || first.At > 6*time.Minute {
		t.Errorf("first breaker change %+v, want Closed -> Open soon after 5m", first)
	}
	if last := r.Timeline[3]; last.Breaker != "Closed" {
		t.Errorf("breaker at the end: %q, want Closed again", last.Breaker)
	}
	var spent time.Duration
	for _, st := range r.Breaker.Time {
		spent += st.Time
	}
	assert.Equal(t, r.Elapsed, spent, "time in breaker states adds up to")
}

// TestTheOutageIsUnhealthyWhileTheFallbackServes: the workflow's own
// health and alert describe the dependency, so the outage that the
// fallback hides from the callers shows in them (issue 16).
func TestTheOutageIsUnhealthyWhileTheFallbackServes(t *testing.T) {
	r := mustRun(t, readConfig(t, "layered.yaml"), layeredOptions(1))
	outage := r.Timeline[1] // 5m-10m
	if outage.Fallbacks != outage.Executions || outage.Health != errorrecovery.HealthUnhealthy {
		t.Errorf("during the outage: %+v, want every execution answered by the fallback and the health unhealthy", outage)
	}
	if len(r.Alerts) != 1 || r.Alerts[0] < 5*time.Minute || r.Alerts[0] > 6*time.Minute {
		t.Errorf("alerts at %v, want one soon after the outage began at 5m", r.Alerts)
	}
	m := r.Metrics
	if m.Failures != int64(r.Fallbacks+r.Stale+r.Failed) || m.Fallbacks != int64(r.Fallbacks) || m.Rejections == 0 {
		t.Errorf("workflow metrics %+v; the run saw %d fallbacks, %d stale, %d failed, and the breaker rejected calls", m, r.Fallbacks, r.Stale, r.Failed)
	}
	if h := r.Health; h.Status != errorrecovery.HealthOK || h.Failures != 0 {
		t.Errorf("health at the end %+v, want healthy once the dependency is back", h)
	}
}

func TestLatenciesAreExactOnTheVirtualClock(t *testing.T) {
	tests := []struct {
		name   string
		config string
		dep    Dependency
		want   time.Duration // every execution's latency
		failed bool
	}{
		{"a call takes its latency", "primary: RETRY\n", Dependency{Latency: Latency{A: 50 * time.Millisecond}}, 50 * time.Millisecond, false},
		{"backoffs run on the clock", "primary: RETRY\nretry: {max_attempts: 3, initial_delay: 100ms, backoff: FIXED}\n",
			Dependency{FailureRate: 1, Latency: Latency{A: 10 * time.Millisecond}}, 3*10*time.Millisecond + 2*100*time.Millisecond, true},
		{"an attempt timeout cuts a slow call", "primary: DEADLINE\ndeadline: {timeout: 0s, attempt_timeout: 100ms}\n",
			Dependency{Latency: Latency{A: time.Second}}, 100 * time.Millisecond, true},
		// 500ms, 1s backoff, 500ms: the next backoff would end past the
		// deadline, so the execution gives up at 2s instead of waiting.
		{"the overall deadline ends retries early", "primary: RETRY\nretry: {max_attempts: 10, initial_delay: 1s, backoff: FIXED}\nglobal_timeout: 2500ms\n",
			Dependency{FailureRate: 1, Latency: Latency{A: 500 * time.Millisecond}}, 2 * time.Second, true},
		// 500ms, 50ms, 500ms, 50ms, and the third attempt is cut at 1.2s.
		{"the overall deadline cuts an attempt", "primary: RETRY\nretry: {max_attempts: 10, initial_delay: 50ms, backoff: FIXED}\nglobal_timeout: 1200ms\n",
			Dependency{FailureRate: 1, Latency: Latency{A: 500 * time.Millisecond}}, 1200 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRun(t, parseConfig(t, tt.config), Options{Executions: 50, Duration: time.Hour, Arrivals: Even, Dependency: tt.dep})
			if r.Latencies[0] != tt.want || r.Latencies[len(r.Latencies)-1] != tt.want {
				t.Errorf("latencies from %v to %v, want all %v", r.Latencies[0], r.Latencies[len(r.Latencies)-1], tt.want)
			}
			if got := r.Failed == r.Executions; got != tt.failed {
				t.Errorf("every execution failed: %v, want %v (%+v)", got, tt.failed, r.Failures)
			}
		})
	}
}

func TestBulkheadQueuesUnderLoadWithoutStalling(t *testing.T) {
	opts := layeredOptions(3)
	opts.Executions, opts.Duration, opts.Dependency.Outages = 4000, 2*time.Minute, nil
	opts.Dependency.Latency = Latency{Kind: Exponential, A: 150 * time.Millisecond}
	r := mustRun(t, readConfig(t, "bulkhead.yaml"), opts)
	if r.Bulkhead == nil || r.Bulkhead.Queued == 0 {
		t.Fatalf("no call queued for a slot: %+v", r.Bulkhead)
	}
	if r.Failures.BulkheadRejected == 0 || r.Failures.TimedOut == 0 {
		t.Errorf("failures %+v: want some rejected by the bulkhead and some timed out", r.Failures)
	}
	assert.Len(t, r.Notes, 1, "notes")
}

// With per_key the workflow builds a breaker per host on the
// simulation's clock: h1, down for the whole run, opens its own; h2's
// stays closed and its executions all succeed.
func TestPerKeyGivesEachHostItsOwnBreaker(t *testing.T) {
	r := mustRun(t, parseConfig(t, "primary: CIRCUIT_BREAKER\ncircuit_breaker: {failure_threshold: 5, window_size: 10}\nper_key: {key: host}\n"),
		Options{Executions: 200, Duration: time.Minute, Seed: 2,
			Dependency: Dependency{Latency: Latency{A: time.Millisecond}, Hosts: 2, HostOutages: []Window{{0, time.Hour}}}})
	assert.Nil(t, r.Breaker, "no shared breaker")
	require.Len(t, r.Hosts, 2)
	bad, good := r.Hosts[0], r.Hosts[1]
	assert.Positive(t, bad.BreakerOpens, "h1's breaker opens")
	assert.Equal(t, "Open", bad.Breaker, "h1's breaker at the end")
	assert.Less(t, bad.Calls, bad.Executions, "h1's calls: its open breaker refuses most executions")
	assert.Zero(t, good.BreakerOpens, "h2's breaker opens")
	assert.Equal(t, "Closed", good.Breaker, "h2's breaker at the end")
	assert.Equal(t, good.Executions, good.Succeeded, "h2's executions all succeed")
	assert.Len(t, r.Notes, 1, "notes")
}

func TestVisitsCountEntriesOfThePerCallMachine(t *testing.T) {
	r := mustRun(t, parseConfig(t, "primary: RETRY\nretry: {max_attempts: 2, initial_delay: 1ms, backoff: FIXED}\n"),
		Options{Executions: 10, Duration: time.Minute, Dependency: Dependency{FailureRate: 1}})
	want := map[string]int{"Start": 10, "Attempt": 20, "Backoff": 10, "Exhausted": 10}
	for _, v := range r.Visits {
		if w, ok := want[v.State]; ok && v.Count != w {
			t.Errorf("%s entered %d times, want %d", v.State, v.Count, w)
		}
	}
	if r.Calls != 20 || r.Attempts[2] != 10 {
		t.Errorf("calls %d, attempts %v: want 20 calls, 2 per execution", r.Calls, r.Attempts)
	}
	g, opts := r.Diagram()
	for i, e := range g.Edges {
		if e.Trigger == "begin" && opts.Visits[i] != 10 {
			t.Errorf("diagram overlay: begin taken %d times, want 10", opts.Visits[i])
		}
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	cfg := parseConfig(t, "primary: RETRY\n")
	for _, opts := range []Options{
		{Executions: 0, Duration: time.Minute},
		{Executions: 1, Duration: 0},
		{Executions: 1, Duration: time.Minute, Dependency: Dependency{FailureRate: 1.5}},
		{Executions: 1, Duration: time.Minute, Buckets: -1},
	} {
		if _, err := Run(cfg, opts); err == nil {
			t.Errorf("Run with %+v: no error", opts)
		}
	}
}

func TestParseLatency(t *testing.T) {
	tests := []struct {
		in   string
		want Latency
	}{
		{"50ms", Latency{Kind: Constant, A: 50 * time.Millisecond}},
		{"const:1s", Latency{Kind: Constant, A: time.Second}},
		{"uniform:10ms,100ms", Latency{Kind: Uniform, A: 10 * time.Millisecond, B: 100 * time.Millisecond}},
		{"exp:50ms", Latency{Kind: Exponential, A: 50 * time.Millisecond}},
		{"lognormal:40ms,0.5", Latency{Kind: LogNormal, A: 40 * time.Millisecond, Sigma: 0.5}},
	}
	for _, tt := range tests {
		got, err := ParseLatency(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseLatency(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if again, err := ParseLatency(got.String()); err != nil || again != got {
			t.Errorf("ParseLatency(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
		}
	}
	for _, bad := range []string{"", "fast", "const:", "uniform:10ms", "uniform:100ms,10ms", "exp:-1s", "lognormal:40ms", "lognormal:40ms,x", "pareto:1s"} {
		if l, err := ParseLatency(bad); err == nil {
			t.Errorf("ParseLatency(%q) = %+v, want an error", bad, l)
		}
	}
}

func TestParseWindow(t *testing.T) {
	if w, err := ParseWindow("10m-20m"); err != nil || w != (Window{10 * time.Minute, 20 * time.Minute}) {
		t.Errorf("ParseWindow(10m-20m) = %+v, %v", w, err)
	}
	for _, bad := range []string{"10m", "20m-10m", "10m-10m", "x-1m", "-1m-2m"} {
		if w, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) = %+v, want an error", bad, w)
		}
	}
}

func TestLatencyDistributionsHaveTheirMeans(t *testing.T) {
	r := newTestRand()
	for _, tt := range []struct {
		l    Latency
		mean time.Duration
	}{
		{Latency{Kind: Uniform, A: 10 * time.Millisecond, B: 30 * time.Millisecond}, 20 * time.Millisecond},
		{Latency{Kind: Exponential, A: 50 * time.Millisecond}, 50 * time.Millisecond},
		{Latency{Kind: LogNormal, A: 40 * time.Millisecond, Sigma: 0.5}, 45325938}, // 40ms * e^(sigma²/2)
	} {
		var sum time.Duration
		const n = 20000
		for range n {
			sum += tt.l.sample(r)
		}
		if got := sum / n; got < tt.mean*95/100 || got > tt.mean*105/100 {
			t.Errorf("%v: mean %v, want about %v", tt.l, got, tt.mean)
		}
	}
}
