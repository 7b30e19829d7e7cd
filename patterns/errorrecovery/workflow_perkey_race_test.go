package errorrecovery_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

// TestPerKeyManyGoroutinesEvictingLoseNoPermit runs 200 goroutines over
// 16 keys through a registry of 4, so that keys are evicted while their
// machines hold bulkhead slots and breaker and adaptive permits; one key
// fails always. Every execution is answered (by the function, or by the
// fallback for the failing key and for rejections), and the registry's
// counts agree: every evicted machine set was closed once its executions
// ended.
func TestPerKeyManyGoroutinesEvictingLoseNoPermit(t *testing.T) {
	const goroutines, rounds, keys = 200, 20, 16
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary:   er.StrategyCircuitBreaker,
		Secondary: []er.Strategy{er.StrategyFallback, er.StrategyBulkhead},
		Breaker:   countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(-1)),
		Bulkhead:      &bulkhead.Config{MaxConcurrent: 4, MaxQueueSize: bulkhead.NoQueue},
		AdaptiveLimit: &adaptive.Config{InitialLimit: 3, MinLimit: 3, MaxLimit: 3},
	}, perkey.Config{MaxKeys: 4, IdleTimeout: perkey.NoIdleTimeout})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("host-%d", (g+i)%keys)
				fn := func(context.Context) (int, error) { runtime.Gosched(); return 1, nil }
				if key == "host-0" {
					fn = func(context.Context) (int, error) { return 0, errDown }
				}
				v, err := w.Execute(on(key), fn)
				if err != nil || (v != 1 && v != -1) || (key == "host-0" && v != -1) {
					t.Errorf("Execute(%s) = %v, %v", key, v, err)
				}
			}
		})
	}
	wg.Wait()

	m := w.Metrics()
	require.Equal(t, int64(goroutines*rounds), m.Executions)
	assert.Equal(t, m.Failures, m.Fallbacks, "every failure (host-0's, the rejections) answered by the fallback")
	assert.Zero(t, m.Failed)
	pk := m.PerKey
	assert.LessOrEqual(t, pk.Keys, 4)
	assert.Positive(t, pk.EvictedBound, "keys were evicted while in use")
	assert.Equal(t, pk.Created, uint64(pk.Keys)+pk.EvictedBound, "every machine set made is held or was evicted")
	assert.Equal(t, pk.EvictedBound, pk.Closed, "every evicted set was closed: no lease left behind")
	for key, h := range w.HealthByKey() {
		assert.LessOrEqual(t, h.Samples, 100, key)
	}
}

// TestPerKeyHotKeyAllocations: an execution on a key that has its
// machines allocates what the same workflow without keys does, nothing,
// when the key function reads what the context holds.
func TestPerKeyHotKeyAllocations(t *testing.T) {
	ctx := context.Background()
	cfg := er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback, er.StrategyBulkhead},
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
		AdaptiveLimit: &adaptive.Config{InitialLimit: 100, MaxLimit: 100, MinLimit: 100},
	}
	plain, err := er.NewWorkflow(cfg)
	require.NoError(t, err)
	testutil.WantAllocs(t, 0, "without keys", func() { plain.Execute(ctx, succeed) })

	cfg.PerKey = &er.PerKeyConfig{Key: hostOf, Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout}}
	keyed, err := er.NewWorkflow(cfg)
	require.NoError(t, err)
	hot := context.WithValue(ctx, hostKey{}, "api.example")
	testutil.WantAllocs(t, 0, "a hot key", func() { keyed.Execute(hot, succeed) })
	testutil.WantAllocs(t, 0, "a hot key, ExecuteResult", func() { _, _ = keyed.ExecuteResult(hot, succeed) })

	// A failing execution allocates its *ExhaustedError either way.
	fail := func(context.Context) (int, error) { return 0, errDown }
	cfg.Secondary, cfg.Breaker, cfg.PerKey = []er.Strategy{er.StrategyFallback, er.StrategyBulkhead}, nil, nil // no breaker to open
	plain, err = er.NewWorkflow(cfg)
	require.NoError(t, err)
	cfg.PerKey = &er.PerKeyConfig{Key: hostOf, Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout}}
	keyed, err = er.NewWorkflow(cfg)
	require.NoError(t, err)
	want := testing.AllocsPerRun(100, func() { plain.Execute(ctx, fail) })
	testutil.WantAllocs(t, want, "a hot key, failing", func() { keyed.Execute(hot, fail) })
	_, err = keyed.Execute(hot, fail)
	require.NoError(t, err, "the fallback answered")
	require.Equal(t, int64(0), keyed.Metrics().Rejections)
}

type hostKey struct{}

// hostOf is a key function that reads what the context already holds.
func hostOf(ctx context.Context) string { s, _ := ctx.Value(hostKey{}).(string); return s }
