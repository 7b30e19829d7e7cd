package errorrecovery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// layeredForCancel is a workflow holding a bulkhead slot and a breaker
// permit while its function runs, so a caller giving up mid-call shows
// whether both are given back.
func layeredForCancel(t *testing.T) *er.Workflow[int] {
	t.Helper()
	cfg := er.DefaultErrorRecoveryConfig[int]()
	cfg.Primary = er.StrategyRetry
	cfg.Secondary = []er.Strategy{er.StrategyBulkhead, er.StrategyCircuitBreaker}
	return mustWorkflow(t, cfg)
}

func TestCallerCancellingDuringTheCallReleasesEverything(t *testing.T) {
	w := layeredForCancel(t)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := w.ExecuteResult(ctx, func(context.Context) (int, error) {
		cancel() // the caller gives up while the dependency answers
		return 7, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A value or an error: only an *ExhaustedError comes with the last
	// result (issue 14).
	if res.Value != 0 || res.Source != er.SourceNone || res.Attempts != 1 {
		t.Errorf("result = %+v, want the zero value, SourceNone, 1 attempt", res)
	}
	if m := w.Bulkhead().Metrics(); m.Active != 0 || m.Queued != 0 {
		t.Errorf("bulkhead after the cancelled call: %+v, want no slot held", m)
	}
	if m := w.Breaker().Metrics(); m.TrialsInFlight != 0 || m.Failures != 0 {
		t.Errorf("breaker after the cancelled call: %+v, want no permit held and no failure counted", m)
	}
}

func TestCallerContextEndedBeforeTheCallReturnsItsError(t *testing.T) {
	w := layeredForCancel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	res, err := w.ExecuteResult(ctx, func(context.Context) (int, error) { called = true; return 7, nil })
	if err != context.Canceled {
		t.Fatalf("err = %#v, want context.Canceled itself", err)
	}
	if _, ok := errors.AsType[*engine.NotTransitionedError](err); ok {
		t.Errorf("err is an engine error: %v", err)
	}
	if called {
		t.Error("the function was called with a context that had already ended")
	}
	if res != (er.Result[int]{}) || res.Source != er.SourceNone {
		t.Errorf("result = %+v, want the zero Result (SourceNone)", res)
	}
	if m := w.Metrics(); m.Executions != 0 {
		t.Errorf("metrics count %d executions, want none", m.Executions)
	}
}

type tenantKey struct{}

// TestContextsKeptPastTheAttemptStayTheirs is what net/http does with a
// request's context: it derives one and touches it from its own
// goroutines after the function has returned. Those late calls must see
// the context they were given, not a recycled one serving another caller
// (and -race must see no data race).
func TestContextsKeptPastTheAttemptStayTheirs(t *testing.T) {
	for _, timeout := range []time.Duration{0, time.Hour} {
		t.Run("attempt timeout "+timeout.String(), func(t *testing.T) {
			cfg := er.DefaultErrorRecoveryConfig[int]()
			cfg.Primary = er.StrategyRetry
			if timeout > 0 {
				cfg.Deadline = &er.DeadlineConfig{AttemptTimeout: timeout}
			}
			w := mustWorkflow(t, cfg, engine.WithClock(enginetest.NewClock(time.Unix(0, 0))))
			type kept struct {
				tenant int
				ctx    context.Context
				cancel context.CancelFunc
			}
			var held []kept
			for tenant := range 50 {
				caller := context.WithValue(context.Background(), tenantKey{}, tenant)
				_, err := w.Execute(caller, func(ctx context.Context) (int, error) {
					child, cancel := context.WithCancel(ctx)
					held = append(held, kept{tenant, child, cancel})
					return tenant, nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for _, k := range held {
				wg.Go(func() {
					if got := k.ctx.Value(tenantKey{}); got != k.tenant {
						t.Errorf("a context kept from tenant %d's call answers tenant %v", k.tenant, got)
					}
					k.cancel()
				})
			}
			// Meanwhile, new executions reuse whatever can be reused.
			for tenant := 100; tenant < 150; tenant++ {
				caller := context.WithValue(context.Background(), tenantKey{}, tenant)
				if _, err := w.Execute(caller, func(ctx context.Context) (int, error) {
					if got := ctx.Value(tenantKey{}); got != tenant {
						t.Errorf("tenant %d's call sees tenant %v", tenant, got)
					}
					return tenant, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
		})
	}
}

func TestAnAttemptsContextIsCancelledWhenTheAttemptEnds(t *testing.T) {
	cfg := er.DefaultErrorRecoveryConfig[int]()
	cfg.Primary = er.StrategyRetry
	cfg.Deadline = &er.DeadlineConfig{AttemptTimeout: time.Hour}
	w := mustWorkflow(t, cfg, engine.WithClock(enginetest.NewClock(time.Unix(0, 0))))
	var child context.Context
	var cancel context.CancelFunc
	if _, err := w.Execute(context.Background(), func(ctx context.Context) (int, error) {
		child, cancel = context.WithCancel(ctx)
		if child.Err() != nil {
			t.Errorf("the derived context ended during the attempt: %v", child.Err())
		}
		return 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second): // only if the test fails: package context cancels children asynchronously
		t.Fatal("a context derived from the attempt's was not cancelled when the attempt ended")
	}
	if !errors.Is(child.Err(), context.Canceled) {
		t.Errorf("derived context's error = %v, want context.Canceled", child.Err())
	}
	cancel()
}

func TestAPanickingAttemptsContextIsEndedToo(t *testing.T) {
	clock := enginetest.NewClock(time.Unix(0, 0))
	cfg := er.DefaultErrorRecoveryConfig[int]()
	cfg.Primary = er.StrategyRetry
	cfg.Deadline = &er.DeadlineConfig{AttemptTimeout: time.Hour}
	w := mustWorkflow(t, cfg, engine.WithClock(clock))
	var kept context.Context
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the function's panic", r)
			}
		}()
		_, _ = w.Execute(context.Background(), func(ctx context.Context) (int, error) {
			kept = ctx
			_ = ctx.Done() // arms the attempt's deadline timer
			panic("boom")
		})
	}()
	// Done was called before the panic, so the channel exists; it must
	// be closed and its timer gone.
	select {
	case <-kept.Done():
	default:
		t.Error("the panicking attempt's context was not ended")
	}
	if n := clock.Pending(); n != 0 {
		t.Errorf("%d timers still pending on the clock, want none", n)
	}
}
