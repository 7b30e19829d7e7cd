package httptransport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
	"github.com/statecraft/statecraft/patterns/errorrecovery/httptransport"
)

type config = er.ErrorRecoveryConfig[*http.Response]

// server is a loopback server that numbers the requests it gets (from 1),
// records their bodies and counts the connections it accepts.
type server struct {
	*httptest.Server
	conns  atomic.Int32
	mu     sync.Mutex
	bodies []string
}

func newServer(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(body))
		n := len(s.bodies)
		s.mu.Unlock()
		h(n, w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// received returns the bodies of the requests the server got, in order.
func (s *server) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func (s *server) hits() int { return len(s.received()) }

// failFirst answers the first n requests with 503 and a body, then 200 "ok".
func failFirst(n int) func(int, http.ResponseWriter, *http.Request) {
	return func(i int, w http.ResponseWriter, r *http.Request) {
		if i <= n {
			http.Error(w, fmt.Sprintf("busy %d", i), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}
}

// tracker is a base RoundTripper that counts the response bodies it hands
// out and those closed; when the test ends it checks that every one was
// closed, and closes its idle connections.
type tracker struct {
	base           *http.Transport
	opened, closed atomic.Int32
}

func newTracker(t *testing.T) *tracker {
	tr := &tracker{base: &http.Transport{}}
	t.Cleanup(func() {
		tr.base.CloseIdleConnections()
		assert.Equal(t, tr.opened.Load(), tr.closed.Load(), "response bodies closed, of those opened")
	})
	return tr
}

func (tr *tracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tr.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	tr.opened.Add(1)
	resp.Body = &trackedBody{ReadCloser: resp.Body, closed: &tr.closed}
	return resp, nil
}

// trackedBody counts its first Close.
type trackedBody struct {
	io.ReadCloser
	closed *atomic.Int32
	once   sync.Once
}

func (b *trackedBody) Close() error {
	b.once.Do(func() { b.closed.Add(1) })
	return b.ReadCloser.Close()
}

func newWorkflow(t *testing.T, cfg config, opts ...engine.Option) *er.Workflow[*http.Response] {
	t.Helper()
	wf, err := er.NewWorkflow(cfg, opts...)
	require.NoError(t, err)
	if b := wf.Breaker(); b != nil {
		t.Cleanup(b.Close)
	}
	return wf
}

// retrying is a retry of n attempts with no delay between them.
func retrying(n int) *er.RetryConfig[*http.Response] {
	r := er.DefaultRetryConfig[*http.Response]()
	r.MaxAttempts, r.InitialDelay = n, er.None
	return &r
}

// breaking opens after n failures in a count window, for an hour.
func breaking(n int) *breaker.Config {
	c := breaker.DefaultConfig()
	c.FailureThreshold, c.WindowDuration, c.OpenTimeout = n, breaker.CountOnly, time.Hour
	return &c
}

// roundTrip calls rt and checks the RoundTripper contract: a response or
// an error, never both.
func roundTrip(t *testing.T, rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	require.True(t, (resp == nil) != (err == nil), "RoundTrip returned response %v and error %v: want exactly one", resp, err)
	return resp, err
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	return req
}

// readBody reads and closes a response's body.
func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "reading the body")
	return string(b)
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		require.FailNow(t, "timed out waiting")
		panic("unreachable")
	}
}

type outcome struct {
	resp *http.Response
	err  error
}

func TestGetIsRetriedOn503UntilSuccess(t *testing.T) {
	srv := newServer(t, failFirst(2))
	tr := newTracker(t)
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(5)}), httptransport.WithBase(tr))

	resp, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	require.NoError(t, err)
	assert.EqualValues(t, 2, tr.closed.Load(), "bodies closed before the caller's: want the 2 failed ones")
	assert.Equal(t, "ok", readBody(t, resp), "body")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "status")
	assert.Equal(t, 3, srv.hits(), "requests the server got")
	assert.EqualValues(t, 1, srv.conns.Load(), "connections the server accepted: drained bodies let it be reused")
}

func TestOnlyIdempotentRequestsAreRetried(t *testing.T) {
	always := httptransport.WithRetryable(func(*http.Request) bool { return true })
	for _, tc := range []struct {
		name   string
		method string
		header string
		opts   []httptransport.Option
		hits   int
		status int
	}{
		{"GET", http.MethodGet, "", nil, 3, 200},
		{"PUT", http.MethodPut, "", nil, 3, 200},
		{"DELETE", http.MethodDelete, "", nil, 3, 200},
		{"POST", http.MethodPost, "", nil, 1, 503},
		{"PATCH", http.MethodPatch, "", nil, 1, 503},
		{"POST with Idempotency-Key", http.MethodPost, "Idempotency-Key", nil, 3, 200},
		{"POST with X-Idempotency-Key", http.MethodPost, "X-Idempotency-Key", nil, 3, 200},
		{"POST with WithRetryable", http.MethodPost, "", []httptransport.Option{always}, 3, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, failFirst(2))
			tr := newTracker(t)
			rt := httptransport.New(newWorkflow(t, config{Retry: retrying(5)}), append(tc.opts, httptransport.WithBase(tr))...)
			req := newRequest(t, tc.method, srv.URL, strings.NewReader("order 42"))
			if tc.header != "" {
				req.Header.Set(tc.header, "k-42")
			}
			resp, err := roundTrip(t, rt, req)
			require.NoError(t, err)
			body := readBody(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode, "status (body %q)", body)
			assert.Equal(t, tc.hits, srv.hits(), "requests the server got")
			for i, b := range srv.received() {
				assert.Equal(t, "order 42", b, "request %d's body", i+1)
			}
		})
	}
}

func TestNonIdempotentFailuresStillCountForTheBreaker(t *testing.T) {
	srv := newServer(t, failFirst(100))
	tr := newTracker(t)
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3), Breaker: breaking(2)}), httptransport.WithBase(tr))

	for range 2 {
		resp, err := roundTrip(t, rt, newRequest(t, http.MethodPost, srv.URL, strings.NewReader("x")))
		require.NoError(t, err)
		readBody(t, resp)
	}
	body := &closeCounter{Reader: strings.NewReader("x")}
	req := newRequest(t, http.MethodPost, srv.URL, body)
	_, err := roundTrip(t, rt, req)
	require.ErrorIs(t, err, breaker.ErrOpen, "third POST")
	assert.Equal(t, 2, srv.hits(), "requests the server got: want one per POST, none once open")
	assert.NotZero(t, body.closes.Load(), "the rejected request's body was not closed")
}

// closeCounter is a request body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closes atomic.Int32
}

func (c *closeCounter) Close() error {
	c.closes.Add(1)
	return nil
}

func TestRetryAfterIsHonouredOn429And503(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status int
		header func(now time.Time) string
		want   time.Duration
	}{
		{"503 delay-seconds", 503, func(time.Time) string { return "7" }, 7 * time.Second},
		{"429 HTTP-date", 429, func(now time.Time) string { return now.Add(30 * time.Second).Format(http.TimeFormat) }, 30 * time.Second},
		{"503 HTTP-date in the past", 503, func(now time.Time) string { return now.Add(-time.Hour).Format(http.TimeFormat) }, 0},
		{"capped by MaxDelay", 503, func(time.Time) string { return "3600" }, time.Minute},
		{"beyond any Duration, capped", 503, func(time.Time) string { return "99999999999999999999999" }, time.Minute},
		{"malformed: backoff", 503, func(time.Time) string { return "soon" }, time.Second},
		{"500: backoff", 500, func(time.Time) string { return "7" }, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := enginetest.NewClock(start)
			srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tc.header(clock.Now()))
					w.WriteHeader(tc.status)
					return
				}
				io.WriteString(w, "ok")
			})
			delays := make(chan time.Duration, 1)
			rc := er.DefaultRetryConfig[*http.Response]()
			rc.MaxAttempts, rc.Backoff, rc.InitialDelay, rc.MaxDelay = 2, er.BackoffFixed, time.Second, time.Minute
			rc.OnRetry = func(_ int, _ error, d time.Duration) { delays <- d }
			wf := newWorkflow(t, config{Retry: &rc}, engine.WithClock(clock))
			rt := httptransport.New(wf, httptransport.WithBase(newTracker(t)))

			done := make(chan outcome, 1)
			go func() {
				resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, srv.URL, nil))
				done <- outcome{resp, err}
			}()
			assert.Equal(t, tc.want, recv(t, delays), "the retry's wait")
			if tc.want > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				require.NoError(t, clock.BlockUntilWaiters(ctx, 1))
				moved, _ := clock.AdvanceToNext()
				assert.Equal(t, tc.want, moved, "the backoff's wait on the clock")
			}
			o := recv(t, done)
			require.NoError(t, o.err)
			assert.Equal(t, "ok", readBody(t, o.resp), "want the second response")
		})
	}
}

func TestRequestBodyIsReplayedOnEveryAttempt(t *testing.T) {
	const data = "the same bytes every time"
	for _, tc := range []struct {
		name    string
		getBody bool
		opts    []httptransport.Option
	}{
		{"with GetBody", true, nil},
		{"buffered", false, nil},
		{"buffered at the limit", false, []httptransport.Option{httptransport.WithMaxBufferedBody(int64(len(data)))}},
		{"GetBody over the limit", true, []httptransport.Option{httptransport.WithMaxBufferedBody(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, failFirst(2))
			rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), append(tc.opts, httptransport.WithBase(newTracker(t)))...)
			req := newRequest(t, http.MethodPut, srv.URL, strings.NewReader(data))
			body := &closeCounter{Reader: strings.NewReader(data)}
			if !tc.getBody {
				req.Body, req.GetBody = body, nil
			}
			resp, err := roundTrip(t, rt, req)
			require.NoError(t, err)
			assert.Equal(t, "ok", readBody(t, resp), "body")
			got := srv.received()
			require.Len(t, got, 3, "requests the server got")
			for i, b := range got {
				assert.Equal(t, data, b, "attempt %d's body", i+1)
			}
			if !tc.getBody {
				assert.NotZero(t, body.closes.Load(), "the caller's body was not closed")
			}
		})
	}
}

func TestBodyOverTheLimitIsSentOnceAndNotRetried(t *testing.T) {
	const data = "a body one byte too long"
	srv := newServer(t, failFirst(2))
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}),
		httptransport.WithBase(newTracker(t)), httptransport.WithMaxBufferedBody(int64(len(data)-1)))
	req := newRequest(t, http.MethodPut, srv.URL, nil)
	body := &closeCounter{Reader: strings.NewReader(data)}
	req.Body, req.ContentLength = body, int64(len(data))

	resp, err := roundTrip(t, rt, req)
	require.NoError(t, err)
	assert.Equal(t, "busy 1\n", readBody(t, resp), "want the first 503's body")
	assert.Equal(t, 503, resp.StatusCode, "want the first 503")
	assert.Equal(t, []string{data}, srv.received(), "requests the server got: want one with the whole body")
	assert.NotZero(t, body.closes.Load(), "the caller's body was not closed")
}

func TestDiscardedResponsesAreClosed(t *testing.T) {
	big := strings.Repeat("x", 100<<10) // beyond what is drained
	for _, tc := range []struct {
		name  string
		body  string
		conns int32 // 0: not checked
	}{
		{"small bodies drained, connection reused", "busy", 1},
		{"large bodies closed", big, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n <= 2 {
					w.WriteHeader(http.StatusBadGateway)
					io.WriteString(w, tc.body)
					return
				}
				io.WriteString(w, "ok")
			})
			tr := newTracker(t)
			rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), httptransport.WithBase(tr))
			resp, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
			require.NoError(t, err)
			assert.EqualValues(t, 3, tr.opened.Load(), "bodies opened")
			assert.EqualValues(t, 2, tr.closed.Load(), "bodies closed before the caller's")
			readBody(t, resp)
			if tc.conns > 0 {
				assert.Equal(t, tc.conns, srv.conns.Load(), "connections the server accepted")
			}
		})
	}
}

func TestLastFailureResponseIsReturnedWithItsBody(t *testing.T) {
	big := strings.Repeat("y", 100<<10)
	for _, tc := range []struct {
		name   string
		body   func(n int) string
		closed int32 // network bodies closed before the caller closes its own
	}{
		// A small failure body is read into memory and its connection
		// released when it arrives, the last one included.
		{"small", func(n int) string { return fmt.Sprintf("down %d", n) }, 3},
		{"beyond the drain bound", func(n int) string { return fmt.Sprint(n) + big }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, tc.body(n))
			})
			tr := newTracker(t)
			client := &http.Client{Transport: httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), httptransport.WithBase(tr))}
			resp, err := client.Get(srv.URL)
			require.NoError(t, err, "want the last response")
			assert.Equal(t, tc.closed, tr.closed.Load(), "bodies closed before the caller's")
			// True, not Equal: the body may be 100 KiB, too long to print.
			got := readBody(t, resp)
			assert.True(t, got == tc.body(3), "a %d-byte body, want the third response's", len(got))
			assert.Equal(t, 503, resp.StatusCode, "status")
			assert.Equal(t, 3, srv.hits(), "requests the server got")
		})
	}
}

func TestOpenBreakerFailsFastWithErrCircuitOpen(t *testing.T) {
	srv := newServer(t, failFirst(100))
	wf := newWorkflow(t, config{Retry: retrying(2), Breaker: breaking(2)})
	client := &http.Client{Transport: httptransport.New(wf, httptransport.WithBase(newTracker(t)))}

	resp, err := client.Get(srv.URL) // two failures: the breaker opens
	require.NoError(t, err)
	readBody(t, resp)
	require.Equal(t, breaker.StateOpen, wf.Breaker().State(), "breaker")
	_, err = client.Get(srv.URL)
	require.ErrorIs(t, err, breaker.ErrOpen)
	_, ok := errors.AsType[*breaker.OpenError](err)
	assert.True(t, ok, "got %T, want one wrapping *breaker.OpenError", err)
	assert.Equal(t, 2, srv.hits(), "requests the server got")
}

func TestBreakerRejectionAfterAFailureClosesIt(t *testing.T) {
	srv := newServer(t, failFirst(100))
	tr := newTracker(t)
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3), Breaker: breaking(1)}), httptransport.WithBase(tr))

	_, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	require.ErrorIs(t, err, breaker.ErrOpen, "want the breaker's rejection of the retry")
	assert.EqualValues(t, 1, tr.opened.Load(), "bodies opened: want the one 503")
	assert.EqualValues(t, 1, tr.closed.Load(), "bodies closed: want the one 503 closed")
}

func TestNoRequestWhileOpenAndItsBodyIsClosed(t *testing.T) {
	srv := newServer(t, failFirst(0))
	wf := newWorkflow(t, config{Breaker: breaking(1)})
	wf.Breaker().ForceOpen()
	rt := httptransport.New(wf, httptransport.WithBase(newTracker(t)))
	for _, getBody := range []bool{false, true} {
		req := newRequest(t, http.MethodPut, srv.URL, nil)
		body := &closeCounter{Reader: strings.NewReader("x")}
		req.Body = body
		if getBody {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }
		}
		_, err := roundTrip(t, rt, req)
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.NotZero(t, body.closes.Load(), "GetBody %v: the request's body was not closed", getBody)
	}
	assert.Zero(t, srv.hits(), "requests the server got")
}

func TestWithFailureClassifiesResponses(t *testing.T) {
	notFound := httptransport.WithFailure(func(r *http.Response) bool { return r.StatusCode == http.StatusNotFound })
	for _, tc := range []struct {
		name   string
		first  int
		hits   int
		status int
	}{
		{"404 is a failure", 404, 2, 200},
		{"503 is not", 503, 1, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.WriteHeader(tc.first)
				}
			})
			rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), notFound, httptransport.WithBase(newTracker(t)))
			resp, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
			require.NoError(t, err)
			readBody(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode, "status")
			assert.Equal(t, tc.hits, srv.hits(), "requests the server got")
		})
	}
}

func TestDroppedConnectionsExhaustRetries(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		conn.Close()
	})
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), httptransport.WithBase(newTracker(t)))
	_, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	ex, ok := errors.AsType[*er.ExhaustedError](err)
	require.True(t, ok, "got %v, want an *ExhaustedError", err)
	require.Equal(t, 3, ex.Attempts, "attempts")
	assert.ErrorIs(t, err, er.ErrExhausted)
	assert.Equal(t, 3, srv.hits(), "requests the server got")
}

func TestFullBulkheadRejects(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	wf := newWorkflow(t, config{Bulkhead: &bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue}})
	rt := httptransport.New(wf, httptransport.WithBase(newTracker(t)))

	done := make(chan outcome, 1)
	go func() {
		resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, srv.URL, nil))
		done <- outcome{resp, err}
	}()
	recv(t, entered)
	_, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	close(release)
	assert.ErrorIs(t, err, bulkhead.ErrFull)
	if o := recv(t, done); assert.NoError(t, o.err) {
		readBody(t, o.resp)
	}
	assert.Equal(t, 1, srv.hits(), "requests the server got")
}

func TestCallerCancellationIsNotRetried(t *testing.T) {
	entered := make(chan struct{})
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), httptransport.WithBase(newTracker(t)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-entered
		cancel()
	}()
	req := newRequest(t, http.MethodGet, srv.URL, nil).WithContext(ctx)
	_, err := roundTrip(t, rt, req)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, srv.hits(), "requests the server got")
}

func TestAttemptTimeoutIsRetriedAndTheBodyOutlivesTheAttempt(t *testing.T) {
	clock := enginetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	entered, release := make(chan struct{}), make(chan struct{})
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			close(entered)
			<-r.Context().Done() // until the attempt times out
			return
		}
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		<-release // the body comes after RoundTrip has returned
		io.WriteString(w, "second")
	})
	var errs []error
	rc := retrying(2)
	rc.OnRetry = func(_ int, err error, _ time.Duration) { errs = append(errs, err) }
	wf := newWorkflow(t, config{Retry: rc, Deadline: &er.DeadlineConfig{AttemptTimeout: time.Second}}, engine.WithClock(clock))
	rt := httptransport.New(wf, httptransport.WithBase(newTracker(t)))

	done := make(chan outcome, 1)
	go func() {
		resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, srv.URL, nil))
		done <- outcome{resp, err}
	}()
	recv(t, entered)
	clock.Advance(time.Second)
	o := recv(t, done)
	require.NoError(t, o.err)
	if assert.Len(t, errs, 1, "retries") {
		assert.ErrorIs(t, errs[0], context.DeadlineExceeded, "the retry's cause")
	}
	clock.Advance(time.Hour) // well past the second attempt's timeout
	close(release)
	assert.Equal(t, "second", readBody(t, o.resp), "body")
}

func TestFallbackResponseReplacesTheLastFailure(t *testing.T) {
	srv := newServer(t, failFirst(100))
	tr := newTracker(t)
	fb := er.DefaultFallbackConfig[*http.Response]()
	fb.Func = func(err error) (*http.Response, error) {
		if _, ok := errors.AsType[*httptransport.StatusError](err); !ok {
			return nil, err
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("stand-in"))}, nil
	}
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(2), Fallback: &fb}), httptransport.WithBase(tr))
	resp, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	require.NoError(t, err)
	assert.Equal(t, "stand-in", readBody(t, resp), "want the fallback's response")
	assert.EqualValues(t, 2, tr.opened.Load(), "bodies opened: want both 503s")
	assert.EqualValues(t, 2, tr.closed.Load(), "bodies closed: want both 503s closed")
}

func TestNilFallbackResponseIsAnError(t *testing.T) {
	srv := newServer(t, failFirst(100))
	fb := er.DefaultFallbackConfig[*http.Response]()
	fb.Func = func(error) (*http.Response, error) { return nil, nil }
	rt := httptransport.New(newWorkflow(t, config{Fallback: &fb}), httptransport.WithBase(newTracker(t)))
	_, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	assert.ErrorIs(t, err, httptransport.ErrNilResponse)
}

func TestNewRefusesACachingWorkflow(t *testing.T) {
	wf := newWorkflow(t, config{Cache: &cache.Config{}})
	assert.Panics(t, func() { httptransport.New(wf) }, "New accepted a workflow with a response cache")
}

func TestIsIdempotent(t *testing.T) {
	for _, tc := range []struct {
		method string
		header http.Header
		want   bool
	}{
		{"", nil, true},
		{"GET", nil, true},
		{"HEAD", nil, true},
		{"OPTIONS", nil, true},
		{"TRACE", nil, true},
		{"PUT", nil, true},
		{"DELETE", nil, true},
		{"POST", nil, false},
		{"PATCH", nil, false},
		{"CONNECT", nil, false},
		{"POST", http.Header{"Idempotency-Key": {"k"}}, true},
		{"POST", http.Header{"X-Idempotency-Key": {"k"}}, true},
		{"POST", http.Header{"Idempotency-Key": nil}, true},
	} {
		req := &http.Request{Method: tc.method, Header: tc.header}
		assert.Equal(t, tc.want, httptransport.IsIdempotent(req), "IsIdempotent(%q, %v)", tc.method, tc.header)
	}
}

func TestIsFailure(t *testing.T) {
	for code, want := range map[int]bool{200: false, 304: false, 404: false, 428: false, 429: true, 500: true, 503: true, 599: true, 600: false} {
		assert.Equal(t, want, httptransport.IsFailure(&http.Response{StatusCode: code}), "IsFailure(%d)", code)
	}
}

func TestRetryOnResultRejectionsAreClosedOrReturned(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-N", fmt.Sprint(n))
		io.WriteString(w, "stale")
	})
	rc := retrying(3)
	rc.RetryOnResult = func(*http.Response) bool { return true } // every response is rejected
	for _, tc := range []struct {
		method string
		hits   int
		err    error
	}{
		{http.MethodGet, 3, nil},                            // the last one rejected is returned
		{http.MethodPost, 1, httptransport.ErrNotRetryable}, // never sent twice
	} {
		t.Run(tc.method, func(t *testing.T) {
			before := srv.hits()
			tr := newTracker(t)
			rt := httptransport.New(newWorkflow(t, config{Retry: rc}), httptransport.WithBase(tr))
			resp, err := roundTrip(t, rt, newRequest(t, tc.method, srv.URL, nil))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "stale", readBody(t, resp), "body")
				assert.Equal(t, fmt.Sprint(before+3), resp.Header.Get("X-N"), "request answering: want the last one")
			}
			assert.Equal(t, tc.hits, srv.hits()-before, "requests the server got")
		})
	}
}

func TestBrokenFailureBodyIsKeptWithItsError(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\npartial")
		buf.Flush()
	})
	var retried []error
	rc := retrying(2)
	rc.OnRetry = func(_ int, err error, _ time.Duration) { retried = append(retried, err) }
	rt := httptransport.New(newWorkflow(t, config{Retry: rc}), httptransport.WithBase(newTracker(t)))
	resp, err := roundTrip(t, rt, newRequest(t, http.MethodGet, srv.URL, nil))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.Equal(t, "partial", string(b), "body read")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "reading the body")
	require.Len(t, retried, 1, "retries")
	se, ok := errors.AsType[*httptransport.StatusError](retried[0])
	if assert.True(t, ok, "retried after %v, want a *StatusError for 503", retried[0]) {
		assert.Equal(t, 503, se.StatusCode, "the retried error's status")
		assert.Contains(t, se.Error(), "503", "the retried error's message")
	}
}

func TestUnreadableRequestBodyFailsBeforeAnyAttempt(t *testing.T) {
	srv := newServer(t, failFirst(0))
	rt := httptransport.New(newWorkflow(t, config{Retry: retrying(3)}), httptransport.WithBase(newTracker(t)))
	broken := errors.New("disk on fire")
	req := newRequest(t, http.MethodPut, srv.URL, nil)
	body := &closeCounter{Reader: io.MultiReader(strings.NewReader("half"), errorReader{broken})}
	req.Body = body
	_, err := roundTrip(t, rt, req)
	assert.ErrorIs(t, err, broken, "want the body's error")
	assert.NotZero(t, body.closes.Load(), "the request's body was not closed")
	assert.Zero(t, srv.hits(), "requests the server got")
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// idleCloser is a base RoundTripper that only counts CloseIdleConnections.
type idleCloser struct {
	http.RoundTripper
	calls int
}

func (c *idleCloser) CloseIdleConnections() { c.calls++ }

func TestCloseIdleConnectionsReachesTheBase(t *testing.T) {
	base := &idleCloser{}
	rt := httptransport.New(newWorkflow(t, config{}), httptransport.WithBase(base))
	(&http.Client{Transport: rt}).CloseIdleConnections()
	assert.Equal(t, 1, base.calls, "CloseIdleConnections calls the base got")
	assert.NotNil(t, rt.Workflow(), "Workflow")
}

// TestInsideAnOuterWorkflow pins the layering the package recommends: a
// client using the Transport, called inside another workflow's function
// with that function's context. net/http cancels the contexts it derives
// in its own goroutines, sometimes after the function has returned; the
// race detector sees it if the outer workflow reuses that context for
// another execution.
func TestInsideAnOuterWorkflow(t *testing.T) {
	srv := newServer(t, failFirst(0))
	client := &http.Client{Transport: httptransport.New(newWorkflow(t, config{Retry: retrying(2)}), httptransport.WithBase(newTracker(t)))}
	outer, err := er.NewWorkflow(er.ErrorRecoveryConfig[[]byte]{Retry: &er.RetryConfig[[]byte]{MaxAttempts: 1, Backoff: er.BackoffFixed}})
	require.NoError(t, err)
	for range 100 {
		body, err := outer.Execute(context.Background(), func(ctx context.Context) ([]byte, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			if err != nil {
				return nil, err
			}
			resp, err := client.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			return io.ReadAll(resp.Body)
		})
		require.NoError(t, err)
		require.Equal(t, "ok", string(body))
	}
}
