package bulkhead_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

func benchBulkhead(b *testing.B, cfg bulkhead.Config) *bulkhead.Bulkhead {
	bh, err := bulkhead.New(cfg)
	require.NoError(b, err)
	b.Cleanup(func() { bh.Close(context.Background()) })
	return bh
}

// Admission with a slot free, in semaphore mode: acquire, a trivial
// function, release; two steps of the machine.
func BenchmarkProtect(b *testing.B) {
	bh := benchBulkhead(b, bulkhead.DefaultConfig())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bh.Protect(ctx, nop)
	}
}

// The same through Execute, with the function's result.
func BenchmarkExecute(b *testing.B) {
	bh := benchBulkhead(b, bulkhead.DefaultConfig())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bulkhead.Execute(ctx, bh, answer)
	}
}

// The same from GOMAXPROCS goroutines, fewer than the slots, so none waits.
func BenchmarkProtectParallel(b *testing.B) {
	bh := benchBulkhead(b, bulkhead.DefaultConfig())
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bh.Protect(ctx, nop)
		}
	})
}

// Acquire and Release, as a workflow's actions take and give back a slot.
func BenchmarkAcquireRelease(b *testing.B) {
	bh := benchBulkhead(b, bulkhead.DefaultConfig())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bh.Acquire(ctx)
		bh.Release()
	}
}

// Rejection when every slot is taken and there is no queue.
func BenchmarkReject(b *testing.B) {
	bh := benchBulkhead(b, bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue})
	ctx := context.Background()
	require.NoError(b, bh.Acquire(ctx))
	b.ReportAllocs()
	for b.Loop() {
		bh.Protect(ctx, nop)
	}
	b.StopTimer()
	bh.Release()
}

// A queued call: with one slot and two goroutines per P, every call after
// the first waits in the queue, with no queue timeout, and is handed the
// slot. It measures the slow path (waiter, its context, the hand-over, a
// goroutine switch).
func BenchmarkProtectQueuedParallel(b *testing.B) {
	bh := benchBulkhead(b, bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: 1 << 20, QueueTimeout: bulkhead.NoTimeout})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bh.Protect(ctx, nop)
		}
	})
}

// Worker-pool mode: the call is handed to a worker and waited for.
func BenchmarkProtectPool(b *testing.B) {
	cfg := bulkhead.DefaultConfig()
	cfg.UseWorkerPool = true
	bh := benchBulkhead(b, cfg)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bh.Protect(ctx, nop)
	}
}

// The same through Execute: the result comes back from the worker.
func BenchmarkExecutePool(b *testing.B) {
	cfg := bulkhead.DefaultConfig()
	cfg.UseWorkerPool = true
	bh := benchBulkhead(b, cfg)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bulkhead.Execute(ctx, bh, answer)
	}
}
