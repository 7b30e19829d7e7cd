package httptransport

import (
	"net/http"
)

// WithKey sets the key of a request, when the Transport's workflow keeps
// machines per key (errorrecovery.PerKeyConfig): each key gets its own
// breaker, bulkhead and limiters, so one failing host opens only its own
// breaker. Nil means Host. The Transport gives the key to the workflow
// with errorrecovery.WithKey, which the workflow reads when its
// PerKeyConfig.Key is nil (a Key of its own takes precedence). A workflow
// without per-key machines ignores it.
//
// Key by what fails together (a host, a region, a tenant's endpoint), not
// by something with unbounded values such as the full URL: the registry
// is bounded, and a flood of keys evicts the useful ones.
func WithKey(f func(*http.Request) string) Option {
	return func(t *Transport) { t.key = f }
}

// Host is the default key of a request (WithKey): the host and port it is
// sent to, req.URL.Host, or req.Host when the URL has none.
func Host(req *http.Request) string {
	if req.URL != nil && req.URL.Host != "" {
		return req.URL.Host
	}
	return req.Host
}
