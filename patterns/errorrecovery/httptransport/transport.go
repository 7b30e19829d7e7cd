package httptransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/nohedge"
)

// DefaultMaxBufferedBody is the size up to which a request body without
// GetBody is buffered for replay, unless WithMaxBufferedBody says
// otherwise: 1 MiB.
const DefaultMaxBufferedBody = 1 << 20

// ErrNilResponse is the error RoundTrip returns when a response was
// expected and none came: the base RoundTripper returned neither a
// response nor an error, or a fallback of the workflow answered with a nil
// response.
var ErrNilResponse = errors.New("httptransport: neither a response nor an error")

// ErrNotRetryable is the error an attempt fails with, marked permanent,
// when the workflow asks for another attempt of a request that this
// Transport does not send twice (not idempotent, or its body cannot be
// replayed). It can only happen when the workflow's RetryOnResult rejects
// a response, which a Transport's workflow should not set.
var ErrNotRetryable = errors.New("httptransport: request may not be sent again")

// Transport is an http.RoundTripper that sends each request through a
// workflow: the package comment describes what is retried, what counts as
// a failure, how bodies are replayed and closed, and what RoundTrip
// returns. It is safe for concurrent use; so is its workflow, which may be
// shared with other Transports (they then share its breaker and bulkhead).
type Transport struct {
	wf        *errorrecovery.Workflow[*http.Response]
	base      http.RoundTripper
	retryable func(*http.Request) bool
	failure   func(*http.Response) bool
	maxBody   int64
	clock     engine.Clock               // the workflow's, which an HTTP-date Retry-After is read against
	key       func(*http.Request) string // a request's key, when the workflow keeps machines per key
}

// An Option configures a Transport.
type Option func(*Transport)

// WithBase sets the RoundTripper each attempt is sent with. Nil means
// http.DefaultTransport.
func WithBase(rt http.RoundTripper) Option {
	return func(t *Transport) {
		if rt == nil {
			rt = http.DefaultTransport
		}
		t.base = rt
	}
}

// WithRetryable sets the rule that says whether a request's failed attempts
// may be retried; a request it rejects is sent once. Nil means IsIdempotent.
// Whatever the rule says, a request whose body cannot be replayed is sent
// once.
func WithRetryable(f func(*http.Request) bool) Option {
	return func(t *Transport) {
		if f == nil {
			f = IsIdempotent
		}
		t.retryable = f
	}
}

// WithFailure sets the rule that says whether a response is a failure,
// which the workflow then sees as a *StatusError. Nil means IsFailure.
func WithFailure(f func(*http.Response) bool) Option {
	return func(t *Transport) {
		if f == nil {
			f = IsFailure
		}
		t.failure = f
	}
}

// WithMaxBufferedBody sets the size in bytes up to which the body of a
// retryable request without GetBody is read into memory so that each
// attempt can send it; a longer body is streamed to the first attempt only
// and the request is not retried. Zero or less means zero: such bodies are
// never buffered, and requests with them never retried.
func WithMaxBufferedBody(n int64) Option {
	return func(t *Transport) { t.maxBody = max(n, 0) }
}

// New returns a Transport that sends requests through wf with the base
// RoundTripper http.DefaultTransport, unless options say otherwise.
//
// New panics if wf is nil, or if it has a read-through cache (wf.Cache()
// is not nil): a cache would hand one response, whose body can be read only
// once, to several callers.
func New(wf *errorrecovery.Workflow[*http.Response], opts ...Option) *Transport {
	if wf == nil {
		panic("httptransport: New with a nil workflow")
	}
	if wf.Cache() != nil {
		panic("httptransport: New with a workflow that caches responses (CACHE); a response body can be read only once: cache bodies in a workflow above the Transport")
	}
	t := &Transport{
		wf:        wf,
		base:      http.DefaultTransport,
		retryable: IsIdempotent,
		failure:   IsFailure,
		maxBody:   DefaultMaxBufferedBody,
		clock:     wf.Clock(),
	}
	for _, opt := range opts {
		opt(t)
	}
	switch {
	case !wf.PerKey():
		t.key = nil // nothing reads it
	case t.key == nil:
		t.key = Host
	}
	return t
}

// Workflow returns the workflow the Transport sends requests through.
func (t *Transport) Workflow() *errorrecovery.Workflow[*http.Response] { return t.wf }

// IsIdempotent reports whether a request may be sent more than once with
// the same effect: its method is GET (or empty), HEAD, OPTIONS, TRACE, PUT
// or DELETE, or it has an Idempotency-Key or X-Idempotency-Key header. As
// with net/http, a header key present with a nil value counts, so a
// request can be marked idempotent without sending the header.
func IsIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}

// IsFailure reports whether a response's status is a failure: 429 Too Many
// Requests or any 5xx.
func IsFailure(resp *http.Response) bool {
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode <= 599
}

// RoundTrip sends req through the workflow and returns the response or
// the error the package comment describes. It closes req.Body in every
// case, and never returns a response together with an error.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := t.start(req)
	if err != nil {
		return nil, err
	}
	defer c.end()
	ctx := req.Context()
	if !c.retryable {
		// Sent once: a workflow with HEDGE starts no second copy of it.
		ctx = nohedge.Off(ctx)
	}
	if t.key != nil {
		ctx = errorrecovery.WithKey(ctx, t.key(req))
	}
	res, err := t.wf.ExecuteResult(ctx, c.attempt)
	return c.settle(res, err)
}

// CloseIdleConnections closes the idle connections of the base
// RoundTripper, if it has a CloseIdleConnections method.
func (t *Transport) CloseIdleConnections() {
	if b, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		b.CloseIdleConnections()
	}
}

// call is one RoundTrip: the request, how its body is replayed, and the
// responses its attempts produced that nobody has taken or closed yet.
type call struct {
	t   *Transport
	req *http.Request
	// retryable: failures may be retried (the request is retryable by the
	// Transport's rule and its body can be replayed). Set by start.
	retryable bool
	// buf is the request body read into memory, when buffered.
	buf      []byte
	buffered bool

	mu sync.Mutex // guards the fields below; attempts may overlap with WalkAway
	// first is the body of the first attempt when it is not buffered:
	// req.Body, or the bytes read of a body over the limit in front of the
	// rest. Set to nil when handed to the base RoundTripper.
	first io.ReadCloser
	sent  int          // attempts begun
	kept  []keptAnswer // responses produced, not yet taken or closed
	ended bool         // RoundTrip has returned: late responses are closed at once
}

// start prepares the replay of req's body.
func (t *Transport) start(req *http.Request) (*call, error) {
	c := &call{t: t, req: req, retryable: t.retryable(req)}
	body := req.Body
	switch {
	case body == nil || body == http.NoBody:
	case req.GetBody != nil:
		c.first = body
	case c.retryable && t.maxBody > 0:
		buf, complete, err := readUpTo(body, t.maxBody)
		if err != nil {
			body.Close()
			return nil, fmt.Errorf("httptransport: reading the request body: %w", err)
		}
		if complete {
			body.Close()
			c.buf, c.buffered = buf, true
		} else {
			c.first, c.retryable = prefixed(buf, body), false
		}
	default:
		c.first, c.retryable = body, false
	}
	return c, nil
}

// keptAnswer is a response an attempt produced, with the attempt's
// number (errorrecovery.AttemptFromContext): with HEDGE, the attempts of
// one round run at once and share the number.
type keptAnswer struct {
	resp  *http.Response
	round int
}

// attempt is the function the workflow calls, once per attempt (and per
// hedge, with HEDGE: then concurrently).
func (c *call) attempt(actx context.Context) (*http.Response, error) {
	round, _ := errorrecovery.AttemptFromContext(actx)
	c.mu.Lock()
	n := c.sent
	c.sent++
	// Earlier rounds' responses: the workflow has moved on. Those of this
	// round belong to hedges running beside this attempt, one of which may
	// yet be the answer.
	var stale []keptAnswer
	live := c.kept[:0:0]
	for _, k := range c.kept {
		if k.round < round {
			stale = append(stale, k)
		} else {
			live = append(live, k)
		}
	}
	c.kept = live
	c.mu.Unlock()
	closeAll(stale)
	if n > 0 && !c.retryable {
		return nil, errorrecovery.Permanent(ErrNotRetryable)
	}
	body, err := c.body(n)
	if err != nil {
		return nil, c.mark(fmt.Errorf("httptransport: GetBody: %w", err))
	}

	l := newLink(c.req.Context(), actx)
	out := c.req.Clone(l.ctx)
	out.Body = body
	if c.buffered {
		out.GetBody = c.replay
	}
	resp, err := c.t.base.RoundTrip(out)
	if err == nil && resp == nil {
		err = ErrNilResponse
	}
	if err != nil {
		if resp != nil && resp.Body != nil { // a base that breaks the contract
			resp.Body.Close()
		}
		l.stop()
		l.release()
		return nil, c.mark(attemptErr(actx, err))
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}

	if !c.t.failure(resp) {
		if !l.stop() { // the attempt's context ended as the response came
			resp.Body.Close()
			l.release()
			return nil, c.mark(attemptErr(actx, context.Canceled))
		}
		resp.Body = l.bind(resp.Body)
		c.keep(resp, round)
		return resp, nil
	}

	var ferr error = &StatusError{StatusCode: resp.StatusCode, Response: resp}
	if c.retryable && drain(resp) {
		l.stop()
		l.release()
	} else {
		l.stop()
		resp.Body = l.bind(resp.Body)
	}
	c.keep(resp, round)
	if d, ok := retryAfter(resp, c.t.clock.Now()); ok {
		ferr = errorrecovery.RetryAfter(ferr, d)
	}
	return nil, c.mark(ferr)
}

// body returns the body of attempt n (0-based).
func (c *call) body(n int) (io.ReadCloser, error) {
	switch {
	case c.req.Body == nil || c.req.Body == http.NoBody:
		return c.req.Body, nil
	case c.buffered:
		return c.replay()
	case n == 0:
		c.mu.Lock()
		defer c.mu.Unlock()
		b := c.first
		c.first = nil
		return b, nil
	}
	return c.req.GetBody() // retryable and not buffered: GetBody is set
}

// replay returns a fresh reader of the buffered body.
func (c *call) replay() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c.buf)), nil
}

// mark marks an attempt's error permanent when the request is not to be
// retried.
func (c *call) mark(err error) error {
	if c.retryable {
		return err
	}
	return errorrecovery.Permanent(err)
}

// keep records a response an attempt of round produced, so that it is
// closed unless RoundTrip hands it to the caller.
func (c *call) keep(resp *http.Response, round int) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		resp.Body.Close() // a walked-away attempt or a hedge that lost, too late
		return
	}
	c.kept = append(c.kept, keptAnswer{resp, round})
	c.mu.Unlock()
}

// take removes resp from the kept responses and reports whether it was
// one of them.
func (c *call) take(resp *http.Response) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range c.kept {
		if k.resp == resp {
			c.kept = append(c.kept[:i], c.kept[i+1:]...)
			return true
		}
	}
	return false
}

// settle turns the workflow's outcome into RoundTrip's.
func (c *call) settle(res errorrecovery.Result[*http.Response], err error) (*http.Response, error) {
	if err == nil {
		if res.Value == nil {
			return nil, ErrNilResponse
		}
		c.take(res.Value) // ours, or a fallback's
		return res.Value, nil
	}
	if se, ok := errors.AsType[*StatusError](err); ok && c.take(se.Response) {
		return se.Response, nil
	}
	if errors.Is(err, errorrecovery.ErrBadResult) && res.Value != nil && c.take(res.Value) {
		return res.Value, nil // rejected by a RetryOnResult: returned like a failure status
	}
	return nil, err
}

// end closes what RoundTrip does not hand out: responses of attempts, and
// the request body if no attempt took it.
func (c *call) end() {
	c.mu.Lock()
	c.ended = true
	stale, first := c.kept, c.first
	c.kept, c.first = nil, nil
	c.mu.Unlock()
	closeAll(stale)
	if first != nil {
		first.Close()
	}
}

func closeAll(ks []keptAnswer) {
	for _, k := range ks {
		k.resp.Body.Close()
	}
}

// link ties the request an attempt sends to the attempt's context. When
// the attempt's context ends exactly when the caller's does, the request
// carries the caller's context as it is. Otherwise it carries one derived
// from the caller's, which release frees and which the attempt's context,
// if it ends earlier, cancels (with its error as the cause) until stop
// detaches them: the attempt's context is cancelled as the attempt
// returns, but a response's body is read after that, so an accepted
// response must not depend on it.
type link struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc // nil when ctx is the caller's
	detach  func() bool             // nil when the attempt's context adds nothing
	fired   chan struct{}           // closed once the attempt's context has cancelled ctx
	stopped bool
}

func newLink(parent, actx context.Context) *link {
	// Linking is not waiting: engine.Quiet keeps the two contexts from
	// counting as waited on, on a clock that counts such waits
	// (enginetest's). The request waits on l.ctx.
	qparent, qactx := engine.Quiet(parent), engine.Quiet(actx)
	if qactx.Done() == qparent.Done() {
		return &link{ctx: parent}
	}
	l := &link{fired: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancelCause(qparent)
	l.detach = context.AfterFunc(qactx, func() {
		defer close(l.fired)
		l.cancel(actx.Err())
	})
	return l
}

// stop detaches the request's context from the attempt's and reports
// whether it did so before the attempt's context ended. When it did not,
// it waits for the cancellation to finish, so that the attempt leaves no
// work behind. It may be called more than once.
func (l *link) stop() bool {
	if l.detach == nil || l.stopped {
		return true
	}
	if l.stopped = l.detach(); !l.stopped {
		<-l.fired
	}
	return l.stopped
}

// release frees the derived context, cancelling it.
func (l *link) release() {
	if l.cancel != nil {
		l.cancel(nil)
	}
}

// bind returns body, made to release the derived context when closed.
func (l *link) bind(body io.ReadCloser) io.ReadCloser {
	if l.cancel == nil {
		return body
	}
	return withRelease(body, l.release)
}

// attemptErr makes an attempt's error match the attempt context's error
// (context.DeadlineExceeded for an attempt timeout) when that context has
// ended, so that the workflow classifies it as the timeout it is; a bare
// context.Canceled, which only says that the request was cancelled, is
// replaced by it.
func attemptErr(actx context.Context, err error) error {
	if aerr := actx.Err(); aerr != nil && !errors.Is(err, aerr) {
		if err == context.Canceled {
			return aerr
		}
		return fmt.Errorf("%w: %w", aerr, err)
	}
	return err
}
