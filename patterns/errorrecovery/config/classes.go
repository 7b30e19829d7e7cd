package config

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// A config file names classes of errors (in retry.retry_on,
// fallback.on, transient_errors and elsewhere) rather than Go values. The
// names are registered in Go, by this package for the built-in classes and
// by a program for its own, before it reads a file.
var classes = struct {
	sync.RWMutex
	m map[string]errorrecovery.ErrorMatcher // by lower-case name
}{m: map[string]errorrecovery.ErrorMatcher{}}

// RegisterErrorClass makes name usable in config files as the class of
// errors m matches. Names are matched ignoring case. It panics if name is
// empty or already registered, or if m is nil, as database/sql.Register
// does: registration belongs in an init function or at the start of main.
func RegisterErrorClass(name string, m errorrecovery.ErrorMatcher) {
	if name == "" {
		panic("config: RegisterErrorClass with an empty name")
	}
	if m == nil {
		panic("config: RegisterErrorClass of " + name + " with a nil matcher")
	}
	key := strings.ToLower(name)
	classes.Lock()
	defer classes.Unlock()
	if _, dup := classes.m[key]; dup {
		panic("config: RegisterErrorClass called twice for " + name)
	}
	classes.m[key] = m
}

// ErrorClass returns the matcher registered under name, ignoring case.
func ErrorClass(name string) (errorrecovery.ErrorMatcher, bool) {
	classes.RLock()
	defer classes.RUnlock()
	m, ok := classes.m[strings.ToLower(name)]
	return m, ok
}

// ErrorClasses returns the registered class names, sorted.
func ErrorClasses() []string {
	classes.RLock()
	defer classes.RUnlock()
	names := make([]string, 0, len(classes.m))
	for name := range classes.m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// StatusCoder is implemented by errors that carry an HTTP-style status
// code. The built-in classes status5xx and status429 match an error with
// one in its chain.
type StatusCoder interface {
	StatusCode() int
}

// The built-in classes.
func init() {
	RegisterErrorClass("timeout", errorrecovery.ErrorFunc(isTimeout))
	RegisterErrorClass("connection", errorrecovery.ErrorFunc(isConnection))
	RegisterErrorClass("status5xx", statusIn(500, 599))
	RegisterErrorClass("status429", statusIn(429, 429))
	RegisterErrorClass("canceled", errorrecovery.ErrorIs(context.Canceled))
	RegisterErrorClass("circuit_open", errorrecovery.ErrorFunc(func(err error) bool {
		return errors.Is(err, breaker.ErrOpen) || errors.Is(err, breaker.ErrTooManyTrials)
	}))
	RegisterErrorClass("bulkhead_rejected", errorrecovery.ErrorFunc(func(err error) bool {
		return errors.Is(err, bulkhead.ErrFull) || errors.Is(err, bulkhead.ErrQueueTimeout)
	}))
	RegisterErrorClass("exhausted", errorrecovery.ErrorIs(errorrecovery.ErrExhausted))
	RegisterErrorClass("rate_limited", errorrecovery.ErrorIs(ratelimit.ErrLimited))
	RegisterErrorClass("limit_exceeded", errorrecovery.ErrorIs(adaptive.ErrLimitExceeded))
	RegisterErrorClass("budget_exhausted", errorrecovery.ErrorIs(budget.ErrExhausted))
}

// isTimeout matches context.DeadlineExceeded and errors that say they are
// timeouts through a Timeout() bool method, as net.Error does.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	return ok && t.Timeout()
}

// isConnection matches failures to reach or keep talking to a peer: a
// *net.OpError, a refused, reset or aborted connection, a broken pipe, a
// closed network connection, or a stream cut short.
func isConnection(err error) bool {
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	for _, target := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, net.ErrClosed, io.ErrUnexpectedEOF} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func statusIn(lo, hi int) errorrecovery.ErrorMatcher {
	return func(err error) bool {
		s, ok := errors.AsType[interface {
			error
			StatusCoder
		}](err)
		return ok && s.StatusCode() >= lo && s.StatusCode() <= hi
	}
}
