package errorrecovery_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The tests of hedge_test.go run on the manual clock; these run on the
// real one, inside a testing/synctest bubble, where the executor waits on
// its answers' signal and a timer it reuses instead of a context and a
// timer per wait.

// realHedge is a workflow on the real clock with one hedge after delay.
func realHedge(t *testing.T, delay time.Duration) *er.Workflow[int] {
	t.Helper()
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyHedge, Hedge: &er.HedgeConfig{Delay: delay, MaxHedges: 1},
	})
	require.NoError(t, err)
	return w
}

// An answer that comes while the executor waits for the hedge's delay
// wakes it at once, and no hedge starts; a first attempt slower than the
// delay has a hedge started at the delay, whose answer wins and cancels
// the first. Run twice in a row, so that the second of each uses what
// the first left (the signal, the timer, the hedging itself).
func TestHedgeOnTheRealClockWakesAtTheAnswerOrTheDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := realHedge(t, time.Second)
		ctx := context.Background()
		for round := range 2 {
			start := time.Now()
			res, err := w.ExecuteResult(ctx, func(context.Context) (int, error) {
				time.Sleep(300 * time.Millisecond)
				return 1, nil
			})
			require.NoError(t, err, "round %d, quick", round)
			assert.Equal(t, 1, res.Value, "round %d, quick: value", round)
			assert.Equal(t, 1, res.Attempts, "round %d, quick: no hedge", round)
			assert.Equal(t, 300*time.Millisecond, time.Since(start), "round %d, quick: returned at the answer", round)

			var calls atomic.Int32
			cancelled := make(chan error, 1)
			start = time.Now()
			res, err = w.ExecuteResult(ctx, func(ctx context.Context) (int, error) {
				if calls.Add(1) == 1 {
					<-ctx.Done() // the first hangs until the hedge wins
					cancelled <- ctx.Err()
					return 0, ctx.Err()
				}
				return 2, nil
			})
			require.NoError(t, err, "round %d, slow", round)
			assert.Equal(t, 2, res.Value, "round %d, slow: the hedge's answer", round)
			assert.Equal(t, 2, res.Attempts, "round %d, slow: the attempt and its hedge", round)
			assert.Equal(t, time.Second, time.Since(start), "round %d, slow: returned when the hedge answered", round)
			assert.ErrorIs(t, <-cancelled, context.Canceled, "round %d, slow: the first attempt is cancelled", round)
			synctest.Wait() // the loser's goroutine has returned
		}
	})
}

// A caller who gives up while the executor waits ends the wait at once,
// even when the attempt ignores its context and does not answer: the wait
// itself watches the caller's context.
func TestHedgeOnTheRealClockEndsWhenTheCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := realHedge(t, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(500*time.Millisecond, cancel)
		release := make(chan struct{})
		start := time.Now()
		_, err := w.Execute(ctx, func(context.Context) (int, error) {
			<-release // ignores its context
			return 1, nil
		})
		assert.True(t, errors.Is(err, context.Canceled), "got %v, want context.Canceled", err)
		assert.Equal(t, 500*time.Millisecond, time.Since(start), "returned when the caller gave up")
		close(release) // the abandoned attempt returns; its answer is dropped
		synctest.Wait()
	})
}

// A hedged execution whose first attempt answers before the delay makes
// its attempt's goroutine, context and round, and reuses the rest (the
// hedging, its signal and timer) from the execution before it: 6
// allocations on go1.26, where making them anew was 12.
func TestHedgeFirstAnswerAllocations(t *testing.T) {
	w := realHedge(t, time.Hour)
	ctx := context.Background()
	answer := func(context.Context) (int, error) { return 1, nil }
	testutil.WantAllocs(t, 6, "hedged execution, first attempt answers", func() {
		if _, err := w.Execute(ctx, answer); err != nil {
			t.Fatal(err)
		}
	})
}
