package errorrecovery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.ErrorIs(t, err, context.Canceled)
	// A value or an error: only an *ExhaustedError comes with the last
	// result (issue 14).
	assert.Equal(t, er.Result[int]{Source: er.SourceNone, Attempts: 1}, res, "result: want the zero value, SourceNone, 1 attempt")
	bm := w.Bulkhead().Metrics()
	assert.Zero(t, bm.Active, "bulkhead after the cancelled call: %+v, want no slot held", bm)
	assert.Zero(t, bm.Queued, "bulkhead after the cancelled call: %+v, want no slot held", bm)
	cm := w.Breaker().Metrics()
	assert.Zero(t, cm.TrialsInFlight, "breaker after the cancelled call: %+v, want no permit held", cm)
	assert.Zero(t, cm.Failures, "breaker after the cancelled call: %+v, want no failure counted", cm)
}

func TestCallerContextEndedBeforeTheCallReturnsItsError(t *testing.T) {
	w := layeredForCancel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	res, err := w.ExecuteResult(ctx, func(context.Context) (int, error) { called = true; return 7, nil })
	require.Equal(t, context.Canceled, err, "want context.Canceled itself")
	_, ok := errors.AsType[*engine.NotTransitionedError](err)
	assert.False(t, ok, "err is an engine error: %v", err)
	assert.False(t, called, "the function was called with a context that had already ended")
	assert.Zero(t, res, "result: want the zero Result")
	assert.Equal(t, er.SourceNone, res.Source, "result")
	assert.Zero(t, w.Metrics().Executions, "metrics: executions")
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
				require.NoError(t, err)
			}
			var wg sync.WaitGroup
			for _, k := range held {
				wg.Go(func() {
					assert.Equal(t, k.tenant, k.ctx.Value(tenantKey{}), "a context kept from tenant %d's call", k.tenant)
					k.cancel()
				})
			}
			// Meanwhile, new executions reuse whatever can be reused.
			for tenant := 100; tenant < 150; tenant++ {
				caller := context.WithValue(context.Background(), tenantKey{}, tenant)
				_, err := w.Execute(caller, func(ctx context.Context) (int, error) {
					assert.Equal(t, tenant, ctx.Value(tenantKey{}), "tenant %d's call", tenant)
					return tenant, nil
				})
				require.NoError(t, err)
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
	_, err := w.Execute(context.Background(), func(ctx context.Context) (int, error) {
		child, cancel = context.WithCancel(ctx)
		assert.NoError(t, child.Err(), "the derived context ended during the attempt")
		return 1, nil
	})
	require.NoError(t, err)
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second): // only if the test fails: package context cancels children asynchronously
		require.Fail(t, "a context derived from the attempt's was not cancelled when the attempt ended")
	}
	assert.ErrorIs(t, child.Err(), context.Canceled, "derived context's error")
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
			require.Equal(t, "boom", recover(), "recovered: want the function's panic")
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
		assert.Fail(t, "the panicking attempt's context was not ended")
	}
	assert.Zero(t, clock.Pending(), "timers still pending on the clock")
}
