package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/statecraft/statecraft/cmd/statecraft/internal/sim"
	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// defaultSpeed is demo --serve's pace: a simulated minute every two
// seconds, so the hour runs in two minutes and the outage (minutes 20 to
// 30) opens the breaker 40 seconds in and lets it close again 20 seconds
// later.
const defaultSpeed = 30

// The names the demo's machines go by in the inspector. The breaker's and
// the bulkhead's are those sim.Options.Observe is called with, so that
// each machine's observer and registration meet under one name.
const (
	serveWorkflow = "layered"
	serveBreaker  = "breaker"
	serveBulkhead = "bulkhead"
)

// serveDemo implements "statecraft demo --serve ADDR": the demo's
// simulation paced on the wall clock (speed simulated seconds a second,
// or env.Pace), its workflow, breaker and bulkhead registered in an
// inspector served at addr. When the simulated hour is over the inspector
// goes on serving what it showed last; the command ends, with status 0,
// when env.Context is done (Ctrl-C).
func serveDemo(env *Env, cfg errorrecovery.ErrorRecoveryConfig[any], opts sim.Options, addr string, speed float64) int {
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	in := inspect.New(nil)
	var iw *inspect.Workflow[any]
	var setupErr error
	opts.Observe = func(machine string) engine.Option { return in.Observe(machine) }
	opts.Ready = func(wf *errorrecovery.Workflow[any]) {
		iw, setupErr = inspect.AddWorkflow(in, serveWorkflow, wf)
		if b := wf.Breaker(); b != nil && setupErr == nil {
			setupErr = inspect.AddMachine(in, serveBreaker, b)
		}
		if b := wf.Bulkhead(); b != nil && setupErr == nil {
			setupErr = inspect.AddMachine(in, serveBulkhead, b)
		}
	}
	opts.Traced = func(steps []engine.Record, err error) {
		if iw != nil {
			iw.Record(steps, err)
		}
	}
	pace := env.Pace
	if pace == nil {
		pace = wallPace(speed)
	}
	opts.Pace = func(elapsed time.Duration) error {
		if setupErr != nil {
			return setupErr
		}
		return pace(ctx, elapsed)
	}

	listen := env.Listen
	if listen == nil {
		listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	ln, err := listen(addr)
	if err != nil {
		return fail(env, "demo", err)
	}
	srv := &http.Server{
		Handler:           in,
		ReadHeaderTimeout: 10 * time.Second,
		// Requests end with the command, live update streams included.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		cancel()
		shut, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		if srv.Shutdown(shut) != nil {
			srv.Close()
		}
		<-served
	}()

	hour := time.Duration(float64(opts.Duration) / speed).Round(time.Second)
	fmt.Fprintf(env.Stdout, "statecraft demo: the inspector is at http://%s/\n", hostPort(ln.Addr()))
	if env.Pace == nil {
		fmt.Fprintf(env.Stdout, "the simulated %v runs in %v of real time, the outage from %v to %v; Ctrl-C stops it\n",
			opts.Duration, hour, opts.Dependency.Outages[0].Start, opts.Dependency.Outages[0].End)
	}
	if _, err := sim.Run(cfg, opts); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			fmt.Fprintln(env.Stdout, "statecraft demo: stopped")
			return ExitOK
		}
		return fail(env, "demo", err)
	}
	fmt.Fprintln(env.Stdout, "statecraft demo: the simulation is over; the inspector still shows it until Ctrl-C")
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "statecraft demo: stopped")
	return ExitOK
}

// wallPace returns a pace that holds the simulation back until the wall
// clock has run elapsed/speed since its first call.
func wallPace(speed float64) func(ctx context.Context, elapsed time.Duration) error {
	var start time.Time
	return func(ctx context.Context, elapsed time.Duration) error {
		if start.IsZero() {
			start = time.Now()
		}
		wait := time.Until(start.Add(time.Duration(float64(elapsed) / speed)))
		if wait <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// hostPort prints a listener's address as a URL's host, "localhost" for
// an unspecified one (":8080").
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
