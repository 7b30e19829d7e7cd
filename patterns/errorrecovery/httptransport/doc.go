// Package httptransport adapts an errorrecovery.Workflow to net/http: a
// Transport is an http.RoundTripper that sends each request through the
// workflow's layers (bulkhead, overall deadline, retry, circuit breaker,
// attempt timeout, fallback), one attempt being one round trip of a base
// RoundTripper.
//
//	bc := breaker.DefaultConfig()
//	rc := errorrecovery.DefaultRetryConfig[*http.Response]()
//	rc.InitialDelay = 100 * time.Millisecond
//	wf, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[*http.Response]{
//		Primary:  errorrecovery.StrategyRetry,
//		Retry:    &rc,
//		Breaker:  &bc,
//		Deadline: &errorrecovery.DeadlineConfig{AttemptTimeout: 2 * time.Second},
//	})
//	if err != nil {
//		return err
//	}
//	client := &http.Client{Transport: httptransport.New(wf)}
//	resp, err := client.Get("https://example.com/quote")
//	if errors.Is(err, breaker.ErrOpen) {
//		// the breaker is open: no request was sent
//	}
//	if err != nil {
//		return err // or the last network error after the retries (*errorrecovery.ExhaustedError), ...
//	}
//	defer resp.Body.Close()
//	if resp.StatusCode >= 500 {
//		// every attempt allowed got a failure status: this is the last one
//	}
//
// # Which requests are retried
//
// A failed attempt of a request is retried only when the request is
// idempotent (IsIdempotent: GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or any
// method with an Idempotency-Key or X-Idempotency-Key header) and its body
// can be sent again; WithRetryable replaces the rule. Any other request
// still runs through the whole workflow (the bulkhead, the deadline and the
// breaker apply to it, and a fallback may answer it), but its attempt's
// error is marked with errorrecovery.Permanent, so the retry stops after
// the first attempt. Permanent only stops the retry: the breaker's
// Classify sees the error through the mark, so with DefaultClassify a
// failed non-idempotent request counts as a breaker failure like any other
// (a cancelled one is ignored, as always).
//
// # Which requests are hedged
//
// With HEDGE in the workflow, a request the Transport may send twice (the
// rule above: idempotent, and a body that can be sent again, from
// req.GetBody or from the Transport's buffered copy, which it hands each
// attempt as GetBody) gets a second copy when the first is slow; each
// copy has a body of its own. Any other request is sent once, with no
// hedge. Whichever copy's response wins, every other response is closed,
// including one that arrives after RoundTrip has returned.
//
// # Failures
//
// An attempt fails when the base RoundTripper returns an error, or when the
// response has a failure status: by default (IsFailure) 429 and every 5xx;
// WithFailure replaces the rule. The workflow sees a failure status as a
// *StatusError, which its breaker counts, its retry classifies (a
// RetryConfig.PermanentOn matching *StatusError with some codes stops
// retries for them) and OnRetry, OnError and fallback functions receive.
// On 429 and 503 a Retry-After header, in delay-seconds or HTTP-date form,
// becomes the delay the retry waits (errorrecovery.RetryAfter), capped by
// RetryConfig.MaxDelay; an HTTP date is read against the workflow's clock
// (Workflow.Clock), the one the backoff runs on.
//
// Leave RetryConfig.RetryOnResult unset: the Transport decides what a
// failed response is (WithFailure), so that the breaker counts the same
// failures the retry retries and a discarded response is closed at once.
//
// # Bodies
//
// Every attempt sends a fresh copy of the request (req.Clone) with a body
// of its own: req.GetBody's when it is set (the first attempt sends
// req.Body); otherwise, for a request that may be retried, the body is read
// into memory once, before the first attempt, and each attempt reads that
// copy. A body longer than the limit (WithMaxBufferedBody,
// DefaultMaxBufferedBody by default) is not buffered: it is streamed to the
// first attempt, and the request is not retried. A request that is not
// retried has its body streamed once, never buffered.
//
// A response with a failure status that may be retried is read at once,
// up to 64 KiB, under the attempt's context. When its body ends within
// that bound it is closed, so the connection goes back to the pool while
// the retry waits, and the bytes read stand in for it; otherwise the
// response keeps the bytes read in front of the rest. Either way the
// response is whole should it be the one RoundTrip returns. Every response
// the workflow discards (a failed attempt that is retried, one a breaker
// rejection or a fallback supersedes) is closed by the Transport before
// RoundTrip returns.
//
// # What RoundTrip returns
//
// RoundTrip keeps the http.RoundTripper contract: either a response or an
// error, never both, and the request's body closed in every case.
//
//   - The workflow succeeded: the response (a fallback's, when one answered).
//   - The workflow gave up after a failure status, the last attempt's
//     *StatusError being what it failed with (retries exhausted, the request
//     not retryable, the overall deadline too close for another backoff, a
//     PermanentOn match): that last response, with its body, and a nil error,
//     as most HTTP clients do, so the caller sees the 503 and what came with
//     it.
//   - Otherwise the workflow's error: a breaker's *breaker.OpenError
//     (errors.Is breaker.ErrOpen), a *bulkhead.Error
//     (bulkhead.ErrFull, ...), an *errorrecovery.ExhaustedError
//     or *errorrecovery.TimeoutError wrapping the last network error, the
//     caller's context error, or a network error. A failure response met on
//     the way (say, a 503 before the breaker opened) is closed.
//
// # Contexts
//
// The workflow gives each attempt a context of its own (with the attempt
// timeout and the overall deadline, on the workflow's clock), which it
// cancels as the attempt returns. A response body outlives the attempt
// that fetched it, so the request an attempt sends does not carry that
// context: it carries a context derived from the caller's request
// context, cancelled when the attempt's context ends while the attempt
// runs (with its cause: context.DeadlineExceeded for a timeout), detached
// from it once a response is accepted, and released when the response's
// body is closed. The caller reads the body under its own context only.
// When the attempt's context adds nothing to the caller's (no timeout or
// deadline takes part), the request carries the caller's context as it is.
//
// A client using this Transport may be called inside an outer workflow's
// function, with that function's context (the layering the next section
// recommends); the function must read and close the body before it
// returns, since the outer workflow cancels that context then, if it
// gives the attempt a deadline.
//
// # A breaker per host
//
// A client calls many hosts, and one failing host should open its own
// breaker, not everyone's. When the workflow keeps machines per key
// (errorrecovery.PerKeyConfig), the Transport keys each request by its
// host and port (Host), so each host gets its own breaker, bulkhead and
// limiters, made on its first request and evicted when idle or when the
// registry's bound is reached; WithKey chooses another key. The
// workflow's HealthByKey reports each host's health.
//
// # Why *http.Response
//
// The Transport takes a Workflow[*http.Response]: a round tripper must
// produce a response, and with it as the workflow's result a
// FallbackConfig.Func or Service can answer a failed call with a response
// of its own (built fresh for each call), and ExecuteResult reports where
// it came from. A response body can be read only once, though, so the
// workflow must not keep responses to hand out again: New refuses a
// workflow with a read-through cache (CACHE), and FallbackConfig.UseCache
// and FallbackConfig.Value must not be used either. A workflow whose result
// is the body ([]byte), layered above an http.Client using this Transport,
// is where caching and cached fallbacks belong: examples/resilienthttp
// shows one. A Workflow[[]byte] at this level would have to read every
// body inside the attempt, making streaming impossible, and would still
// have to produce a response.
package httptransport
