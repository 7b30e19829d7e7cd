package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// TestStatecraftAllocs pins the allocation counts statecraft promises for
// the work its benchmark rows do (DESIGN.md, "Performance targets"): each
// case is built by the same helpers as the benchmark it names and does
// the same call. The peers' counts are only measured, in the benchmarks.
func TestStatecraftAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	ctx := context.Background()
	inst, _ := engine.NewInstance(toggleDef(false), 0)
	guarded, _ := engine.NewInstance(toggleDef(true), 0)
	run, _ := engine.NewRunner(toggleDef(false)).Start(ctx, 0)
	defer run.Release()
	guardedRun, _ := engine.NewRunner(toggleDef(true)).Start(ctx, 0)
	defer guardedRun.Release()
	closed, open := scBreaker(t, nil), scOpenBreaker(t)
	retry := scRetry(t)
	twice := &flaky{failures: 2}
	twiceFn := twice.callCtx
	three, five := scThreeLayers(t), scFiveLayers(t)
	bh := scBulkhead(t)
	seven := scLayers(t, len(layerNames))
	waitsOnDone := func(ctx context.Context) (int, error) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
			return 1, nil
		}
	}
	free := scLimiter(t, freeLimiter)
	limited := scLimiter(t, ratelimit.Config{Permits: 1, Period: time.Hour})
	limited.Allow()
	keys, hot := scPerKey(t)

	for _, c := range []struct {
		bench string // the benchmark row whose work this is
		max   float64
		op    func()
	}{
		{"Toggle/statecraft-Instance", 0, func() { _, _ = inst.Fire(ctx, flip) }},
		{"Toggle/statecraft-Run", 0, func() { _, _ = run.Fire(ctx, flip) }},
		{"ToggleGuardAction/statecraft-Instance", 0, func() { _, _ = guarded.Fire(ctx, flip) }},
		{"ToggleGuardAction/statecraft-Run", 0, func() { _, _ = guardedRun.Fire(ctx, flip) }},
		{"BreakerClosedSuccess/statecraft-AllowDone", 0, func() { p, _ := closed.Allow(); p.Done(nil) }},
		{"BreakerClosedSuccess/statecraft-Call", 0, func() { _ = closed.Protect(ctx, okCtx) }},
		{"BreakerOpenReject/statecraft-Allow", 0, func() { _, _ = open.Allow() }},
		{"BreakerOpenReject/statecraft-Call", 0, func() { _ = open.Protect(ctx, okCtx) }},
		{"RetryFirstSuccess/statecraft-RetryExecutor", 0, func() { _, _ = retry.Execute(ctx, okIntCtx) }},
		{"RetryFailTwice/statecraft-RetryExecutor", 0, func() { twice.reset(); _, _ = retry.Execute(ctx, twiceFn) }},
		{"FallbackRetryBreaker/statecraft-Workflow", 0, func() { _, _ = three.Execute(ctx, okIntCtx) }},
		{"FiveLayers/statecraft-Workflow", 0, func() { _, _ = five.Execute(ctx, okIntCtx) }},
		{"FiveLayersCtxDone/statecraft-Workflow", 2, func() { _, _ = five.Execute(ctx, waitsOnDone) }},
		{"Layers/layers=7/statecraft-Workflow", 0, func() { _, _ = seven.Execute(ctx, okIntCtx) }},
		{"SharedBulkhead/goroutines=1/statecraft-Execute", 0, func() { _ = bh.Protect(ctx, okCtx) }},
		{"SharedBulkhead/goroutines=1/statecraft-AcquireRelease", 0, func() { _ = bh.Acquire(ctx); bh.Release() }},
		{"RateLimitAllow/statecraft-Allow", 0, func() { free.Allow() }},
		{"RateLimitReject/statecraft-Allow", 0, func() { limited.Allow() }},
		{"PerKeyHotKey/statecraft-AcquireRelease", 0, func() { l, _ := keys.Acquire(hot); l.Release() }},
	} {
		c.op() // warm pools
		assert.LessOrEqual(t, testing.AllocsPerRun(1000, c.op), c.max, "%s: allocs per op", c.bench)
	}
}
