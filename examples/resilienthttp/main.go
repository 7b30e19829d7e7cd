// Resilienthttp calls a flaky HTTP server through a resilient client and
// prints what happened to each call:
//
//	go run ./examples/resilienthttp
//
// The server runs on loopback, started by the program. It follows a fixed
// script, by request number: it warms up with 503s, answers some requests
// slowly or drops their connection, then fails for long enough to open the
// client's circuit breaker, and recovers.
//
// The client has two layers:
//
//   - an http.Client whose Transport is an httptransport.Transport: every
//     request goes through a Workflow[*http.Response] that retries with
//     exponential backoff (3 attempts), times each attempt out after 1 s,
//     and has a circuit breaker (open after 5 failures among the last 5
//     outcomes, for 150 ms, then one trial call);
//   - above it, a Workflow[[]byte] for the body, whose FALLBACK answers a
//     failed call with the last good body (FallbackConfig.UseCache), or, when
//     there is none yet, with a fixed value.
//
// Each line says the call's outcome, how many requests it sent (attempts),
// where its body came from (network, cache or fallback), the status of the
// response the client got ("-" when it got an error), the breaker's state
// after the call, and what the server did with the call's requests.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/httptransport"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "resilienthttp:", err)
		os.Exit(1)
	}
}

// The client's settings.
const (
	// attemptTimeout is far above what a local round trip takes, even on
	// a loaded machine: at 100 ms, a request the scheduler delayed timed
	// out before the server saw it, and the script went out of step.
	attemptTimeout = time.Second
	openTimeout    = 150 * time.Millisecond
	calls          = 11
)

// Behaviour is what the server does with one request.
type Behaviour uint8

// The behaviours.
const (
	OK          Behaviour = iota // 200 and a quote numbered by the request
	Unavailable                  // 503
	Slow                         // no answer before the client gives up
	Drop                         // the connection is closed without an answer
)

// String returns what the server's log shows for the behaviour.
func (b Behaviour) String() string {
	return [...]string{"200", "503", "slow", "drop"}[b]
}

// script is what the server does with its requests, in order; requests
// past its end are answered OK.
var script = []Behaviour{
	Unavailable, Unavailable, Unavailable, // warming up: call 1 gets no quote
	OK,
	Unavailable, OK,
	Slow, OK,
	Drop, OK,
	Unavailable, Unavailable, Unavailable, // call 6: retries exhausted
	Unavailable, Unavailable, // call 7: the fifth failure in a row opens the breaker
	OK, OK,
}

// server is the flaky server: it numbers its requests from 1 and follows
// the script.
type server struct {
	mu  sync.Mutex // guards log
	log []Behaviour
}

// ServeHTTP answers a request as the script says.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.log) + 1
	b := OK
	if n <= len(script) {
		b = script[n-1]
	}
	s.log = append(s.log, b)
	s.mu.Unlock()

	switch b {
	case OK:
		fmt.Fprintf(w, "quote #%d", n)
	case Unavailable:
		http.Error(w, "warming up", http.StatusServiceUnavailable)
	case Slow:
		select {
		case <-r.Context().Done(): // the client timed the attempt out
		case <-time.After(10 * attemptTimeout):
			fmt.Fprintf(w, "quote #%d, late", n)
		}
	case Drop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}
}

// since returns what the server did with its requests after the first
// from, and how many it has had.
func (s *server) since(from int) ([]Behaviour, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Behaviour(nil), s.log[from:]...), len(s.log)
}

// counter is a RoundTripper that counts the requests sent through it: the
// attempts the transport's workflow makes.
type counter struct {
	base http.RoundTripper
	sent atomic.Int64
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.sent.Add(1)
	return c.base.RoundTrip(req)
}

// client is the two-layer client.
type client struct {
	url       string
	http      *http.Client
	transport *errorrecovery.Workflow[*http.Response]
	quotes    *errorrecovery.Workflow[[]byte]
	counter   *counter
	halfOpen  chan struct{} // signalled when the breaker goes half-open
}

func newClient(url string) (*client, error) {
	c := &client{url: url, halfOpen: make(chan struct{}, 1)}

	// The transport layer: retry, breaker, attempt timeout.
	rc := errorrecovery.DefaultRetryConfig[*http.Response]()
	rc.MaxAttempts, rc.InitialDelay, rc.MaxDelay = 3, 5*time.Millisecond, 50*time.Millisecond
	bc := breaker.DefaultConfig()
	bc.FailureThreshold, bc.WindowSize, bc.WindowDuration = 5, 5, breaker.CountOnly
	bc.OpenTimeout, bc.SuccessThreshold = openTimeout, 1
	bc.OnHalfOpen = func(from, to breaker.State) {
		select {
		case c.halfOpen <- struct{}{}:
		default:
		}
	}
	var err error
	c.transport, err = errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[*http.Response]{
		Primary:  errorrecovery.StrategyRetry,
		Retry:    &rc,
		Breaker:  &bc,
		Deadline: &errorrecovery.DeadlineConfig{AttemptTimeout: attemptTimeout},
	})
	if err != nil {
		return nil, err
	}
	// Without keep-alives every attempt dials afresh. With them, net/http
	// itself resends an idempotent request whose reused connection the
	// server dropped, which would hide the Drop from the transport's
	// workflow (and shift the script by one request).
	c.counter = &counter{base: &http.Transport{DisableKeepAlives: true}}
	c.http = &http.Client{Transport: httptransport.New(c.transport, httptransport.WithBase(c.counter))}

	// The body layer: the last good body, or a fixed value, on failure.
	fb := errorrecovery.DefaultFallbackConfig[[]byte]()
	fb.UseCache, fb.CacheTTL = true, time.Minute
	fb.Key = func(context.Context) string { return c.url } // one URL: one entry
	fb.Value, fb.HasValue = []byte("no quote yet"), true
	c.quotes, err = errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[[]byte]{
		Primary:  errorrecovery.StrategyFallback,
		Fallback: &fb,
	})
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// close stops the breaker's timer and closes idle connections.
func (c *client) close() {
	c.transport.Breaker().Close()
	c.http.CloseIdleConnections()
}

// record is what happened to one call.
type record struct {
	attempts int64
	source   errorrecovery.Source
	status   int   // of the response the client got; 0 when none
	err      error // the transport's error or the bad status, when the call failed
	body     []byte
	breaker  breaker.State
}

// get makes one call: a GET through both layers.
func (c *client) get(ctx context.Context) (record, error) {
	var rec record
	before := c.counter.sent.Load()
	res, err := c.quotes.ExecuteResult(ctx, func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
		if err != nil {
			return nil, errorrecovery.Permanent(err)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			rec.err = err
			return nil, err
		}
		defer resp.Body.Close()
		rec.status = resp.StatusCode
		body, err := io.ReadAll(resp.Body)
		switch {
		case err != nil:
			rec.err = err
		case resp.StatusCode != http.StatusOK:
			rec.err = fmt.Errorf("status %s", resp.Status)
		}
		return body, rec.err
	})
	if err != nil {
		return rec, err // no fallback answered: cannot happen with a fallback value
	}
	rec.attempts = c.counter.sent.Load() - before
	rec.source, rec.body = res.Source, res.Value
	rec.breaker = c.transport.Breaker().State()
	return rec, nil
}

// outcome says in a few words how a call went.
func (r record) outcome() string {
	switch {
	case r.err == nil && r.attempts == 1:
		return "ok"
	case r.err == nil:
		return "ok after retries"
	case errors.Is(r.err, breaker.ErrOpen) && r.attempts == 0:
		return "rejected: breaker open"
	case errors.Is(r.err, breaker.ErrOpen):
		return "breaker opened"
	case r.status != 0 || errors.Is(r.err, errorrecovery.ErrExhausted):
		return "retries exhausted"
	}
	return "failed"
}

// sourceName names where a call's body came from.
func sourceName(s errorrecovery.Source) string {
	switch s {
	case errorrecovery.SourceFunction:
		return "network"
	case errorrecovery.SourceFallbackCache:
		return "cache"
	case errorrecovery.SourceFallbackValue:
		return "fallback"
	}
	return s.String()
}

func statusText(code int) string {
	if code == 0 {
		return "-"
	}
	return fmt.Sprint(code)
}

// run starts the server, makes the calls and prints a line for each to w.
func run(w io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &server{}
	hs := &http.Server{Handler: srv}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	defer func() {
		hs.Close()
		<-served
	}()

	c, err := newClient("http://" + ln.Addr().String() + "/quote")
	if err != nil {
		return err
	}
	defer c.close()

	var out strings.Builder
	ctx := context.Background()
	seen := 0
	for i := range calls {
		n := i + 1
		if n == 10 {
			// Calls 8 and 9 came while the breaker was open; wait until it
			// lets a trial call through.
			fmt.Fprintf(&out, "... waiting for the breaker to go half-open (%v)\n", openTimeout)
			select {
			case <-c.halfOpen:
			case <-time.After(10 * openTimeout):
				return errors.New("the breaker did not go half-open")
			}
		}
		rec, err := c.get(ctx)
		if err != nil {
			return fmt.Errorf("call %d: %w", n, err)
		}
		var did []Behaviour
		did, seen = srv.since(seen)
		fmt.Fprintf(&out, "call %2d: %-22s attempts=%d source=%-8s status=%-3s breaker=%-9s server=%v body=%q\n",
			n, rec.outcome(), rec.attempts, sourceName(rec.source), statusText(rec.status), rec.breaker, did, rec.body)
	}
	m := c.transport.Metrics()
	fmt.Fprintf(&out, "transport: %d round trips, %d requests, %d retries, %d rejected by the breaker\n",
		m.Executions, m.Calls, m.Retries, m.Rejections)
	_, err = io.WriteString(w, out.String())
	return err
}
