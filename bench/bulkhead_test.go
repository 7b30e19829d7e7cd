package bench

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/stretchr/testify/require"

	scbulkhead "github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// The bulkheads compared: 10 slots, a wait of at most 30 s for one.
// statecraft: bulkhead.DefaultConfig with a queue of at most 256 waiters
// (the default 100 would reject calls at 128 goroutines, where failsafe-go
// queues any number), served first in first out, in the caller's
// goroutine; failsafe-go: bulkhead.NewBuilder(10).WithMaxWaitTime(30 *
// time.Second), a buffered channel used as a semaphore.

func scBulkhead(tb testing.TB) *scbulkhead.Bulkhead {
	tb.Helper()
	cfg := scbulkhead.DefaultConfig()
	cfg.MaxQueueSize = 256
	bh, err := scbulkhead.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = bh.Close(context.Background()) })
	return bh
}

func fsBulkhead() bulkhead.Bulkhead[int] {
	return bulkhead.NewBuilder[int](10).WithMaxWaitTime(30 * time.Second).Build()
}

// BenchmarkSharedBulkhead is admission to one bulkhead shared by 1, 2, 8,
// 16, 64 and 128 goroutines, b.N calls in all. With more goroutines than
// slots (16 > 10) a call may find every slot taken and wait: the cost then
// includes queueing and handing the slot over. The -Execute and -Executor
// rows run a function that returns nil (statecraft's through Protect, the
// error-only form; the row keeps its name so that its history compares);
// the -AcquireRelease rows take and give back a slot around nothing.
func BenchmarkSharedBulkhead(b *testing.B) {
	ctx := context.Background()
	for _, g := range goroutineCounts {
		b.Run("goroutines="+strconv.Itoa(g), func(b *testing.B) {
			b.Run("statecraft-Execute", func(b *testing.B) {
				bh := scBulkhead(b)
				inGoroutines(b, g, func(n int) {
					for range n {
						if err := bh.Protect(ctx, okCtx); err != nil {
							b.Error(err)
							return
						}
					}
				})
				wantBulkheadIdle(b, bh)
			})
			b.Run("statecraft-AcquireRelease", func(b *testing.B) {
				bh := scBulkhead(b)
				inGoroutines(b, g, func(n int) {
					for range n {
						if err := bh.Acquire(ctx); err != nil {
							b.Error(err)
							return
						}
						bh.Release()
					}
				})
				wantBulkheadIdle(b, bh)
			})
			b.Run("failsafe-Executor", func(b *testing.B) {
				x := failsafe.With[int](fsBulkhead())
				inGoroutines(b, g, func(n int) {
					for range n {
						if err := x.Run(okErr); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run("failsafe-AcquireRelease", func(b *testing.B) {
				bh := fsBulkhead()
				inGoroutines(b, g, func(n int) {
					for range n {
						if err := bh.AcquirePermitWithMaxWait(ctx, 30*time.Second); err != nil {
							b.Error(err)
							return
						}
						bh.ReleasePermit()
					}
				})
				require.True(b, bh.TryAcquirePermit(), "failsafe bulkhead still full after the run")
			})
		})
	}
}

// wantBulkheadIdle checks that every call got a slot and gave it back.
func wantBulkheadIdle(b *testing.B, bh *scbulkhead.Bulkhead) {
	b.Helper()
	m := bh.Metrics()
	require.Zero(b, m.Active, "after %d calls: active", b.N)
	require.Zero(b, m.Queued, "after %d calls: queued", b.N)
	require.Zero(b, m.Rejected, "after %d calls: rejected", b.N)
	require.Zero(b, m.TimedOut, "after %d calls: timed out", b.N)
	require.Equal(b, uint64(b.N), m.Completed, "after %d calls: completed", b.N)
}
