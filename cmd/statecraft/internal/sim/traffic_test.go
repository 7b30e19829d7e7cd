package sim

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// count returns how many of r's latencies are exactly d.
func count(r *Result, d time.Duration) int {
	n := 0
	for _, l := range r.Latencies {
		if l == d {
			n++
		}
	}
	return n
}

func TestTailMakesItsShareOfCallsSlow(t *testing.T) {
	const fast, slow = 10 * time.Millisecond, time.Second
	r := mustRun(t, parseConfig(t, "primary: RETRY\n"), Options{Executions: 4000, Duration: time.Hour, Seed: 3,
		Dependency: Dependency{Latency: Latency{A: fast}, Tail: Tail{Share: 0.05, Latency: slow}}})
	assert.Equal(t, len(r.Latencies), count(r, fast)+count(r, slow), "every latency is the fast one or the tail's")
	assert.InDelta(t, 200, count(r, slow), 40, "executions in the tail (5% of 4000)")
	assert.Equal(t, fast, r.Percentile(0.5), "p50")
	assert.Equal(t, slow, r.Percentile(0.99), "p99")
}

func TestASlowdownMultipliesTheLatencyOfCallsInItsWindow(t *testing.T) {
	r := mustRun(t, parseConfig(t, "primary: RETRY\n"), Options{Executions: 100, Duration: 100 * time.Second, Arrivals: Even,
		Dependency: Dependency{Latency: Latency{A: 10 * time.Millisecond},
			Slowdowns: []Slowdown{{Window: Window{20 * time.Second, 40 * time.Second}, Factor: 5}}}})
	assert.Equal(t, 80, count(r, 10*time.Millisecond), "executions outside the slowdown")
	assert.Equal(t, 20, count(r, 50*time.Millisecond), "executions that started in the slowdown")
}

// Ten calls start at once against a capacity of 4: the first four take
// their latency, the fifth 5/4 of it, and so on.
func TestCapacityStretchesTheCallsBeyondIt(t *testing.T) {
	r := mustRun(t, parseConfig(t, "primary: RETRY\n"), Options{Executions: 1, Duration: time.Second, Arrivals: Even,
		Bursts:     []Burst{{Window: Window{0, time.Nanosecond}, Executions: 9}},
		Dependency: Dependency{Latency: Latency{A: 100 * time.Millisecond}, Capacity: 4}})
	want := []time.Duration{100, 100, 100, 100, 125, 150, 175, 200, 225, 250}
	for i := range want {
		want[i] *= time.Millisecond
	}
	assert.Empty(t, cmp.Diff(want, r.Latencies), "latencies (-want +got)")
	assert.Equal(t, 10, r.PeakServed, "most calls served at once")
}

func TestBurstsArriveOnTopOfTheSteadyTraffic(t *testing.T) {
	r := mustRun(t, parseConfig(t, "primary: RETRY\n"), Options{Executions: 60, Duration: time.Minute, Arrivals: Even, Buckets: 60,
		Bursts:     []Burst{{Window: Window{30 * time.Second, 31 * time.Second}, Executions: 50}},
		Dependency: Dependency{Latency: Latency{A: time.Millisecond}}})
	assert.Equal(t, 110, r.Executions, "executions")
	assert.Equal(t, 51, r.PeakCalls, "most calls in one second")
	assert.Equal(t, 30*time.Second, r.PeakSecond, "the busiest second")
	assert.Equal(t, 51, r.Timeline[30].Calls, "calls in the second from 30s")
	assert.Equal(t, 51, r.Timeline[30].Executions, "arrivals in the second from 30s")
	assert.Equal(t, 1, r.Timeline[31].Calls, "calls in the second from 31s")
}

func TestAHostOutageTakesDownTheFirstHostOnly(t *testing.T) {
	r := mustRun(t, parseConfig(t, "primary: RETRY\nretry: {max_attempts: 2, initial_delay: 1ms, backoff: FIXED}\n"),
		Options{Executions: 2000, Duration: 10 * time.Minute, Seed: 5,
			Dependency: Dependency{Latency: Latency{A: time.Millisecond}, Hosts: 4, HostOutages: []Window{{0, time.Hour}}}})
	require.Len(t, r.Hosts, 4)
	total := 0
	for i, h := range r.Hosts {
		total += h.Executions
		assert.Equal(t, hostName(i), h.Host, "host %d", i)
		assert.InDelta(t, 500, h.Executions, 75, "executions sent to %s", h.Host)
		if i == 0 {
			assert.Equal(t, h.Executions, h.Failed, "h1's executions all fail")
			assert.Equal(t, 2*h.Executions, h.Calls, "h1's calls: both attempts of each, the retry to the same host")
			assert.Equal(t, h.Calls, h.CallsFailed, "h1's calls all fail")
			continue
		}
		assert.Equal(t, h.Executions, h.Succeeded, "%s's executions all succeed", h.Host)
		assert.Zero(t, h.CallsFailed, "%s's failed calls", h.Host)
	}
	assert.Equal(t, r.Executions, total, "executions of the hosts")
}

func TestHostOfReadsTheExecutionsHost(t *testing.T) {
	assert.Equal(t, "", HostOf(context.Background()), "no host")
	ctx, cancel := context.WithCancel(withHost(context.Background(), 2))
	defer cancel()
	assert.Equal(t, "h3", HostOf(ctx), "a context derived from an execution's")
}

func TestRunRefusesBadDependencies(t *testing.T) {
	cfg := parseConfig(t, "primary: RETRY\n")
	for _, dep := range []Dependency{
		{Tail: Tail{Share: 1.5}},
		{Capacity: -1},
		{Hosts: MaxHosts + 1},
		{Hosts: 1, HostOutages: []Window{{0, time.Second}}},
		{Slowdowns: []Slowdown{{Window: Window{0, time.Second}, Factor: 0.5}}},
	} {
		_, err := Run(cfg, Options{Executions: 1, Duration: time.Minute, Dependency: dep})
		assert.Error(t, err, "Run with %+v", dep)
	}
	_, err := Run(cfg, Options{Executions: 1, Duration: time.Minute, Bursts: []Burst{{Window: Window{time.Second, time.Second}, Executions: 1}}})
	assert.Error(t, err, "Run with an empty burst window")
}

func TestParseTheDependencyFlags(t *testing.T) {
	tail, err := ParseTail("0.05:2s")
	require.NoError(t, err)
	assert.Equal(t, Tail{Share: 0.05, Latency: 2 * time.Second}, tail, "tail")
	again, err := ParseTail(tail.String())
	assert.NoError(t, err)
	assert.Equal(t, tail, again, "ParseTail(String())")

	sd, err := ParseSlowdown("2m-4m:x5")
	require.NoError(t, err)
	assert.Equal(t, Slowdown{Window: Window{2 * time.Minute, 4 * time.Minute}, Factor: 5}, sd, "slowdown")
	sdAgain, err := ParseSlowdown(sd.String())
	assert.NoError(t, err)
	assert.Equal(t, sd, sdAgain, "ParseSlowdown(String())")

	b, err := ParseBurst("30s-31s:500")
	require.NoError(t, err)
	assert.Equal(t, Burst{Window: Window{30 * time.Second, 31 * time.Second}, Executions: 500}, b, "burst")
	bAgain, err := ParseBurst(b.String())
	assert.NoError(t, err)
	assert.Equal(t, b, bAgain, "ParseBurst(String())")

	for _, bad := range []string{"", "0.05", "1.5:1s", "0.1:-1s", "x:1s"} {
		_, err := ParseTail(bad)
		assert.Error(t, err, "ParseTail(%q)", bad)
	}
	for _, bad := range []string{"", "2m-4m", "2m-4m:x0.5", "4m-2m:x2", "2m-4m:fast"} {
		_, err := ParseSlowdown(bad)
		assert.Error(t, err, "ParseSlowdown(%q)", bad)
	}
	for _, bad := range []string{"", "30s-31s", "30s-31s:0", "31s-30s:5", "30s-31s:many"} {
		_, err := ParseBurst(bad)
		assert.Error(t, err, "ParseBurst(%q)", bad)
	}
}
