package errorrecovery_test

import (
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/transitions"
)

type (
	breakerDef        = fsm.Definition[er.BreakerState, er.BreakerEvent, *er.Breaker]
	breakerTransition = transitions.Spec[er.BreakerState, er.BreakerEvent, *er.Breaker]
	breakerGuard      = transitions.Guard[er.BreakerState, er.BreakerEvent, *er.Breaker]
)

func newBreakerBuilder() *fsm.Builder[er.BreakerState, er.BreakerEvent, *er.Breaker] {
	return fsm.New[er.BreakerState, er.BreakerEvent, *er.Breaker]("circuit breaker (variant)")
}

// benchStart is where the manual clocks of the breaker tests start.
var benchStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var errBoom = errors.New("boom")

// countConfig is the default config with the count-only window.
func countConfig() er.CircuitBreakerConfig {
	cfg := er.DefaultCircuitBreakerConfig()
	cfg.WindowDuration = 0
	return cfg
}

// newBreaker returns a breaker on a fresh manual clock.
func newBreaker(t testing.TB, cfg er.CircuitBreakerConfig, opts ...er.BreakerOption) (*er.Breaker, *enginetest.Clock) {
	t.Helper()
	clk := enginetest.NewClock(benchStart)
	b, err := er.NewCircuitBreaker(cfg, append([]er.BreakerOption{er.WithBreakerClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b, clk
}

// record makes n admitted calls that end with err, failing the test if
// one is rejected.
func record(t testing.TB, b *er.Breaker, n int, err error) {
	t.Helper()
	for i := range n {
		p, aerr := b.Allow()
		if aerr != nil {
			t.Fatalf("call %d of %d rejected: %v", i+1, n, aerr)
		}
		p.Done(err)
	}
}

func wantState(t testing.TB, b *er.Breaker, want er.BreakerState) {
	t.Helper()
	if got := b.State(); got != want {
		t.Fatalf("State() = %v, want %v", got, want)
	}
}

// wantRejected checks that Allow rejects with an *OpenError, and returns it.
func wantRejected(t testing.TB, b *er.Breaker) *er.OpenError {
	t.Helper()
	p, err := b.Allow()
	oe, ok := errors.AsType[*er.OpenError](err)
	if !ok || !errors.Is(err, er.ErrCircuitOpen) {
		p.Done(nil)
		t.Fatalf("Allow() = %v, want an *OpenError matching ErrCircuitOpen (state %v)", err, b.State())
	}
	return oe
}

// openBreaker returns a breaker opened by FailureThreshold failures.
func openBreaker(t testing.TB, cfg er.CircuitBreakerConfig, opts ...er.BreakerOption) (*er.Breaker, *enginetest.Clock) {
	t.Helper()
	b, clk := newBreaker(t, cfg, opts...)
	record(t, b, max(cfg.FailureThreshold, 1), errBoom)
	wantState(t, b, er.BreakerOpen)
	return b, clk
}
