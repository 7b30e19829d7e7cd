// Bulkheads runs a small HTTP service that calls three dependencies
// (compute, io and a database), each through a bulkhead of its own
// (bulkhead.Bulkhead) with its own number of slots, queue and
// queue timeout. It fires a burst of 60 requests at once and shows:
//
//   - how each bulkhead sorts its share of the burst: so many run at
//     once, so many wait in its queue, and the rest are rejected at once
//     with 503 Service Unavailable;
//   - that a slow dependency (the database) does not starve the others:
//     compute and io answer everything they admitted while every database
//     slot is still taken, and new requests to them still get through,
//     while a new database request is turned away at once.
//
// Run it with
//
//	go run ./examples/bulkheads
//
// The server listens on a loopback port chosen by the system. The fake
// dependencies hold every call until the example lets them answer, so the
// counts printed are exact and do not depend on the scheduler.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// burstPerEndpoint is how many requests of the burst go to each endpoint.
const burstPerEndpoint = 20

// configs are the bulkheads, one per dependency. Compute is bounded by
// the CPUs, io by the connections worth opening, the database by its small
// connection pool; each queue holds a short burst, and a request that
// waits longer than its queue timeout gets 503 too.
var configs = []struct {
	name string
	cfg  bulkhead.Config
}{
	{"compute", bulkhead.Config{MaxConcurrent: 4, MaxQueueSize: 4, QueueTimeout: 5 * time.Second}},
	{"io", bulkhead.Config{MaxConcurrent: 8, MaxQueueSize: 8, QueueTimeout: 10 * time.Second}},
	{"database", bulkhead.Config{MaxConcurrent: 2, MaxQueueSize: 4, QueueTimeout: 30 * time.Second}},
}

// main runs the demo and prints it to standard output.
func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bulkheads:", err)
		os.Exit(1)
	}
}

// dependency is a fake downstream dependency behind its bulkhead, with
// what the clients saw of its endpoint.
type dependency struct {
	name     string
	cfg      bulkhead.Config
	bulkhead *bulkhead.Bulkhead

	gate    chan struct{} // closed when the dependency may answer; until then every call waits
	once    sync.Once     // closes gate
	changed chan struct{} // poked (never blocks) whenever the bulkhead's counts may have changed

	wg sync.WaitGroup // the burst's requests in flight, client side

	mu       sync.Mutex  // guards the fields below
	running  int         // calls inside the dependency now
	peak     int         // the most calls ever inside it at once
	statuses map[int]int // HTTP status the endpoint's clients got → how many got it
}

// newDependency returns the dependency named name behind a bulkhead
// configured by cfg.
func newDependency(name string, cfg bulkhead.Config) (*dependency, error) {
	d := &dependency{name: name, cfg: cfg, gate: make(chan struct{}), changed: make(chan struct{}, 1), statuses: map[int]int{}}
	// The observer sees every step of the bulkhead's machine: a call
	// taking a slot, joining the queue, being rejected, a slot released.
	watch := engine.ObserverFunc(func(engine.Record) { d.poke() })
	var err error
	d.bulkhead, err = bulkhead.New(cfg, engine.WithObserver(watch))
	return d, err
}

// poke tells whoever waits on changed that the counts may have changed.
func (d *dependency) poke() {
	select {
	case d.changed <- struct{}{}:
	default: // a poke is pending already
	}
}

// call is the dependency's work: it waits until the dependency may
// answer, or the request is abandoned.
func (d *dependency) call(ctx context.Context) error {
	d.mu.Lock()
	d.running++
	d.peak = max(d.peak, d.running)
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.running--
		d.mu.Unlock()
	}()
	select {
	case <-d.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeHTTP calls the dependency through its bulkhead. A request the
// bulkhead does not admit gets 503 with a Retry-After header and a body
// that says why.
func (d *dependency) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	err := d.bulkhead.Protect(r.Context(), d.call)
	d.poke() // a rejection is counted before Protect returns
	var be *bulkhead.Error
	switch {
	case err == nil:
		fmt.Fprintf(w, "%s: done\n", d.name)
	case errors.As(err, &be):
		w.Header().Set("Retry-After", "1")
		http.Error(w, d.busy(be), http.StatusServiceUnavailable)
	default:
		http.Error(w, d.name+": "+err.Error(), http.StatusBadGateway)
	}
}

// busy says in words why the bulkhead turned a request away.
func (d *dependency) busy(be *bulkhead.Error) string {
	switch be.Reason {
	case bulkhead.ReasonFull:
		return fmt.Sprintf("%s is at capacity: every slot (%d) is busy and the queue (%d) is full; try again later", d.name, be.MaxConcurrent, be.MaxQueueSize)
	case bulkhead.ReasonTimedOut:
		return fmt.Sprintf("%s did not free a slot within %v; try again later", d.name, be.QueueTimeout)
	}
	return fmt.Sprintf("%s is unavailable: %v", d.name, be.Reason)
}

// sorted waits until the bulkhead has sorted n requests (every one is
// running, queued, rejected or finished), or ctx ends.
func (d *dependency) sorted(ctx context.Context, n int) error {
	for {
		m := d.bulkhead.Metrics()
		if m.Active+m.Queued+int(m.Completed+m.Rejected+m.TimedOut+m.Cancelled) == n {
			return nil
		}
		select {
		case <-d.changed:
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %d requests to be sorted: %w", d.name, n, ctx.Err())
		}
	}
}

// Summary is what happened to one dependency, for the test.
type Summary struct {
	Burst    bulkhead.Metrics // once the burst was sorted, before any answer
	Final    bulkhead.Metrics // at the end
	Statuses map[int]int      // HTTP statuses the clients got, the extra requests included
	Peak     int              // the most calls inside the dependency at once
}

// run starts the service, fires the burst, prints what happens to w and
// returns a summary per dependency. Every wait ends on a condition (a
// count reached, a response received); ctx bounds them all.
func run(ctx context.Context, w io.Writer) (map[string]Summary, error) {
	var deps []*dependency
	mux := http.NewServeMux()
	for _, c := range configs {
		d, err := newDependency(c.name, c.cfg)
		if err != nil {
			return nil, err
		}
		deps = append(deps, d)
		mux.Handle("GET /"+d.name, d)
	}
	computeDep, ioDep, dbDep := deps[0], deps[1], deps[2]
	srv, err := startServer(mux)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{}}
	// However the run ends, let every held call go, wait for the burst's
	// clients, and stop the server, so that no goroutine is left behind.
	defer func() {
		for _, d := range deps {
			d.answer()
			d.wg.Wait()
			d.bulkhead.Close(context.Background())
		}
		client.CloseIdleConnections()
		srv.close()
	}()

	fmt.Fprintln(w, "A service calls three dependencies, each through a bulkhead of its own:")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %-10s %6s %6s %14s\n", "dependency", "slots", "queue", "queue timeout")
	for _, d := range deps {
		fmt.Fprintf(w, "  %-10s %6d %6d %14v\n", d.name, d.cfg.MaxConcurrent, d.cfg.MaxQueueSize, d.cfg.QueueTimeout)
	}

	// 1. The burst. Each dependency holds its calls, so each bulkhead
	// ends up with every slot taken, its queue full, and the rest
	// rejected.
	fmt.Fprintln(w)
	fmt.Fprintf(w, "A burst of %d requests arrives at once, %d to each of /compute, /io and /database.\n", burstPerEndpoint*len(deps), burstPerEndpoint)
	fmt.Fprintln(w, "Every dependency holds its calls until the whole burst is sorted, so the counts are exact:")
	for i := range burstPerEndpoint * len(deps) {
		d := deps[i%len(deps)] // mixed: compute, io, database, compute, …
		d.wg.Go(func() { d.record(fetch(ctx, client, srv.url+"/"+d.name)) })
	}
	for _, d := range deps {
		if err := d.sorted(ctx, burstPerEndpoint); err != nil {
			return nil, err
		}
	}
	sums := map[string]Summary{}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %-10s %8s %8s %15s   %s\n", "dependency", "running", "queued", "rejected (503)", "bulkhead state")
	for _, d := range deps {
		m := d.bulkhead.Metrics()
		sums[d.name] = Summary{Burst: m}
		fmt.Fprintf(w, "  %-10s %8d %8d %15d   %v\n", d.name, m.Active, m.Queued, m.Rejected, d.bulkhead.State())
	}

	// 2. Compute and io answer; the database stays slow. Everything
	// compute and io admitted is answered, their queued requests included,
	// while the database still holds every one of its slots.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Compute and io answer; the database stays slow.")
	for _, d := range []*dependency{computeDep, ioDep} {
		d.answer()
		d.wg.Wait()
		fmt.Fprintf(w, "  /%-9s all %d answered: %s\n", d.name, burstPerEndpoint, d.statusLine())
	}
	m := dbDep.bulkhead.Metrics()
	fmt.Fprintf(w, "  /%-9s meanwhile still %d running and %d queued (%v): its slowness stays in its own bulkhead\n",
		dbDep.name, m.Active, m.Queued, dbDep.bulkhead.State())

	// 3. New requests while the database is stuck: compute still gets
	// through at once; the database turns them away at once rather than
	// letting them pile up.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Two new requests while the database is still stuck:")
	for _, d := range []*dependency{computeDep, dbDep} {
		r := fetch(ctx, client, srv.url+"/"+d.name)
		if r.err != nil {
			return nil, r.err
		}
		d.record(r)
		fmt.Fprintf(w, "  GET /%-9s %d %s", d.name, r.status, http.StatusText(r.status))
		if ra := r.header.Get("Retry-After"); ra != "" {
			fmt.Fprintf(w, ", Retry-After: %s", ra)
		}
		fmt.Fprintf(w, ": %s\n", r.body)
	}

	// 4. The database answers at last.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The database answers at last.")
	dbDep.answer()
	dbDep.wg.Wait()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %-10s %9s %5s %5s %10s %9s   %s\n", "endpoint", "requests", "200", "503", "completed", "rejected", "most calls at once")
	for _, d := range deps {
		m := d.bulkhead.Metrics()
		d.mu.Lock()
		st, peak := maps.Clone(d.statuses), d.peak
		d.mu.Unlock()
		n := 0
		for _, c := range st {
			n += c
		}
		sums[d.name] = Summary{Burst: sums[d.name].Burst, Final: m, Statuses: st, Peak: peak}
		fmt.Fprintf(w, "  /%-9s %9d %5d %5d %10d %9d   %d (of %d slots)\n",
			d.name, n, st[http.StatusOK], st[http.StatusServiceUnavailable], m.Completed, m.Rejected, peak, d.cfg.MaxConcurrent)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "(200 and 503 are what the clients got; completed and rejected are the bulkheads' own metrics.)")
	return sums, nil
}

// answer lets the dependency answer: every call held returns, and later
// ones do not wait. Calling it again does nothing.
func (d *dependency) answer() {
	d.once.Do(func() { close(d.gate) })
}

// response is what a client got for one request.
type response struct {
	status int
	header http.Header
	body   string
	err    error
}

// fetch sends a GET request to url and reads the whole answer.
func fetch(ctx context.Context, client *http.Client, url string) response {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: strings.TrimSpace(string(b)), err: err}
}

// record counts a response's status; a request that failed counts as
// status 0.
func (d *dependency) record(r response) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.err != nil {
		r.status = 0
	}
	d.statuses[r.status]++
}

// statusLine lists the statuses the endpoint's clients got, such as
// "8 × 200 OK, 12 × 503 Service Unavailable".
func (d *dependency) statusLine() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(d.statuses)) {
		parts = append(parts, fmt.Sprintf("%d × %d %s", d.statuses[code], code, http.StatusText(code)))
	}
	return strings.Join(parts, ", ")
}

// server is the HTTP server on a loopback port.
type server struct {
	srv  *http.Server
	url  string
	done chan struct{} // closed when Serve has returned
}

// startServer serves h on 127.0.0.1, on a port the system chooses.
func startServer(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, url: "http://" + ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln) // returns http.ErrServerClosed once closed
	}()
	return s, nil
}

// close stops the server and its connections, and waits for Serve to
// return.
func (s *server) close() {
	s.srv.Close()
	<-s.done
}
