package sim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// What an execution meets besides the workflow: bursts of arrivals on top
// of the steady ones, the host it is sent to, and the load the dependency
// sees in each span of time.

// Burst is a spike of traffic: Executions more executions arriving evenly
// over Window, on top of Options.Executions.
type Burst struct {
	Window
	Executions int
}

// ParseBurst parses a burst as the --burst flag takes it: "30s-31s:500",
// 500 executions arriving evenly within the second after 30s.
func ParseBurst(s string) (Burst, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return Burst{}, fmt.Errorf("burst %q: want START-END:EXECUTIONS, such as 30s-31s:500", s)
	}
	w, err := ParseWindow(a)
	if err != nil {
		return Burst{}, fmt.Errorf("burst %q: %w", s, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(b))
	if err != nil || n < 1 || n > MaxExecutions {
		return Burst{}, fmt.Errorf("burst %q: want from 1 to %d executions", s, MaxExecutions)
	}
	return Burst{Window: w, Executions: n}, nil
}

// String returns the burst as ParseBurst reads it.
func (b Burst) String() string { return b.Window.String() + ":" + strconv.Itoa(b.Executions) }

// total returns the executions of o, bursts included, or an error when
// they pass MaxExecutions.
func (o *Options) total() (int, error) {
	n := o.Executions
	for _, b := range o.Bursts {
		if b.Executions < 1 || b.Start < 0 || b.End <= b.Start {
			return 0, fmt.Errorf("sim: burst %v: want a window 0 <= START < END and at least 1 execution", b)
		}
		n += b.Executions
		if n > MaxExecutions {
			return 0, fmt.Errorf("sim: %d executions with the bursts: want at most %d", n, MaxExecutions)
		}
	}
	return n, nil
}

// planBursts arms the first arrival of each burst; each arrival arms the
// next of its burst.
func (s *sim) planBursts() {
	for _, b := range s.opts.Bursts {
		var next func(i int) func()
		next = func(i int) func() {
			return func() {
				if !s.start() || i+1 == b.Executions {
					return
				}
				at := b.Start + time.Duration(float64(i+1)*float64(b.End-b.Start)/float64(b.Executions))
				s.sched.AfterFunc(at-s.elapsed(), next(i+1))
			}
		}
		s.sched.AfterFunc(b.Start, next(0))
	}
}

// MaxHosts bounds Dependency.Hosts: a host has a row in the result.
const MaxHosts = 1000

// HostStats describe one host of the dependency: the executions sent to
// it, by outcome, and its calls.
type HostStats struct {
	// Host is its name: h1, h2 and so on. h1 is the one HostOutages
	// take down.
	Host string
	// Executions sent to it, and how they ended (as Result's).
	Executions, Succeeded, Fallbacks, Failed int
	// Calls counts its calls, CallsFailed those that failed (refused,
	// a 503, cut by a deadline).
	Calls, CallsFailed int
	// With a breaker per host (a workflow's PerKey): BreakerOpens counts
	// the times the host's breaker opened, and Breaker is its state at
	// the end ("" with no breaker of its own).
	BreakerOpens int
	Breaker      string
}

// hostKey is the context key of an execution's host.
type hostKey struct{}

// withHost returns ctx carrying host, for HostOf and, as the key of the
// calls made with it (errorrecovery.WithKey), for a workflow that keeps
// machines per key with the config's per_key.key: host.
func withHost(ctx context.Context, host int) context.Context {
	name := hostName(host)
	return errorrecovery.WithKey(context.WithValue(ctx, hostKey{}, name), name)
}

func hostName(i int) string { return "h" + strconv.Itoa(i+1) }

// HostOf returns the host an execution's calls go to, from the context
// the workflow gives the function (or one derived from it): "h1", "h2"
// and so on; "" when the dependency has one host. A per-key workflow
// keys its machines with it.
func HostOf(ctx context.Context) string {
	h, _ := ctx.Value(hostKey{}).(string)
	return h
}

// host returns the stats of host i; with one host, a scratch that the
// result does not keep.
func (s *sim) host(i int) *HostStats {
	if s.opts.Dependency.Hosts < 2 {
		return &s.load.scratch
	}
	if s.res.Hosts == nil {
		s.res.Hosts = make([]HostStats, s.opts.Dependency.Hosts)
		for j := range s.res.Hosts {
			s.res.Hosts[j].Host = hostName(j)
		}
	}
	return &s.res.Hosts[i]
}

// loadWatch counts the calls the dependency receives over time.
type loadWatch struct {
	second, n int64 // the whole second of virtual time of the last call, and its calls so far
	inFlight  int   // calls the dependency is serving
	peak      int   // the most inFlight
	scratch   HostStats
}

// serve counts a call the dependency starts serving (one not refused).
func (w *loadWatch) serve() {
	w.inFlight++
	w.peak = max(w.peak, w.inFlight)
}

// call counts a call made at elapsed: in the timeline's row of its time
// (not its execution's arrival) and in its second.
func (w *loadWatch) call(s *sim, elapsed time.Duration) {
	if t := s.res.Timeline; len(t) > 0 {
		t[min(int(elapsed/s.bucketWidth()), len(t)-1)].Calls++
	}
	// Calls come in time order, so a second is over when a call of a
	// later one comes.
	if sec := int64(elapsed / time.Second); sec != w.second {
		w.second, w.n = sec, 0
	}
	w.n++
	if w.n > int64(s.res.PeakCalls) {
		s.res.PeakCalls, s.res.PeakSecond = int(w.n), time.Duration(w.second)*time.Second
	}
}

// keyedStep follows a step of a machine the workflow keeps per key,
// which reaches the workflow's observer: a breaker that opens is the
// breaker of the host of the execution whose outcome opened it (the
// execution running: a breaker opens on an outcome, never on a timer).
func (s *sim) keyedStep(r engine.Record) {
	if r.Transition < 0 || r.From == r.To || r.To != breaker.StateOpen.String() || s.sched.cur == nil {
		return
	}
	s.host(s.sched.cur.host).BreakerOpens++
}

// finishHosts sets each host's breaker state at the end, when the
// workflow keeps a breaker per key.
func (s *sim) finishHosts() {
	byKey := s.wf.HealthByKey()
	for i := range s.res.Hosts {
		if h, ok := byKey[s.res.Hosts[i].Host]; ok && h.HasBreaker {
			s.res.Hosts[i].Breaker = h.Breaker.String()
		}
	}
}
