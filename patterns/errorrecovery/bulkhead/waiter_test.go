package bulkhead

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/testutil"
)

// The queue on the real clock, where queued calls are pooled waiters
// (see waiter), in a synctest bubble so that its time is exact and its
// waits are seen to block.

func TestPooledWaitersServeFirstInFirstOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBulkhead(t, Config{MaxConcurrent: 1, MaxQueueSize: 4, QueueTimeout: time.Minute})
		require.True(t, b.realClock)
		require.NoError(t, b.Acquire(context.Background()))
		order := make(chan int, 4)
		for i := range 4 {
			go func() {
				if !assert.NoError(t, b.Acquire(context.Background())) {
					return
				}
				order <- i
				b.Release()
			}()
			synctest.Wait() // i is queued before i+1 arrives
		}
		assert.Equal(t, StateQueueFull, b.State())
		b.Release()
		var got []int
		for range 4 {
			got = append(got, <-order)
		}
		assert.Empty(t, cmp.Diff([]int{0, 1, 2, 3}, got), "admission order")
		synctest.Wait()
		assert.Equal(t, Metrics{Completed: 5}, b.Metrics())
		assert.Equal(t, StateAvailable, b.State())
	})
}

func TestPooledWaiterTimesOutAndIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBulkhead(t, Config{MaxConcurrent: 1, MaxQueueSize: 4, QueueTimeout: 5 * time.Second})
		require.NoError(t, b.Acquire(context.Background()))

		start := time.Now()
		err := b.Acquire(context.Background())
		assert.ErrorIs(t, err, ErrQueueTimeout)
		assert.Equal(t, 5*time.Second, time.Since(start), "time queued")

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Acquire(ctx) }()
		synctest.Wait()
		assert.Equal(t, 1, b.Metrics().Queued)
		cancel()
		err = <-done
		assert.ErrorIs(t, err, context.Canceled)
		var be *Error
		require.True(t, errors.As(err, &be))
		assert.Equal(t, ReasonCancelled, be.Reason)

		// The pooled waiters came back clean: the next one waits its
		// whole timeout again and is then handed a slot.
		go func() { done <- b.Acquire(context.Background()) }()
		time.Sleep(4 * time.Second)
		b.Release()
		assert.NoError(t, <-done)
		b.Release()
		assert.Equal(t, Metrics{Completed: 2, TimedOut: 1, Cancelled: 1}, b.Metrics())
	})
}

func TestPooledWaiterHandedASlotAfterCloseIsRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBulkhead(t, Config{MaxConcurrent: 1, MaxQueueSize: 1, QueueTimeout: NoTimeout})
		require.NoError(t, b.Acquire(context.Background()))
		done := make(chan error, 1)
		go func() { done <- b.Acquire(context.Background()) }()
		synctest.Wait()
		require.NoError(t, b.Close(context.Background()))
		b.Release()
		assert.ErrorIs(t, <-done, ErrClosed)
		assert.Equal(t, Metrics{Completed: 1, Rejected: 1}, b.Metrics())
		assert.Equal(t, StateAvailable, b.State())
	})
}

// TestQueuedWaiterAllocs pins the cost of waiting on the real clock: a
// call that queues and is handed a slot allocates nothing once the
// Bulkhead's pool holds a waiter (one, with its channel and timer, when
// it has none to give).
func TestQueuedWaiterAllocs(t *testing.T) {
	b := newTestBulkhead(t, Config{MaxConcurrent: 1, MaxQueueSize: 1, QueueTimeout: time.Minute})
	ctx := context.Background()
	start, done := make(chan struct{}), make(chan struct{})
	go func() {
		for range start {
			if err := b.Acquire(ctx); err != nil { // queues: the test holds the slot
				t.Error(err)
			}
			b.Release()
			done <- struct{}{}
		}
	}()
	defer close(start)
	round := func() {
		if err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		start <- struct{}{}
		for b.State() != StateQueueFull {
			runtime.Gosched()
		}
		b.Release() // handed over to the queued call
		<-done
	}
	testutil.WantAllocs(t, 0, "a call queued and handed a slot, with the hand-over", round)
}
