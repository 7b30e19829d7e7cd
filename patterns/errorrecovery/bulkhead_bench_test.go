package errorrecovery_test

import (
	"context"
	"testing"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func benchBulkhead(b *testing.B, cfg er.BulkheadConfig) *er.BulkheadExecutor {
	bh, err := er.NewBulkheadExecutor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bh.Close(context.Background()) })
	return bh
}

// Admission with a slot free, in semaphore mode: acquire, a trivial
// function, release; two steps of the machine.
func BenchmarkBulkheadExecute(b *testing.B) {
	bh := benchBulkhead(b, er.DefaultBulkheadConfig())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bh.Execute(ctx, nop)
	}
}

// The same from GOMAXPROCS goroutines, fewer than the slots, so none waits.
func BenchmarkBulkheadExecuteParallel(b *testing.B) {
	bh := benchBulkhead(b, er.DefaultBulkheadConfig())
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bh.Execute(ctx, nop)
		}
	})
}

// Acquire and Release, as a workflow's actions take and give back a slot.
func BenchmarkBulkheadAcquireRelease(b *testing.B) {
	bh := benchBulkhead(b, er.DefaultBulkheadConfig())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bh.Acquire(ctx)
		bh.Release()
	}
}

// Rejection when every slot is taken and there is no queue.
func BenchmarkBulkheadReject(b *testing.B) {
	bh := benchBulkhead(b, er.BulkheadConfig{MaxConcurrent: 1})
	ctx := context.Background()
	if err := bh.Acquire(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bh.Execute(ctx, nop)
	}
	b.StopTimer()
	bh.Release()
}

// A queued call: with one slot and two goroutines per P, every call after
// the first waits in the queue and is handed the slot. It measures the
// slow path (waiter, its context, the hand-over, a goroutine switch).
func BenchmarkBulkheadExecuteQueuedParallel(b *testing.B) {
	bh := benchBulkhead(b, er.BulkheadConfig{MaxConcurrent: 1, MaxQueueSize: 1 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bh.Execute(ctx, nop)
		}
	})
}

// Worker-pool mode: the call is handed to a worker and waited for.
func BenchmarkBulkheadExecutePool(b *testing.B) {
	cfg := er.DefaultBulkheadConfig()
	cfg.UseWorkerPool = true
	bh := benchBulkhead(b, cfg)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bh.Execute(ctx, nop)
	}
}
