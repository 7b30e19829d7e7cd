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
}

// inOutage reports whether elapsed falls in an outage.
func (d *Dependency) inOutage(elapsed time.Duration) bool {
	for _, w := range d.Outages {
		if elapsed >= w.Start && elapsed < w.End {
			return true
		}
	}
	return false
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
