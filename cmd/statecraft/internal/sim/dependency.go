package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Dependency is the simulated service a workflow protects. Each call
// draws a latency and whether it fails, sleeps the latency on the
// simulation's clock (ending early, with the context's error, at the
// attempt's deadline) and then answers or fails with a 503. A call made
// during an outage fails at once with a refused connection.
type Dependency struct {
	// FailureRate is the probability, in [0, 1], that a call outside an
	// outage fails with a 503 (an error with StatusCode 503, of the error
	// class status5xx).
	FailureRate float64
	// Latency is the distribution of a call's duration.
	Latency Latency
	// Outages are windows of time, from the start of the simulation, in
	// which every call fails at once with a refused connection (the error
	// class connection).
	Outages []Window
	// Tail, when its Share is above zero, makes that share of the calls
	// slow: each takes Tail.Latency instead of a draw from Latency (a
	// garbage collection, a cold cache, a retransmitted packet). It is
	// what hedging is for.
	Tail Tail
	// Slowdowns are windows of time in which the latency of every call
	// that starts in them is multiplied by a factor: the dependency
	// degrades, then recovers. It is what an adaptive limit is for.
	Slowdowns []Slowdown
	// Capacity, when above zero, is the number of calls the dependency
	// serves at once at their latency: a call that starts with n > Capacity
	// calls in progress (itself included) takes n/Capacity times its
	// latency, as a server sharing itself among more calls than it has
	// workers. So a queue of calls slows every call down, and a slowdown
	// that lets calls pile up feeds on itself: what an adaptive limit
	// prevents. Zero means no bound.
	Capacity int
	// Hosts is the number of hosts the dependency runs on, named h1, h2
	// and so on; zero means one. Each execution is sent to one host,
	// drawn at random when it arrives, and its retries go to the same
	// host (the context of its calls says which: HostOf). Result.Hosts
	// reports each host.
	Hosts int
	// HostOutages are windows of time in which the first host, h1, alone
	// refuses every call, as a host that is down, while the others
	// answer as usual. They need Hosts of 2 or more.
	HostOutages []Window
}

// Tail is the slow tail of a latency distribution: Share of the calls,
// in [0, 1], take Latency.
type Tail struct {
	Share   float64
	Latency time.Duration
}

// ParseTail parses a tail as the --tail flag takes it: "0.05:2s", 5% of
// the calls taking 2s.
func ParseTail(s string) (Tail, error) {
	a, b, ok := strings.Cut(s, ":")
	share, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	d, err2 := time.ParseDuration(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || !(share >= 0 && share <= 1) || d < 0 {
		return Tail{}, fmt.Errorf("tail %q: want SHARE:LATENCY with a share in [0, 1], such as 0.05:2s", s)
	}
	return Tail{Share: share, Latency: d}, nil
}

// String returns the tail as ParseTail reads it.
func (t Tail) String() string {
	return strconv.FormatFloat(t.Share, 'g', -1, 64) + ":" + t.Latency.String()
}

// Slowdown multiplies the latency of the calls that start in Window by
// Factor, at least 1.
type Slowdown struct {
	Window
	Factor float64
}

// ParseSlowdown parses a slowdown as the --slowdown flag takes it:
// "2m-4m:x5", the calls that start between minutes 2 and 4 taking five
// times their latency.
func ParseSlowdown(s string) (Slowdown, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return Slowdown{}, fmt.Errorf("slowdown %q: want START-END:xFACTOR, such as 2m-4m:x5", s)
	}
	w, err := ParseWindow(a)
	if err != nil {
		return Slowdown{}, fmt.Errorf("slowdown %q: %w", s, err)
	}
	f, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(b), "x"), 64)
	if err != nil || !(f >= 1 && f <= maxFactor) {
		return Slowdown{}, fmt.Errorf("slowdown %q: want a factor from x1 to x%d, such as x5", s, maxFactor)
	}
	return Slowdown{Window: w, Factor: f}, nil
}

// maxFactor bounds a Slowdown's Factor.
const maxFactor = 1000

// String returns the slowdown as ParseSlowdown reads it.
func (s Slowdown) String() string {
	return s.Window.String() + ":x" + strconv.FormatFloat(s.Factor, 'g', -1, 64)
}

// check reports what is wrong with d, or nil.
func (d *Dependency) check() error {
	switch {
	case !(d.FailureRate >= 0 && d.FailureRate <= 1):
		return fmt.Errorf("sim: failure rate %v: want a number in [0, 1]", d.FailureRate)
	case !(d.Tail.Share >= 0 && d.Tail.Share <= 1) || d.Tail.Latency < 0:
		return fmt.Errorf("sim: tail %v: want a share in [0, 1] and a latency >= 0", d.Tail)
	case d.Capacity < 0:
		return fmt.Errorf("sim: capacity %d: want 0 (no bound) or more", d.Capacity)
	case d.Hosts < 0 || d.Hosts > MaxHosts:
		return fmt.Errorf("sim: hosts %d: want 0 to %d", d.Hosts, MaxHosts)
	case len(d.HostOutages) > 0 && d.Hosts < 2:
		return fmt.Errorf("sim: host outages need 2 hosts or more, not %d", d.Hosts)
	}
	for _, s := range d.Slowdowns {
		if !(s.Factor >= 1 && s.Factor <= maxFactor) {
			return fmt.Errorf("sim: slowdown %v: want a factor from 1 to %d", s, maxFactor)
		}
	}
	return nil
}

// latency draws the latency of a call that starts at elapsed with
// inFlight calls in progress, itself included.
func (d *Dependency) latency(r *rand.Rand, elapsed time.Duration, inFlight int) time.Duration {
	l := d.Latency.sample(r)
	if d.Tail.Share > 0 && r.Float64() < d.Tail.Share {
		l = d.Tail.Latency
	}
	f := 1.0
	for _, s := range d.Slowdowns {
		if elapsed >= s.Start && elapsed < s.End {
			f *= s.Factor
		}
	}
	if d.Capacity > 0 && inFlight > d.Capacity {
		f *= float64(inFlight) / float64(d.Capacity)
	}
	if f == 1 {
		return l
	}
	if v := float64(l) * f; v < math.MaxInt64 {
		return time.Duration(v)
	}
	return time.Duration(math.MaxInt64)
}

// inOutage reports whether elapsed falls in an outage of host (0 is
// h1).
func (d *Dependency) inOutage(elapsed time.Duration, host int) bool {
	in := func(ws []Window) bool {
		for _, w := range ws {
			if elapsed >= w.Start && elapsed < w.End {
				return true
			}
		}
		return false
	}
	return in(d.Outages) || (host == 0 && in(d.HostOutages))
}

// UnavailableError is the failure of a simulated call outside an outage:
// an HTTP 503.
type UnavailableError struct{}

// Error describes the failure.
func (UnavailableError) Error() string { return "simulated dependency: 503 Service Unavailable" }

// StatusCode returns 503.
func (UnavailableError) StatusCode() int { return 503 }

// errOutage is the failure of a call during an outage: the connection is
// refused, as by a service that is down.
var errOutage error = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

// LatencyKind names a latency distribution.
type LatencyKind uint8

// The distributions.
const (
	Constant    LatencyKind = iota // always A
	Uniform                        // uniform in [A, B)
	Exponential                    // exponential with mean A
	LogNormal                      // log-normal with median A (e^mu) and shape Sigma
)

// Latency is a distribution of call durations. Its zero value is a
// constant zero.
type Latency struct {
	Kind LatencyKind
	// A is the constant, the minimum, the mean or the median, as Kind
	// says; B is a uniform distribution's maximum.
	A, B time.Duration
	// Sigma is a log-normal distribution's shape.
	Sigma float64
}

// ParseLatency parses a latency distribution as the --latency flag takes
// it: "const:50ms" (or just "50ms"), "uniform:10ms,100ms", "exp:50ms" (the
// mean), or "lognormal:50ms,0.5" (the median, that is e^mu, and sigma).
func ParseLatency(s string) (Latency, error) {
	kind, args, ok := strings.Cut(s, ":")
	if !ok {
		kind, args = "const", s
	}
	parts := strings.Split(args, ",")
	want := func(n int, form string) error {
		if len(parts) != n {
			return fmt.Errorf("latency %q: want %s", s, form)
		}
		return nil
	}
	dur := func(i int) (time.Duration, error) {
		d, err := time.ParseDuration(strings.TrimSpace(parts[i]))
		if err != nil || d < 0 {
			return 0, fmt.Errorf("latency %q: %q is not a duration >= 0 such as 50ms", s, parts[i])
		}
		return d, nil
	}
	var l Latency
	var err error
	switch kind {
	case "const", "constant":
		l.Kind = Constant
		if err = want(1, "const:DURATION"); err == nil {
			l.A, err = dur(0)
		}
	case "uniform":
		l.Kind = Uniform
		if err = want(2, "uniform:MIN,MAX"); err == nil {
			if l.A, err = dur(0); err == nil {
				l.B, err = dur(1)
			}
			if err == nil && l.B < l.A {
				err = fmt.Errorf("latency %q: MAX is less than MIN", s)
			}
		}
	case "exp", "exponential":
		l.Kind = Exponential
		if err = want(1, "exp:MEAN"); err == nil {
			l.A, err = dur(0)
		}
	case "lognormal":
		l.Kind = LogNormal
		if err = want(2, "lognormal:MEDIAN,SIGMA"); err == nil {
			if l.A, err = dur(0); err == nil {
				l.Sigma, err = strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
				if err != nil || l.Sigma < 0 || math.IsInf(l.Sigma, 0) || math.IsNaN(l.Sigma) {
					err = fmt.Errorf("latency %q: SIGMA %q is not a number >= 0", s, parts[1])
				}
			}
		}
	default:
		err = fmt.Errorf("latency %q: unknown distribution %q (want const, uniform, exp or lognormal)", s, kind)
	}
	return l, err
}

// String returns the distribution as ParseLatency reads it.
func (l Latency) String() string {
	switch l.Kind {
	case Uniform:
		return "uniform:" + l.A.String() + "," + l.B.String()
	case Exponential:
		return "exp:" + l.A.String()
	case LogNormal:
		return "lognormal:" + l.A.String() + "," + strconv.FormatFloat(l.Sigma, 'g', -1, 64)
	}
	return "const:" + l.A.String()
}

// sample draws one latency from r.
func (l Latency) sample(r *rand.Rand) time.Duration {
	var v float64
	switch l.Kind {
	case Constant:
		return l.A
	case Uniform:
		v = float64(l.A) + r.Float64()*float64(l.B-l.A)
	case Exponential:
		v = r.ExpFloat64() * float64(l.A)
	case LogNormal:
		v = float64(l.A) * math.Exp(l.Sigma*r.NormFloat64())
	}
	if !(v < math.MaxInt64) { // also catches NaN
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(v)
}

// Window is a span of time from the start of a simulation, [Start, End).
type Window struct {
	Start, End time.Duration
}

// ParseWindow parses a window as the --outage flag takes it: "10m-20m".
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("outage %q: want START-END, such as 10m-20m", s)
	}
	start, err1 := time.ParseDuration(a)
	end, err2 := time.ParseDuration(b)
	switch {
	case err1 != nil || err2 != nil:
		return Window{}, fmt.Errorf("outage %q: want START-END with Go durations, such as 10m-20m", s)
	case start < 0 || end <= start:
		return Window{}, fmt.Errorf("outage %q: want 0 <= START < END", s)
	}
	return Window{start, end}, nil
}

// String returns the window as ParseWindow reads it.
func (w Window) String() string { return w.Start.String() + "-" + w.End.String() }
