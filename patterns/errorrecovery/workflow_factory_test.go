package errorrecovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// newBreakerWorkflow is NewBreakerWorkflow on a manual clock, closed when
// the test ends.
func newBreakerWorkflow(t *testing.T, threshold int) (*er.Workflow[string], *enginetest.Clock) {
	t.Helper()
	clock := enginetest.NewClock(time.Unix(0, 0))
	w, err := er.NewBreakerWorkflow(threshold, time.Minute, "fallback", engine.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Breaker().Close)
	return w, clock
}

// The original's create_circuit_breaker_workflow(20, ...) opened after
// 20 failures; a window of the default 10 outcomes could never hold them.
func TestBreakerWorkflowGrowsItsWindowToHoldTheThreshold(t *testing.T) {
	ctx := context.Background()
	failing := func(context.Context) (string, error) { return "", errFlaky }
	w, _ := newBreakerWorkflow(t, 20)
	for i := range 19 {
		_, _ = w.Execute(ctx, failing)
		if s := w.Breaker().State(); s != breaker.StateClosed {
			t.Fatalf("breaker %v after %d failures, want Closed until the 20th", s, i+1)
		}
	}
	_, _ = w.Execute(ctx, failing)
	if m := w.Breaker().Metrics(); m.State != breaker.StateOpen || m.Failures != 20 || m.Calls != 20 {
		t.Fatalf("after 20 failures: %+v, want Open with 20 failures in a window of 20", m)
	}

	// At or below the default, the window keeps its default size.
	w, _ = newBreakerWorkflow(t, 3)
	for range 12 {
		_, _ = w.Execute(ctx, func(context.Context) (string, error) { return "ok", nil })
	}
	if m := w.Breaker().Metrics(); m.Calls != 10 {
		t.Fatalf("after 12 successes the window holds %d outcomes, want the default 10", m.Calls)
	}

	// Beyond the largest window, the threshold is refused, naming it.
	_, err := er.NewBreakerWorkflow(1<<20+1, time.Minute, "fallback")
	if ce, ok := errors.AsType[*er.ConfigError](err); !ok || ce.Field != "FailureThreshold" {
		t.Fatalf("threshold 1<<20+1: %v, want a *ConfigError naming FailureThreshold", err)
	}
}

// The fallback answers "while open", as the factory's doc says: only the
// calls the breaker rejects. A call it lets through, failing, gets its own
// error, in Closed and in HalfOpen alike.
func TestBreakerWorkflowFallsBackOnlyOnBreakerRejections(t *testing.T) {
	ctx := context.Background()
	w, clock := newBreakerWorkflow(t, 2)
	calls := 0
	failing := func(context.Context) (string, error) { calls++; return "", errFlaky }

	for i := range 2 { // closed: the function's own error, the one that opens it included
		r, err := w.ExecuteResult(ctx, failing)
		if !errors.Is(err, errFlaky) || r.Source != er.SourceNone {
			t.Fatalf("failure %d while closed: %q from %v, %v; want the function's error, no fallback", i+1, r.Value, r.Source, err)
		}
	}
	if s := w.Breaker().State(); s != breaker.StateOpen {
		t.Fatalf("breaker %v after 2 failures, want Open", s)
	}
	r, err := w.ExecuteResult(ctx, failing) // open: rejected, answered by the fallback
	if err != nil || r.Value != "fallback" || r.Source != er.SourceFallbackValue || calls != 2 {
		t.Fatalf("while open: %q from %v, %v after %d calls; want the fallback value, no call", r.Value, r.Source, err, calls)
	}

	clock.Advance(time.Minute) // half-open: a trial is let through
	r, err = w.ExecuteResult(ctx, failing)
	if !errors.Is(err, errFlaky) || r.Source != er.SourceNone {
		t.Fatalf("failed trial: %q from %v, %v; want the function's error", r.Value, r.Source, err)
	}

	// A deadline the function ran into is its own error too.
	w2, _ := newBreakerWorkflow(t, 5)
	if _, err := w2.Execute(ctx, func(context.Context) (string, error) { return "", context.DeadlineExceeded }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline while closed: %v, want context.DeadlineExceeded", err)
	}
}

// A half-open breaker with all its trials in flight rejects with
// ErrTooManyTrials, and the fallback answers that rejection too.
func TestBreakerWorkflowFallsBackWhenHalfOpenTrialsAreTaken(t *testing.T) {
	ctx := context.Background()
	w, clock := newBreakerWorkflow(t, 1)
	if _, err := w.Execute(ctx, func(context.Context) (string, error) { return "", errFlaky }); !errors.Is(err, errFlaky) {
		t.Fatalf("the failure that opens the breaker: %v", err)
	}
	clock.Advance(time.Minute) // half-open: 2 trials (the default success threshold)

	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := w.Execute(ctx, func(context.Context) (string, error) {
				started <- struct{}{}
				<-release
				return "ok", nil
			})
			done <- err
		}()
	}
	<-started
	<-started // both trials admitted and running
	r, err := w.ExecuteResult(ctx, func(context.Context) (string, error) {
		t.Error("a third call ran while both trials were in flight")
		return "", nil
	})
	if err != nil || r.Source != er.SourceFallbackValue {
		t.Errorf("with both trials in flight: %q from %v, %v; want the fallback value", r.Value, r.Source, err)
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("trial: %v", err)
		}
	}
	if s := w.Breaker().State(); s != breaker.StateClosed {
		t.Errorf("breaker %v after two successful trials, want Closed", s)
	}
}
