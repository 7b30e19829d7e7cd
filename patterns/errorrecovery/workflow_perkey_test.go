package errorrecovery_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// keyedWorkflow builds cfg with per-key machines keyed by WithKey, on a
// manual clock.
func keyedWorkflow(t *testing.T, cfg er.ErrorRecoveryConfig[int], reg perkey.Config) (*er.Workflow[int], *enginetest.Clock) {
	t.Helper()
	clk := enginetest.NewClock(time.Unix(0, 0))
	cfg.PerKey = &er.PerKeyConfig{KeyName: "host", Registry: reg}
	w, err := er.NewWorkflow(cfg, engine.WithClock(clk))
	require.NoError(t, err)
	return w, clk
}

func on(key string) context.Context { return er.WithKey(context.Background(), key) }

func keysOf(w *er.Workflow[int]) []string {
	var ks []string
	for k := range w.HealthByKey() {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var errDown = errors.New("host down")

func TestPerKeyBreakerOpensOnlyForTheFailingKey(t *testing.T) {
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(3, time.Minute),
	}, perkey.Config{})
	require.Nil(t, w.Breaker(), "no one breaker: one per key")

	for range 3 {
		_, err := w.Execute(on("bad.example"), func(context.Context) (int, error) { return 0, errDown })
		require.ErrorIs(t, err, errDown)
		v, err := w.Execute(on("good.example"), succeed)
		require.NoError(t, err)
		require.Equal(t, 1, v)
	}
	_, err := w.Execute(on("bad.example"), succeed)
	assert.ErrorIs(t, err, breaker.ErrOpen, "the bad host's breaker is open")
	v, err := w.Execute(on("good.example"), succeed)
	assert.NoError(t, err, "the good host's breaker is its own, and closed")
	assert.Equal(t, 1, v)

	hs := w.HealthByKey()
	require.Len(t, hs, 2)
	assert.Equal(t, breaker.StateOpen, hs["bad.example"].Breaker)
	assert.Equal(t, er.HealthUnhealthy, hs["bad.example"].Status)
	assert.Equal(t, er.HealthStatus{Status: er.HealthOK, Samples: 4, Breaker: breaker.StateClosed, HasBreaker: true}, hs["good.example"])
	h := w.Health()
	assert.False(t, h.HasBreaker, "the workflow's health judges every key's executions, without a breaker")
	assert.Equal(t, 8, h.Samples)

	m := w.Metrics()
	assert.Equal(t, int64(8), m.Executions, "every key's executions counted together")
	assert.Equal(t, int64(1), m.Rejections)
	assert.Equal(t, perkey.Metrics{Keys: 2, Created: 2}, m.PerKey)
	assert.Equal(t, 2, m.Map()["keys"])
}

func TestPerKeyBoundEvictsLeastRecentlyUsedKey(t *testing.T) {
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(1, time.Minute),
	}, perkey.Config{MaxKeys: 3, IdleTimeout: perkey.NoIdleTimeout})
	fail := func(context.Context) (int, error) { return 0, errDown }
	for _, k := range []string{"a", "b", "c", "a"} {
		_, _ = w.Execute(on(k), succeed)
	}
	_, err := w.Execute(on("d"), fail)
	require.ErrorIs(t, err, errDown)
	assert.Equal(t, []string{"a", "c", "d"}, keysOf(w), "b, the least recently used, went")
	_, err = w.Execute(on("d"), succeed)
	require.ErrorIs(t, err, breaker.ErrOpen, "d's breaker opened")

	for _, k := range []string{"b", "e"} { // evict c, then a
		_, _ = w.Execute(on(k), succeed)
	}
	assert.Equal(t, []string{"b", "d", "e"}, keysOf(w))
	_, err = w.Execute(on("d"), succeed)
	assert.ErrorIs(t, err, breaker.ErrOpen, "d, used last but two, kept its open breaker")
	want := perkey.Metrics{Keys: 3, Created: 6, EvictedBound: 3, Closed: 3}
	if diff := cmp.Diff(want, w.Metrics().PerKey); diff != "" {
		t.Errorf("registry metrics (-want +got):\n%s", diff)
	}
}

func TestPerKeyIdleKeysAreEvictedOnTheClock(t *testing.T) {
	w, clk := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(1, time.Hour),
	}, perkey.Config{IdleTimeout: time.Minute, SweepInterval: 10 * time.Second})
	_, err := w.Execute(on("a"), func(context.Context) (int, error) { return 0, errDown })
	require.ErrorIs(t, err, errDown) // a's breaker is open
	clk.Advance(30 * time.Second)
	_, _ = w.Execute(on("b"), succeed)
	clk.Advance(30 * time.Second) // 60s: a idle a minute, not yet seen by a sweep at least a minute old
	assert.Equal(t, []string{"a", "b"}, keysOf(w))
	clk.Advance(20 * time.Second) // 80s: a's last use is before the mark of 10s
	assert.Equal(t, []string{"b"}, keysOf(w))
	assert.Equal(t, uint64(1), w.Metrics().PerKey.EvictedIdle)

	_, err = w.Execute(on("a"), succeed)
	assert.NoError(t, err, "a new breaker for a, closed")
	clk.Advance(5 * time.Minute)
	assert.Empty(t, keysOf(w), "every key idle: all evicted")
	m := w.Metrics().PerKey
	assert.Equal(t, perkey.Metrics{Created: 3, EvictedIdle: 3, Closed: 3}, m)
}

// TestPerKeyEvictedWhileCallsHoldPermitsFinishesThem evicts a key (by the
// bound) while an execution holds its bulkhead's only slot and its
// breaker's permit: the execution finishes on the evicted machines, the
// key's next call gets new ones (not refused by the full old bulkhead),
// and the old machines are closed only after the held execution ends.
func TestPerKeyEvictedWhileCallsHoldPermitsFinishesThem(t *testing.T) {
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, Secondary: []er.Strategy{er.StrategyBulkhead},
		Breaker:  countBreaker(5, time.Minute),
		Bulkhead: &bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue},
	}, perkey.Config{MaxKeys: 1, IdleTimeout: perkey.NoIdleTimeout})

	entered, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		_, err := w.Execute(on("a"), func(context.Context) (int, error) {
			close(entered)
			<-release
			return 1, nil
		})
		held <- err
	}()
	<-entered
	_, err := w.Execute(on("a"), succeed)
	require.ErrorIs(t, err, bulkhead.ErrFull, "a's one slot is held")

	_, err = w.Execute(on("b"), succeed) // evicts a, leased
	require.NoError(t, err)
	v, err := w.Execute(on("a"), succeed) // evicts b; a new a
	require.NoError(t, err, "a's next call gets new machines")
	assert.Equal(t, 1, v)
	m := w.Metrics().PerKey
	assert.Equal(t, perkey.Metrics{Keys: 1, Created: 3, EvictedBound: 2, Closed: 1}, m, "the first a is still leased, so not closed")

	close(release)
	require.NoError(t, <-held, "the evicted machines finished their call")
	m = w.Metrics().PerKey
	assert.Equal(t, uint64(2), m.Closed, "closed once its call ended")
	assert.Equal(t, int64(1), w.Metrics().Rejections)
	assert.Equal(t, er.HealthStatus{Status: er.HealthOK, Samples: 1, Breaker: breaker.StateClosed, HasBreaker: true}, w.HealthByKey()["a"])
}

func TestPerKeyKeyFunctionAndSharedMachines(t *testing.T) {
	shared, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 4})
	require.NoError(t, err)
	type tenant struct{}
	cfg := er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(1, time.Minute), SharedBulkhead: shared,
		PerKey: &er.PerKeyConfig{
			Key:      func(ctx context.Context) string { s, _ := ctx.Value(tenant{}).(string); return s },
			KeyName:  "tenant",
			Registry: perkey.Config{IdleTimeout: perkey.NoIdleTimeout},
		},
	}
	w, err := er.NewWorkflow(cfg)
	require.NoError(t, err)
	assert.Same(t, shared, w.Bulkhead(), "a shared bulkhead stays one")
	_, _ = w.Execute(context.WithValue(context.Background(), tenant{}, "acme"), func(context.Context) (int, error) { return 0, errDown })
	_, err = w.Execute(context.WithValue(context.Background(), tenant{}, "acme"), succeed)
	assert.ErrorIs(t, err, breaker.ErrOpen)
	_, err = w.Execute(on("acme"), succeed) // WithKey is not this workflow's key: tenant ""
	assert.NoError(t, err)
	assert.Equal(t, []string{"", "acme"}, keysOf(w))
	assert.Equal(t, uint64(3), shared.Metrics().Completed, "every key's calls took the shared bulkhead")

	// The diagram draws the breaker once, noting it is per tenant; the
	// shared bulkhead is drawn as it is.
	dot := w.Dot()
	assert.Contains(t, dot, "circuit breaker, one per tenant (at most 1024 keys, never evicted idle)")
	assert.Equal(t, 1, strings.Count(dot, "one per tenant"))
}

func TestPerKeyConfigRefusedWithoutMachinesToKeep(t *testing.T) {
	for name, cfg := range map[string]er.ErrorRecoveryConfig[int]{
		"retry only": {Primary: er.StrategyRetry, PerKey: &er.PerKeyConfig{}},
		"bad bound":  {Primary: er.StrategyCircuitBreaker, PerKey: &er.PerKeyConfig{Registry: perkey.Config{MaxKeys: -1}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := er.NewWorkflow(cfg)
			var ce *er.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, []string{"PerKey", "MaxKeys"}, ce.Field)
		})
	}
}

func TestPerKeyTraceRunsOnTheKeysMachines(t *testing.T) {
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(1, time.Minute),
	}, perkey.Config{})
	_, _ = w.Execute(on("a"), func(context.Context) (int, error) { return 0, errDown })
	_, recs, err := w.Trace(on("a"), succeed)
	require.ErrorIs(t, err, breaker.ErrOpen)
	var states []string
	for _, r := range recs {
		states = append(states, r.To)
	}
	assert.True(t, slices.Contains(states, "Failed"), "a's open breaker refused: %v", states)
	res, _, err := w.TraceResult(on("b"), succeed)
	require.NoError(t, err)
	assert.Equal(t, er.SourceFunction, res.Source)
	assert.Equal(t, []string{"a", "b"}, keysOf(w))
}

// TestPerKeyWorkflowDiagram draws the per-call machine once, and each
// machine kept per key once, titled with what it is kept per and the
// registry's bounds; a shared machine keeps its title.
func TestPerKeyWorkflowDiagram(t *testing.T) {
	shared, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 100})
	require.NoError(t, err)
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry: fastRetry[int](3), Breaker: countBreaker(5, time.Minute), Fallback: ptr(er.FallbackValue(0)),
		SharedBulkhead: shared,
		AdaptiveLimit:  &adaptive.Config{},
		PerKey:         &er.PerKeyConfig{KeyName: "host", Registry: perkey.Config{MaxKeys: 500, IdleTimeout: 10 * time.Minute}},
	})
	require.NoError(t, err)
	g, opts := w.Diagram(fsm.DiagramOptions{})
	var names []string
	for _, c := range opts.Clusters {
		names = append(names, c.Graph.Name)
	}
	assert.Empty(t, cmp.Diff([]string{
		"bulkhead",
		"circuit breaker, one per host (at most 500 keys, evicted after 10m0s idle)",
		"adaptive limiter, one per host (at most 500 keys, evicted after 10m0s idle)",
	}, names))
	var dot, mermaid bytes.Buffer
	require.NoError(t, fsm.WriteDot(&dot, g, opts))
	require.NoError(t, fsm.WriteMermaid(&mermaid, g, opts))
	checkMachine(t, "perkey", dot.String(), mermaid.String())
}

func TestPerKeyCallWithEndedContextMakesNoKey(t *testing.T) {
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker}, perkey.Config{})
	ctx, cancel := context.WithCancel(on("a"))
	cancel()
	_, err := w.Execute(ctx, succeed)
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = w.Trace(ctx, succeed)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, w.HealthByKey(), "no machines made for a call that could not run")
	assert.Equal(t, er.WorkflowMetrics{}, w.Metrics(), "nothing counted")
}

func TestPerKeyAccessorsReturnOnlyMachinesThatAreOne(t *testing.T) {
	plain, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Primary: er.StrategyCircuitBreaker, Breaker: countBreaker(3, time.Minute)})
	require.NoError(t, err)
	assert.False(t, plain.PerKey())
	assert.Nil(t, plain.HealthByKey(), "no per-key machines: no per-key health")
	assert.NotNil(t, plain.Breaker())

	shared, err := bulkhead.New(bulkhead.Config{})
	require.NoError(t, err)
	w, _ := keyedWorkflow(t, er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyCircuitBreaker, SharedBulkhead: shared,
		RateLimit: &ratelimit.Config{}, AdaptiveLimit: &adaptive.Config{},
	}, perkey.Config{})
	assert.True(t, w.PerKey())
	assert.Nil(t, w.Breaker(), "one per key")
	assert.Nil(t, w.RateLimiter(), "one per key")
	assert.Nil(t, w.AdaptiveLimiter(), "one per key")
	assert.Same(t, shared, w.Bulkhead(), "shared: one")
	assert.NotNil(t, w.HealthByKey(), "an empty map, no key yet")
	assert.Empty(t, w.HealthByKey())
}
