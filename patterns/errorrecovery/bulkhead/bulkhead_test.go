package bulkhead_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

func bulkheadCfg(maxConcurrent, maxQueue int, timeout time.Duration) bulkhead.Config {
	return bulkhead.Config{MaxConcurrent: maxConcurrent, MaxQueueSize: maxQueue, QueueTimeout: timeout}
}

func mustBulkhead(t *testing.T, cfg bulkhead.Config, opts ...engine.Option) *bulkhead.Bulkhead {
	t.Helper()
	b, err := bulkhead.New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background()), "Close") })
	return b
}

// goProtect runs b.Protect in a goroutine and delivers its error.
func goProtect(b *bulkhead.Bulkhead, ctx context.Context, fn func(context.Context) error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- b.Protect(ctx, fn) }()
	return ch
}

// holdSlot starts a call that holds a slot until the returned function is
// called; that function returns the call's error.
func holdSlot(t *testing.T, b *bulkhead.Bulkhead) func() error {
	t.Helper()
	started, release := make(chan struct{}), make(chan struct{})
	ch := goProtect(b, context.Background(), func(context.Context) error {
		close(started)
		<-release
		return nil
	})
	<-started
	return func() error {
		close(release)
		return <-ch
	}
}

// mustNotRun is a function the bulkhead must not call.
func mustNotRun(t *testing.T) func(context.Context) error {
	return func(context.Context) error {
		assert.Fail(t, "the bulkhead ran a call it did not admit")
		return nil
	}
}

func nop(context.Context) error { return nil }

// answer is a function with a result, for Execute.
func answer(context.Context) (int, error) { return 42, nil }

var errBulkheadTest = errors.New("the function's own error")

// waiters blocks until n callers sleep on clk: queued calls with a queue
// timeout. The real-time limit only turns a hang into a failure.
func waiters(t *testing.T, clk *enginetest.Clock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clk.BlockUntilWaiters(ctx, n), "waiting for %d queued calls", n)
}

// stillWaiting fails t if the call behind ch has returned.
func stillWaiting(t *testing.T, ch <-chan error) {
	t.Helper()
	select {
	case err := <-ch:
		require.FailNow(t, "the call returned, want it still waiting", "error %v", err)
	default:
	}
}

func wantMetrics(t *testing.T, b *bulkhead.Bulkhead, want bulkhead.Metrics) {
	t.Helper()
	if diff := cmp.Diff(want, b.Metrics()); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func wantReason(t *testing.T, err error, sentinel error, reason bulkhead.Reason) {
	t.Helper()
	if sentinel != nil {
		assert.ErrorIs(t, err, sentinel)
	}
	be, ok := errors.AsType[*bulkhead.Error](err)
	if assert.True(t, ok, "error %v: want a *bulkhead.Error with Reason %v", err, reason) {
		assert.Equal(t, reason, be.Reason, "error %v: Reason", err)
	}
}

func TestBulkheadServesWaitersFirstInFirstOut(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(1, 10, time.Hour), engine.WithClock(clk))
	release := holdSlot(t, b)

	var mu sync.Mutex
	var order []int
	var results []<-chan error
	for i := range 5 {
		results = append(results, goProtect(b, context.Background(), func(context.Context) error {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			return nil
		}))
		waiters(t, clk, i+1) // i+1 callers parked, in the order they came
	}
	require.NoError(t, release())
	for _, ch := range results {
		require.NoError(t, <-ch)
	}
	if diff := cmp.Diff([]int{0, 1, 2, 3, 4}, order); diff != "" {
		t.Errorf("order served (-want +got):\n%s", diff)
	}
	wantMetrics(t, b, bulkhead.Metrics{Completed: 6})
}

func TestBulkheadRejectsAtOnceWhenTheQueueIsFull(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(1, 1, time.Minute), engine.WithClock(clk))
	release := holdSlot(t, b)
	queued := goProtect(b, context.Background(), nop)
	waiters(t, clk, 1)

	// In this goroutine, with nothing released and no time passing: the
	// rejection does not wait.
	err := b.Protect(context.Background(), mustNotRun(t))
	wantReason(t, err, bulkhead.ErrFull, bulkhead.ReasonFull)
	assert.NotErrorIs(t, err, bulkhead.ErrQueueTimeout, "a full queue's rejection")
	require.NoError(t, release())
	require.NoError(t, <-queued)
	wantMetrics(t, b, bulkhead.Metrics{Completed: 2, Rejected: 1})
}

func TestBulkheadWithNoQueueRejectsWhenSaturated(t *testing.T) {
	b := mustBulkhead(t, bulkheadCfg(2, bulkhead.NoQueue, bulkhead.NoTimeout))
	r1, r2 := holdSlot(t, b), holdSlot(t, b)
	assert.Equal(t, bulkhead.StateSaturated, b.State(), "state")
	err := b.Protect(context.Background(), mustNotRun(t))
	wantReason(t, err, bulkhead.ErrFull, bulkhead.ReasonFull)
	assert.Equal(t, bulkhead.StateSaturated, b.State(), "after a rejection: state (no queue to be full)")
	for _, r := range []func() error{r1, r2} {
		require.NoError(t, r())
	}
	assert.Equal(t, bulkhead.StateAvailable, b.State(), "after the releases: state")
}

func TestBulkheadQueueTimeoutRunsOnTheClock(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(1, 2, 5*time.Second), engine.WithClock(clk))
	release := holdSlot(t, b)
	queued := goProtect(b, context.Background(), mustNotRun(t))
	waiters(t, clk, 1)

	clk.Advance(5*time.Second - 1)
	stillWaiting(t, queued) // woken by nothing
	assert.Equal(t, 1, b.Metrics().Queued, "after 5s-1ns: calls queued")
	clk.Advance(1)
	err := <-queued
	wantReason(t, err, bulkhead.ErrQueueTimeout, bulkhead.ReasonTimedOut)
	assert.NotErrorIs(t, err, bulkhead.ErrFull, "a queue timeout")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "a queue timeout")
	var te interface{ Timeout() bool }
	if assert.ErrorAs(t, err, &te, "a queue timeout does not report Timeout()") {
		assert.True(t, te.Timeout(), "a queue timeout %v does not report Timeout()", err)
	}
	assert.Equal(t, bulkhead.StateSaturated, b.State(), "after the timeout: state")
	require.NoError(t, release())
	wantMetrics(t, b, bulkhead.Metrics{Completed: 1, TimedOut: 1})
}

// TestBulkheadQueueTimeoutRunsFromTheEnqueue pins issue 24's window in the
// bulkhead: the clock advances past the queue timeout after the call joined
// the queue but before its goroutine sleeps. The timeout runs from the
// enqueue, so the call times out without a further Advance.
func TestBulkheadQueueTimeoutRunsFromTheEnqueue(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var advanced atomic.Bool
	advance := engine.ObserverFunc(func(r engine.Record) {
		if r.Event == bulkhead.EventAcquire.String() && r.To == bulkhead.StateQueueFull.String() && advanced.CompareAndSwap(false, true) {
			clk.Advance(5 * time.Second) // in the enqueuing goroutine, before it sleeps
		}
	})
	b := mustBulkhead(t, bulkheadCfg(1, 1, 5*time.Second), engine.WithClock(clk), engine.WithObserver(advance))
	release := holdSlot(t, b)
	queued := goProtect(b, context.Background(), mustNotRun(t))
	select {
	case err := <-queued:
		wantReason(t, err, bulkhead.ErrQueueTimeout, bulkhead.ReasonTimedOut)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "a call whose queue timeout passed before it slept is still waiting")
	}
	require.True(t, advanced.Load(), "the observer never saw the call join the queue")
	require.NoError(t, release())
}

func TestBulkheadTimeoutAtTheMomentOfAHandOffPassesTheSlotOn(t *testing.T) {
	// A's timeout falls due, and the holder releases, with no ordering
	// between A's goroutine and the release: whichever the machine sees
	// first, A times out and B gets the slot.
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(1, 2, 5*time.Second), engine.WithClock(clk))
	release := holdSlot(t, b)
	a := goProtect(b, context.Background(), mustNotRun(t))
	waiters(t, clk, 1)
	clk.Advance(time.Second)
	ran := make(chan struct{})
	bc := goProtect(b, context.Background(), func(context.Context) error { close(ran); return nil })
	waiters(t, clk, 2)
	clk.Advance(4 * time.Second) // A's deadline
	require.NoError(t, release())
	wantReason(t, <-a, bulkhead.ErrQueueTimeout, bulkhead.ReasonTimedOut)
	require.NoError(t, <-bc, "B")
	<-ran
	wantMetrics(t, b, bulkhead.Metrics{Completed: 2, TimedOut: 1})
	assert.Equal(t, bulkhead.StateAvailable, b.State(), "state")
}

func TestBulkheadCallerContextEndsTheWait(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(1, 5, time.Minute), engine.WithClock(clk))
	release := holdSlot(t, b)

	cctx, cancel := context.WithCancel(context.Background())
	cancelled := goProtect(b, cctx, mustNotRun(t))
	waiters(t, clk, 1)
	dctx, dcancel := engine.WithTimeout(context.Background(), clk, 2*time.Second)
	defer dcancel()
	expired := goProtect(b, dctx, mustNotRun(t))
	waiters(t, clk, 2)
	last := goProtect(b, context.Background(), nop)
	waiters(t, clk, 3)

	cancel()
	err := <-cancelled
	wantReason(t, err, context.Canceled, bulkhead.ReasonCancelled)
	assert.NotErrorIs(t, err, bulkhead.ErrQueueTimeout, "a cancelled wait")
	assert.NotErrorIs(t, err, bulkhead.ErrFull, "a cancelled wait")
	clk.Advance(2 * time.Second) // dctx's deadline, on the clock
	wantReason(t, <-expired, context.DeadlineExceeded, bulkhead.ReasonCancelled)

	// The queue kept its order without them.
	assert.Equal(t, 1, b.Metrics().Queued, "calls queued")
	require.NoError(t, release())
	require.NoError(t, <-last)
	wantMetrics(t, b, bulkhead.Metrics{Completed: 2, Cancelled: 2})

	// A context already ended is not admitted, even with a slot free.
	done, stop := context.WithCancel(context.Background())
	stop()
	wantReason(t, b.Protect(done, mustNotRun(t)), context.Canceled, bulkhead.ReasonCancelled)
}

func TestExecuteReturnsTheFunctionsResult(t *testing.T) {
	for _, pool := range []bool{false, true} {
		t.Run("pool="+strconv.FormatBool(pool), func(t *testing.T) {
			cfg := bulkheadCfg(1, bulkhead.NoQueue, bulkhead.NoTimeout)
			cfg.UseWorkerPool = pool
			b := mustBulkhead(t, cfg)
			ctx := context.Background()

			n, err := bulkhead.Execute(ctx, b, answer)
			assert.NoError(t, err, "Execute")
			assert.Equal(t, 42, n, "Execute")
			// A failing function's result comes back with its error.
			v, err := bulkhead.Execute(ctx, b, func(context.Context) (string, error) { return "partial", errBulkheadTest })
			assert.Equal(t, "partial", v, "Execute: want the function's result")
			assert.Equal(t, errBulkheadTest, err, "Execute: want the function's error")
			// A call that does not run gets the zero value and the rejection.
			release := holdSlot(t, b)
			v, err = bulkhead.Execute(ctx, b, func(context.Context) (string, error) {
				assert.Fail(t, "the bulkhead ran a call it did not admit")
				return "ran", nil
			})
			assert.Empty(t, v, "a rejected call's result: want the zero value")
			wantReason(t, err, bulkhead.ErrFull, bulkhead.ReasonFull)
			require.NoError(t, release())
			wantMetrics(t, b, bulkhead.Metrics{Completed: 3, Rejected: 1})
		})
	}
}

func TestExecutePanicReleasesTheSlot(t *testing.T) {
	for _, pool := range []bool{false, true} {
		t.Run("pool="+strconv.FormatBool(pool), func(t *testing.T) {
			cfg := bulkheadCfg(1, bulkhead.NoQueue, bulkhead.NoTimeout)
			cfg.UseWorkerPool = pool
			b := mustBulkhead(t, cfg)
			want := &bulkheadPanic{2}
			got := func() (v any) {
				defer func() { v = recover() }()
				bulkhead.Execute(context.Background(), b, func(context.Context) (int, error) { panic(want) })
				return nil
			}()
			require.Equal(t, want, got, "recovered: want the original value")
			v, err := bulkhead.Execute(context.Background(), b, answer)
			assert.NoError(t, err, "after a panic: Execute, want the slot free")
			assert.Equal(t, 42, v, "after a panic: Execute, want the slot free")
			wantMetrics(t, b, bulkhead.Metrics{Completed: 2})
		})
	}
}

type bulkheadPanic struct{ n int }

// protectRecover runs b.Protect and returns what it panicked with.
func protectRecover(b *bulkhead.Bulkhead, fn func(context.Context) error) (v any) {
	defer func() { v = recover() }()
	b.Protect(context.Background(), fn)
	return nil
}

func TestBulkheadPanicReleasesTheSlot(t *testing.T) {
	for _, pool := range []bool{false, true} {
		t.Run("pool="+strconv.FormatBool(pool), func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			cfg := bulkheadCfg(1, 1, time.Minute)
			cfg.UseWorkerPool = pool
			b := mustBulkhead(t, cfg, engine.WithClock(clk))

			want := &bulkheadPanic{1}
			require.Equal(t, want, protectRecover(b, func(context.Context) error { panic(want) }), "recovered: want the original value")
			require.Zero(t, b.Metrics().Active, "after a panic: calls active, want the slot free")
			require.Equal(t, bulkhead.StateAvailable, b.State(), "after a panic: state, want the slot free")

			// A panic while a call waits hands the slot to it.
			started, boom := make(chan struct{}), make(chan struct{})
			panicked := make(chan any, 1)
			go func() {
				panicked <- protectRecover(b, func(context.Context) error {
					close(started)
					<-boom
					panic(want)
				})
			}()
			<-started
			queued := goProtect(b, context.Background(), nop)
			waiters(t, clk, 1)
			close(boom)
			assert.Equal(t, want, <-panicked, "recovered")
			assert.NoError(t, <-queued, "the waiter")
			wantMetrics(t, b, bulkhead.Metrics{Completed: 3})
		})
	}
}

// goroutineID returns the current goroutine's number, from its stack
// header; tests use it to tell which goroutine ran a function.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	return string(buf[:bytes.IndexByte(buf, ' ')])
}

func TestBulkheadWorkerPoolRunsCallsOnItsOwnGoroutines(t *testing.T) {
	cfg := bulkheadCfg(3, 10, bulkhead.NoTimeout)
	cfg.UseWorkerPool = true
	b := mustBulkhead(t, cfg)

	caller := goroutineID()
	var mu sync.Mutex
	workers := map[string]bool{}
	for range 50 {
		err := b.Protect(context.Background(), func(context.Context) error {
			mu.Lock()
			workers[goroutineID()] = true
			mu.Unlock()
			return errBulkheadTest
		})
		require.Equal(t, errBulkheadTest, err, "Protect: want fn's error")
	}
	assert.False(t, workers[caller], "calls ran on goroutines %v, the caller's (%s) among them", workers, caller)
	assert.NotEmpty(t, workers, "goroutines the calls ran on")
	assert.LessOrEqual(t, len(workers), 3, "goroutines the calls ran on %v: want 1 to 3 workers", workers)

	// All three workers run at once.
	var running sync.WaitGroup
	running.Add(3)
	gate := make(chan struct{})
	var results []<-chan error
	for range 3 {
		results = append(results, goProtect(b, context.Background(), func(context.Context) error {
			running.Done()
			<-gate
			return nil
		}))
	}
	running.Wait()
	assert.Equal(t, bulkhead.StateSaturated, b.State(), "three calls on three workers: state")
	close(gate)
	for _, ch := range results {
		require.NoError(t, <-ch)
	}
}

func TestBulkheadWorkerPoolSurvivesGoexit(t *testing.T) {
	cfg := bulkheadCfg(1, bulkhead.NoQueue, bulkhead.NoTimeout)
	cfg.UseWorkerPool = true
	b := mustBulkhead(t, cfg)
	exited := make(chan bool, 1)
	go func() {
		returned := false
		defer func() { exited <- returned }()
		b.Protect(context.Background(), func(context.Context) error {
			runtime.Goexit()
			return nil
		})
		returned = true
	}()
	assert.False(t, <-exited, "Protect returned after its function called runtime.Goexit; want the caller to exit too")
	// The lone worker was replaced and the slot released.
	require.NoError(t, b.Protect(context.Background(), nop))
	wantMetrics(t, b, bulkhead.Metrics{Completed: 2})
}

func TestBulkheadCloseStopsThePoolAndRejectsWhatHasNotRun(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	cfg := bulkheadCfg(1, 1, time.Minute)
	cfg.UseWorkerPool = true
	b, err := bulkhead.New(cfg, engine.WithClock(clk))
	require.NoError(t, err)
	release := holdSlot(t, b)
	queued := goProtect(b, context.Background(), mustNotRun(t))
	waiters(t, clk, 1)

	// The running call holds a worker: Close gives up when its ctx ends.
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, b.Close(ended), context.Canceled, "Close with an ended context while a call runs")
	wantReason(t, b.Protect(context.Background(), mustNotRun(t)), bulkhead.ErrClosed, bulkhead.ReasonClosed)

	require.NoError(t, release(), "the call running at Close: want it to finish")
	wantReason(t, <-queued, bulkhead.ErrClosed, bulkhead.ReasonClosed)
	require.NoError(t, b.Close(context.Background()))
	wantMetrics(t, b, bulkhead.Metrics{Completed: 1, Rejected: 2})
}

func TestBulkheadCloseWithoutAPool(t *testing.T) {
	b := mustBulkhead(t, bulkheadCfg(2, 2, bulkhead.NoTimeout))
	require.NoError(t, b.Close(context.Background()))
	wantReason(t, b.Protect(context.Background(), mustNotRun(t)), bulkhead.ErrClosed, bulkhead.ReasonClosed)
}

func TestBulkheadStatesFollowTheCounts(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var rec enginetest.Recorder
	b := mustBulkhead(t, bulkheadCfg(2, 1, time.Minute), engine.WithClock(clk), engine.WithObserver(&rec))
	ctx := context.Background()
	state := func(want bulkhead.State) {
		t.Helper()
		require.Equal(t, want, b.State(), "state")
	}
	state(bulkhead.StateAvailable)
	require.NoError(t, b.Acquire(ctx))
	state(bulkhead.StateAvailable)
	require.NoError(t, b.Acquire(ctx))
	state(bulkhead.StateSaturated)
	queued := make(chan error, 1)
	go func() { queued <- b.Acquire(ctx) }()
	waiters(t, clk, 1)
	state(bulkhead.StateQueueFull)
	wantReason(t, b.Acquire(ctx), bulkhead.ErrFull, bulkhead.ReasonFull)
	state(bulkhead.StateQueueFull)
	b.Release() // handed to the waiter
	require.NoError(t, <-queued)
	state(bulkhead.StateSaturated)
	b.Release()
	state(bulkhead.StateAvailable)
	b.Release()
	state(bulkhead.StateAvailable)
	wantMetrics(t, b, bulkhead.Metrics{Completed: 3, Rejected: 1})

	enginetest.AssertPath(t, &rec,
		"Available",
		"Available", // acquire [spare slot] / take slot
		"Saturated", // acquire / take slot
		"QueueFull", // acquire [queue room] / enqueue
		"QueueFull", // acquire / reject
		"Saturated", // release / free slot: handed to the waiter
		"Available", // release / free slot
		"Available", // release / free slot
	)
}

func TestBulkheadReleaseWithoutASlotPanics(t *testing.T) {
	b := mustBulkhead(t, bulkheadCfg(1, bulkhead.NoQueue, bulkhead.NoTimeout))
	assert.Panics(t, b.Release, "Release with no slot held")
	wantMetrics(t, b, bulkhead.Metrics{})
}

// editBulkhead rebuilds Definition from its specs, as a user
// would, passing each transition through edit; edit returns false to
// drop it.
func editBulkhead(t *testing.T, edit func(*transitions.Spec[bulkhead.State, bulkhead.Event, bulkhead.Data]) bool) *fsm.Definition[bulkhead.State, bulkhead.Event, bulkhead.Data] {
	t.Helper()
	def, err := bulkhead.Definition().Edit(edit).Build()
	require.NoError(t, err)
	return def
}

func actionNamed(tr *transitions.Spec[bulkhead.State, bulkhead.Event, bulkhead.Data], name string) bool {
	return len(tr.Actions) > 0 && tr.Actions[0].Name == name
}

func TestBulkheadRefusesADefinitionThatDoesNotCommitRegardless(t *testing.T) {
	std := bulkhead.Definition()
	require.True(t, std.CommitsRegardless(), "Definition does not commit regardless of the caller's context")
	bd := fsm.New[bulkhead.State, bulkhead.Event, bulkhead.Data](std.Name())
	for _, s := range std.StateSpecs() {
		bd.State(s.ID, s.Kind)
	}
	for _, tr := range std.Transitions() {
		sp := bd.On(tr.From, tr.Event, tr.To).When(tr.Guard).Do(tr.Actions...)
		if tr.Internal {
			sp.AsInternal()
		}
	}
	_, err := bulkhead.New(bulkheadCfg(1, 1, bulkhead.NoTimeout), engine.WithDefinition(bd.MustBuild()))
	assert.Error(t, err, "a bulkhead definition whose steps a caller's context can stop halfway was accepted")
}

func TestBulkheadDefinitionDrivesBehaviour(t *testing.T) {
	t.Run("without the spare-slot edge: one call at a time", func(t *testing.T) {
		def := editBulkhead(t, func(tr *transitions.Spec[bulkhead.State, bulkhead.Event, bulkhead.Data]) bool {
			return tr.Guard.Name() != "spare slot"
		})
		clk := enginetest.NewClock(time.Time{})
		b := mustBulkhead(t, bulkheadCfg(4, 10, time.Minute), engine.WithDefinition(def), engine.WithClock(clk))
		assert.Same(t, def, b.Definition(), "Definition() is not the definition given")
		release := holdSlot(t, b)
		assert.Equal(t, bulkhead.StateSaturated, b.State(), "one call of four slots: state")
		queued := goProtect(b, context.Background(), nop)
		waiters(t, clk, 1) // queued, though the config leaves three slots free
		require.NoError(t, release())
		require.NoError(t, <-queued)
		wantMetrics(t, b, bulkhead.Metrics{Completed: 2})
	})
	t.Run("enqueue guards that never hold: a saturated bulkhead rejects at once", func(t *testing.T) {
		never := transitions.If("never", func(states.Machine[bulkhead.State, bulkhead.Event, bulkhead.Data]) bool { return false })
		def := editBulkhead(t, func(tr *transitions.Spec[bulkhead.State, bulkhead.Event, bulkhead.Data]) bool {
			if actionNamed(tr, "enqueue") {
				tr.Guard = never
			}
			return true
		})
		b := mustBulkhead(t, bulkheadCfg(1, 10, time.Minute), engine.WithDefinition(def))
		release := holdSlot(t, b)
		wantReason(t, b.Protect(context.Background(), mustNotRun(t)), bulkhead.ErrFull, bulkhead.ReasonFull)
		require.NoError(t, release())
		wantMetrics(t, b, bulkhead.Metrics{Completed: 1, Rejected: 1})
	})
}

func TestBulkheadMetricsAccountForEveryCall(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(1, 2, 5*time.Second), engine.WithClock(clk))
	wantMetrics(t, b, bulkhead.Metrics{})
	release := holdSlot(t, b)
	wantMetrics(t, b, bulkhead.Metrics{Active: 1})

	ctx, cancel := context.WithCancel(context.Background())
	a := goProtect(b, ctx, mustNotRun(t))
	waiters(t, clk, 1)
	clk.Advance(time.Second)
	bc := goProtect(b, context.Background(), mustNotRun(t))
	waiters(t, clk, 2)
	wantMetrics(t, b, bulkhead.Metrics{Active: 1, Queued: 2})

	b.Protect(context.Background(), mustNotRun(t))
	wantMetrics(t, b, bulkhead.Metrics{Active: 1, Queued: 2, Rejected: 1})
	cancel()
	<-a
	wantMetrics(t, b, bulkhead.Metrics{Active: 1, Queued: 1, Rejected: 1, Cancelled: 1})
	clk.Advance(5 * time.Second) // B's deadline, 5s after it queued
	<-bc
	wantMetrics(t, b, bulkhead.Metrics{Active: 1, Rejected: 1, Cancelled: 1, TimedOut: 1})
	require.NoError(t, release())
	wantMetrics(t, b, bulkhead.Metrics{Completed: 1, Rejected: 1, Cancelled: 1, TimedOut: 1})
}

func TestBulkheadAdmissionAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	b := mustBulkhead(t, bulkhead.DefaultConfig())
	testutil.WantAllocs(t, 0, "Protect with a slot free", func() { b.Protect(ctx, nop) })
	testutil.WantAllocs(t, 0, "Execute with a slot free", func() { bulkhead.Execute(ctx, b, answer) })
	testutil.WantAllocs(t, 0, "Acquire and Release", func() {
		b.Acquire(ctx)
		b.Release()
	})
	full := mustBulkhead(t, bulkheadCfg(1, bulkhead.NoQueue, bulkhead.NoTimeout))
	release := holdSlot(t, full)
	testutil.WantAllocs(t, 0, "rejection", func() { full.Protect(ctx, nop) })
	require.NoError(t, release())
}

// TestWorkerPoolAllocatesAJobPerCall pins the worker-pool mode's cost: the
// job handed to a worker and its done channel, for Protect and Execute
// alike.
func TestWorkerPoolAllocatesAJobPerCall(t *testing.T) {
	ctx := context.Background()
	cfg := bulkhead.DefaultConfig()
	cfg.UseWorkerPool = true
	b := mustBulkhead(t, cfg)
	testutil.WantAllocs(t, 2, "Protect on the pool", func() { b.Protect(ctx, nop) })
	testutil.WantAllocs(t, 2, "Execute on the pool", func() { bulkhead.Execute(ctx, b, answer) })
}

func TestBulkheadStress(t *testing.T) {
	const calls, limit = 1000, 8
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkheadCfg(limit, 128, time.Second), engine.WithClock(clk))

	// Time moves with the work done, so the calls at the back of the
	// queue time out.
	progress := make(chan struct{}, 1)
	stop := make(chan struct{})
	ticking := make(chan struct{})
	go func() {
		defer close(ticking)
		for {
			select {
			case <-progress:
				clk.Advance(20 * time.Millisecond)
			case <-stop:
				return
			}
		}
	}()

	var inFlight, most atomic.Int64
	fn := func(context.Context) error {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		runtime.Gosched()
		inFlight.Add(-1)
		select {
		case progress <- struct{}{}:
		default:
		}
		return nil
	}

	var completed, rejected, timedOut atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		wg.Go(func() {
			<-start
			for range i % 32 { // spread the arrivals a little
				runtime.Gosched()
			}
			switch err := b.Protect(context.Background(), fn); {
			case err == nil:
				completed.Add(1)
			case errors.Is(err, bulkhead.ErrFull):
				rejected.Add(1)
			case errors.Is(err, bulkhead.ErrQueueTimeout):
				timedOut.Add(1)
			default:
				assert.Fail(t, "unexpected error", "%v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-ticking

	assert.GreaterOrEqual(t, most.Load(), int64(1), "calls that ran at once, at most")
	assert.LessOrEqual(t, most.Load(), int64(limit), "calls that ran at once, at most")
	c, r, to := completed.Load(), rejected.Load(), timedOut.Load()
	assert.EqualValues(t, calls, c+r+to, "completed %d + rejected %d + timed out %d", c, r, to)
	wantMetrics(t, b, bulkhead.Metrics{Completed: uint64(c), Rejected: uint64(r), TimedOut: uint64(to)})
	assert.Equal(t, bulkhead.StateAvailable, b.State(), "state after every call ended")
	t.Logf("max concurrency %d; completed %d, rejected %d, timed out %d", most.Load(), c, r, to)
}

func TestBulkheadMachineDiagram(t *testing.T) {
	def := bulkhead.Definition()
	checkMachine(t, "bulkhead", def.Dot(), def.Mermaid())
}
