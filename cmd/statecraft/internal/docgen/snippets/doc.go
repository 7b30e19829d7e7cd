// Package snippets holds the Go snippets of the guides in docs/, as code
// that compiles (and, for docs/testing.md, tests that run), so that a
// snippet cannot drift from the API it shows. "make docs" copies the lines
// between "// snippet:NAME begin" and "// snippet:NAME end" into the
// guide's snippet:NAME region; package docgen describes how.
//
// The functions here are not used by any program: each exists to hold a
// snippet, and snippets_test.go runs them against fakes to check that they
// do what their guide says.
package snippets

import (
	"context"
	"errors"
)

// The stand-ins the snippets call: a dependency and its errors.
var (
	// ErrUnavailable is the error a dependency returns when it is down.
	ErrUnavailable = errors.New("service unavailable")

	fetch     = func(ctx context.Context, url string) (string, error) { return "<html>", nil }
	ping      = func(ctx context.Context) error { return nil }
	render    = func(ctx context.Context) error { return nil }
	getQuote  = func(ctx context.Context) (Quote, error) { return Quote{Price: 101}, nil }
	backupAPI = func(ctx context.Context) (Quote, error) { return Quote{Price: 100}, nil }
	loadUser  = func(ctx context.Context) (User, error) { return User{Name: "ada"}, nil }
)

// Quote is a price, as a fallback snippet fetches it.
type Quote struct {
	Price float64
	Stale bool
}

// User is a profile, as the cache snippet loads it.
type User struct{ Name string }
