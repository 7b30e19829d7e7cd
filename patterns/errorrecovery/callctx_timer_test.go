package errorrecovery_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// waitsOnDone answers 1 unless its context is already done, asking for
// Done as a function that waits on its context does.
func waitsOnDone(ctx context.Context) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	default:
		return 1, nil
	}
}

// A function that asks for ctx.Done() inside the five layers makes the
// attempt arm its deadline. On the real clock the deadline goes into the
// workflow's set of deadlines, whose one timer serves every attempt, so the
// execution allocates only the context (which whoever asked may outlive,
// so it is not reused) and its Done channel.
func TestWorkflowCtxDoneAllocations(t *testing.T) {
	w := fiveLayers(t)
	defer w.Breaker().Close()
	ctx := context.Background()
	testutil.WantAllocs(t, 2, "five layers, function asks for Done", func() {
		if v, err := w.Execute(ctx, waitsOnDone); err != nil || v != 1 {
			t.Fatalf("got %v, %v; want 1, nil", v, err)
		}
	})
}

// The workflow's one deadline timer, left set by executions that ended
// before their deadline, ends each attempt that waits at that attempt's
// own deadline and no other: the attempt that waits on Done ends at the
// attempt timeout exactly, on the bubble's clock, and the executions
// before and after it, whose functions return at once, are not cut short.
func TestTheDeadlineTimerEndsEachAttemptAtItsOwnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
			Primary: er.StrategyDeadline, Deadline: &er.DeadlineConfig{AttemptTimeout: time.Second},
		})
		require.NoError(t, err)
		ctx := context.Background()
		for range 3 { // leave the timer set for deadlines that no longer matter
			v, err := w.Execute(ctx, waitsOnDone)
			require.NoError(t, err)
			require.Equal(t, 1, v)
		}
		start := time.Now()
		_, err = w.Execute(ctx, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "waiting attempt: %v, want DeadlineExceeded", err)
		assert.Equal(t, time.Second, time.Since(start), "waiting attempt: bubble time")

		var ended []error
		for range 3 {
			_, err := w.Execute(ctx, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			})
			ended = append(ended, err)
			v, err := w.Execute(ctx, waitsOnDone)
			require.NoError(t, err, "a quick attempt after a timed-out one")
			require.Equal(t, 1, v)
		}
		for i, err := range ended {
			assert.True(t, errors.Is(err, context.DeadlineExceeded), "waiting attempt %d: %v", i, err)
		}
		assert.Equal(t, 4*time.Second, time.Since(start), "four waiting attempts of 1 s each")
	})
}

// countingClock is a manual clock that counts its Now calls.
type countingClock struct {
	*enginetest.Clock
	reads atomic.Int64
}

func (c *countingClock) Now() time.Time {
	c.reads.Add(1)
	return c.Clock.Now()
}

// TestAnExecutionReadsTheClockWhereItMust pins the clock reads of a
// first-attempt success with an overall and an attempt timeout: one at
// the start, which the first attempt's deadline shares when nothing
// before it waited, and one when the answer is classified. A bulkhead
// that admits at once adds none, not even for its check of the deadline
// before taking a slot (TestAQueuedAttemptGetsItsWholeTimeout has one
// that queues).
func TestAnExecutionReadsTheClockWhereItMust(t *testing.T) {
	deadline := &er.DeadlineConfig{Timeout: time.Minute, AttemptTimeout: time.Second}
	bc := bulkhead.DefaultConfig()
	for _, tc := range []struct {
		name string
		cfg  er.ErrorRecoveryConfig[int]
		want int64
	}{
		{"retry and deadlines", er.ErrorRecoveryConfig[int]{
			Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyDeadline},
			Retry: &er.RetryConfig[int]{MaxAttempts: 3, InitialDelay: er.None}, Deadline: deadline, MetricsDisabled: true}, 2},
		{"with a bulkhead that admits at once", er.ErrorRecoveryConfig[int]{
			Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyDeadline, er.StrategyBulkhead},
			Retry: &er.RetryConfig[int]{MaxAttempts: 3, InitialDelay: er.None}, Deadline: deadline, Bulkhead: &bc, MetricsDisabled: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &countingClock{Clock: enginetest.NewClock(time.Unix(0, 0))}
			w, err := er.NewWorkflow(tc.cfg, engine.WithClock(clk))
			require.NoError(t, err)
			_, _ = w.Execute(context.Background(), succeed) // warm
			clk.reads.Store(0)
			v, err := w.Execute(context.Background(), succeed)
			require.NoError(t, err)
			assert.Equal(t, 1, v)
			assert.Equal(t, tc.want, clk.reads.Load(), "clock reads")
		})
	}
}

// TestAQueuedAttemptGetsItsWholeTimeout queues an execution in the
// bulkhead while the manual clock moves: its first attempt's deadline is
// set when the attempt starts, not from the execution's start, so the
// function sees the whole AttemptTimeout.
func TestAQueuedAttemptGetsItsWholeTimeout(t *testing.T) {
	clk := enginetest.NewClock(time.Unix(0, 0))
	bc := bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: 1, QueueTimeout: bulkhead.NoTimeout}
	ctx := context.Background()
	left := func(ctx context.Context) (time.Duration, error) {
		d, _ := er.TimeLeft(ctx)
		return d, nil
	}
	lw, err := er.NewWorkflow(er.ErrorRecoveryConfig[time.Duration]{
		Primary: er.StrategyBulkhead, Secondary: []er.Strategy{er.StrategyDeadline},
		Bulkhead: &bc, Deadline: &er.DeadlineConfig{AttemptTimeout: 10 * time.Second},
	}, engine.WithClock(clk))
	require.NoError(t, err)

	got, err := lw.Execute(ctx, left)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, got, "admitted at once")

	require.NoError(t, lw.Bulkhead().Acquire(ctx)) // hold the only slot
	done := make(chan time.Duration)
	go func() {
		d, err := lw.Execute(ctx, left)
		assert.NoError(t, err)
		done <- d
	}()
	for lw.Bulkhead().Metrics().Queued < 1 {
		runtime.Gosched()
	}
	clk.Advance(3 * time.Second)
	lw.Bulkhead().Release()
	assert.Equal(t, 10*time.Second, <-done, "queued for 3s, then the whole attempt timeout")
}

// TestAnAttemptAfterARateWaitGetsItsWholeTimeout is the same for a call
// that waited for its rate permit.
func TestAnAttemptAfterARateWaitGetsItsWholeTimeout(t *testing.T) {
	clk := enginetest.NewClock(time.Unix(0, 0))
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[time.Duration]{
		Primary: er.StrategyRateLimit, Secondary: []er.Strategy{er.StrategyDeadline},
		RateLimit: &ratelimit.Config{Permits: 1, Period: 3 * time.Second, MaxWait: time.Minute},
		Deadline:  &er.DeadlineConfig{AttemptTimeout: 10 * time.Second},
	}, engine.WithClock(clk))
	require.NoError(t, err)
	ctx := context.Background()
	left := func(ctx context.Context) (time.Duration, error) {
		d, _ := er.TimeLeft(ctx)
		return d, nil
	}
	got, err := w.Execute(ctx, left) // the permit free now
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, got, "no wait")

	done := make(chan time.Duration)
	go func() {
		d, err := w.Execute(ctx, left) // the next permit comes in 3s
		assert.NoError(t, err)
		done <- d
	}()
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1))
	clk.Advance(3 * time.Second)
	assert.Equal(t, 10*time.Second, <-done, "waited 3s for a permit, then the whole attempt timeout")
}

// Many executions at once share the workflow's one deadline timer, with
// deadlines that come in out of order (a retry's second attempt is cut to
// the overall deadline, earlier than the first attempts of executions
// started after it) and quick attempts that arm their deadline and take it
// out again: each attempt that waits on Done ends at its own deadline, to
// the bubble's nanosecond, and the quick ones are never cut short.
func TestManyExecutionsShareTheDeadlineTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
			Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyDeadline},
			Retry:    &er.RetryConfig[int]{MaxAttempts: 2, InitialDelay: er.None},
			Deadline: &er.DeadlineConfig{Timeout: 3 * time.Second, AttemptTimeout: 2 * time.Second},
		})
		require.NoError(t, err)
		ctx := context.Background()
		const n = 40
		type outcome struct {
			waits    bool
			started  time.Duration
			took     time.Duration
			err      error
			attempts int
		}
		out := make([]outcome, n)
		begin := time.Now()
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// Twenty starts 150 ms apart, then twenty 1.5 s apart: in
				// the second run, a second attempt's deadline (its
				// execution's 3 s) is earlier than every deadline the
				// timer holds, the next execution's first attempt.
				at := time.Duration(i) * 150 * time.Millisecond
				if i >= n/2 {
					at = 4*time.Second + time.Duration(i-n/2)*1500*time.Millisecond
				}
				time.Sleep(at)
				o := outcome{waits: i%3 != 0, started: time.Since(begin)}
				start := time.Now()
				res, err := w.ExecuteResult(ctx, func(ctx context.Context) (int, error) {
					if !o.waits {
						return waitsOnDone(ctx) // asks for Done, and returns at once
					}
					<-ctx.Done()
					return 0, ctx.Err()
				})
				o.took, o.err, o.attempts = time.Since(start), err, res.Attempts
				out[i] = o
			})
		}
		wg.Wait()
		for i, o := range out {
			if !o.waits {
				assert.NoError(t, o.err, "execution %d, quick", i)
				assert.Zero(t, o.took, "execution %d, quick: no time passes", i)
				continue
			}
			// The first attempt ends at its 2 s; the second is cut to the
			// overall 3 s.
			assert.ErrorIs(t, o.err, context.DeadlineExceeded, "execution %d", i)
			assert.Equal(t, 3*time.Second, o.took, "execution %d, started at %v", i, o.started)
			assert.Equal(t, 2, o.attempts, "execution %d", i)
		}
	})
}
