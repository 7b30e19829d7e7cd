package breaker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/transitions"
)

type (
	breakerDef        = fsm.Definition[breaker.State, breaker.Event, *breaker.Breaker]
	breakerTransition = transitions.Spec[breaker.State, breaker.Event, *breaker.Breaker]
	breakerGuard      = transitions.Guard[breaker.State, breaker.Event, *breaker.Breaker]
)

// benchStart is where the manual clocks of the breaker tests start.
var benchStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var errBoom = errors.New("boom")

// countConfig is the default config with the count-only window.
func countConfig() breaker.Config {
	cfg := breaker.DefaultConfig()
	cfg.WindowDuration = breaker.CountOnly
	return cfg
}

// newBreaker returns a breaker on a fresh manual clock.
func newBreaker(t testing.TB, cfg breaker.Config, opts ...engine.Option) (*breaker.Breaker, *enginetest.Clock) {
	t.Helper()
	clk := enginetest.NewClock(benchStart)
	b, err := breaker.New(cfg, append([]engine.Option{engine.WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b, clk
}

// record makes n admitted calls that end with err, failing the test if
// one is rejected.
func record(t testing.TB, b *breaker.Breaker, n int, err error) {
	t.Helper()
	for i := range n {
		p, aerr := b.Allow()
		require.NoError(t, aerr, "call %d of %d rejected", i+1, n)
		p.Done(err)
	}
}

func wantState(t testing.TB, b *breaker.Breaker, want breaker.State) {
	t.Helper()
	require.Equal(t, want, b.State(), "State()")
}

// wantRejected checks that Allow rejects with an *OpenError, and returns it.
func wantRejected(t testing.TB, b *breaker.Breaker) *breaker.OpenError {
	t.Helper()
	p, err := b.Allow()
	oe, ok := errors.AsType[*breaker.OpenError](err)
	if !ok || !errors.Is(err, breaker.ErrOpen) {
		p.Done(nil)
		require.FailNow(t, "Allow() did not reject", "Allow() = %v, want an *OpenError matching ErrOpen (state %v)", err, b.State())
	}
	return oe
}

// openBreaker returns a breaker opened by FailureThreshold failures.
func openBreaker(t testing.TB, cfg breaker.Config, opts ...engine.Option) (*breaker.Breaker, *enginetest.Clock) {
	t.Helper()
	b, clk := newBreaker(t, cfg, opts...)
	record(t, b, max(cfg.FailureThreshold, 1), errBoom)
	wantState(t, b, breaker.StateOpen)
	return b, clk
}
