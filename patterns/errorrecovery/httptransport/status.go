package httptransport

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StatusError is the error an attempt fails with when its response has a
// failure status (IsFailure, or WithFailure's rule). It is what the
// workflow sees: its breaker counts it, its retry classifies it, and
// OnRetry, OnError, Logger and fallback functions receive it (wrapped in
// an *errorrecovery.ExhaustedError, say). RoundTrip itself does not return
// it: it returns the response.
//
// Response belongs to the Transport, which either closes it or hands it to
// the caller of RoundTrip: callbacks may read its status and header but
// must not read or close its body. Its body may already have been read into
// memory and its connection released.
type StatusError struct {
	// StatusCode is the response's status code.
	StatusCode int
	// Response is the failed response.
	Response *http.Response
}

// Error names the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("httptransport: response status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// retryAfter returns the delay a 429 or 503 response asks for in its
// Retry-After header, in delay-seconds or as an HTTP date read against
// now; a date in the past is a zero delay. It reports false for other
// statuses and for a missing or malformed header.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return 0, false
		case err != nil || secs > math.MaxInt64/uint64(time.Second):
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
