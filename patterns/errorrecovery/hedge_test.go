package errorrecovery_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// hedgeCall is one call of a hedgeRig's function, which waits for the
// test's reply (or for its context to end).
type hedgeCall struct {
	n       int       // 1-based, in the order the calls started
	at      time.Time // when it started, on the clock
	attempt int       // AttemptFromContext
	reply   chan hedgeReply
	ended   chan error // nil when it returned the reply, else its context's error
}

type hedgeReply struct {
	v     string
	err   error
	panic any
}

// hedgeRig is a function whose calls the test answers one by one.
type hedgeRig struct {
	clk    *enginetest.Clock
	calls  chan *hedgeCall
	n      atomic.Int32
	ignore func(n int) bool // when set and true, call n ignores its context
}

func newHedgeRig(clk *enginetest.Clock) *hedgeRig {
	return &hedgeRig{clk: clk, calls: make(chan *hedgeCall, 16)}
}

func (r *hedgeRig) fn(ctx context.Context) (string, error) {
	c := &hedgeCall{n: int(r.n.Add(1)), at: r.clk.Now(), reply: make(chan hedgeReply, 1), ended: make(chan error, 1)}
	c.attempt, _ = er.AttemptFromContext(ctx)
	r.calls <- c
	var done <-chan struct{}
	if r.ignore == nil || !r.ignore(c.n) {
		done = ctx.Done()
	}
	select {
	case rep := <-c.reply:
		c.ended <- nil
		if rep.panic != nil {
			panic(rep.panic)
		}
		return rep.v, rep.err
	case <-done:
		c.ended <- ctx.Err()
		return "", ctx.Err()
	}
}

type hedgeOutcome struct {
	res  er.Result[string]
	recs []engine.Record
	err  error
}

// start runs one traced execution of w in a goroutine.
func (r *hedgeRig) start(w *er.Workflow[string]) <-chan hedgeOutcome {
	done := make(chan hedgeOutcome, 1)
	go func() {
		res, recs, err := w.TraceResult(context.Background(), r.fn)
		done <- hedgeOutcome{res, recs, err}
	}()
	return done
}

// steps lists a trace as "From -event-> To".
func steps(recs []engine.Record) []string {
	var s []string
	for _, r := range recs {
		s = append(s, r.From+" -"+r.Event+"-> "+r.To)
	}
	return s
}

func hedged(t *testing.T, clk *enginetest.Clock, cfg er.ErrorRecoveryConfig[string]) *er.Workflow[string] {
	t.Helper()
	w, err := er.NewWorkflow(cfg, engine.WithClock(clk))
	require.NoError(t, err)
	return w
}

func TestHedgeStartsAfterTheDelayAndALaterHedgeThatAnswersFirstWins(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	t0 := clk.Now()
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Hedge: &er.HedgeConfig{Delay: 100 * time.Millisecond, MaxHedges: 2}})
	rig := newHedgeRig(clk)
	done := rig.start(w)

	first := <-rig.calls
	assert.Equal(t, t0, first.at)
	waiters(t, clk, 1)
	clk.Advance(99 * time.Millisecond)
	waiters(t, clk, 1)
	require.Empty(t, rig.calls, "no hedge before the delay")
	clk.Advance(time.Millisecond)
	hedge := <-rig.calls
	assert.Equal(t, t0.Add(100*time.Millisecond), hedge.at, "the hedge starts exactly one delay after the attempt")
	assert.Equal(t, 1, hedge.attempt, "a hedge is part of its round's attempt")
	hedge.reply <- hedgeReply{v: "hedge"}

	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "hedge", o.res.Value)
	assert.Equal(t, 2, o.res.Attempts)
	assert.ErrorIs(t, <-first.ended, context.Canceled, "the loser's context is cancelled")
	assert.NoError(t, <-hedge.ended)
	want := []string{"Start -begin-> Attempt", "Attempt -slow-> Hedge", "Hedge -hedged-> Attempt", "Attempt -success-> Done"}
	assert.Empty(t, cmp.Diff(want, steps(o.recs)))
	m := w.Metrics()
	assert.Equal(t, [4]int64{1, 2, 1, 1}, [4]int64{m.Successes, m.Calls, m.Hedges, m.HedgeWins}, "successes, calls, hedges, hedge wins")
}

func TestHedgeStartsNoMoreThanMaxHedges(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	t0 := clk.Now()
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Primary: er.StrategyHedge, Hedge: &er.HedgeConfig{Delay: 10 * time.Millisecond, MaxHedges: 2}})
	rig := newHedgeRig(clk)
	done := rig.start(w)

	var calls []*hedgeCall
	calls = append(calls, <-rig.calls)
	for range 2 {
		waiters(t, clk, 1)
		clk.Advance(10 * time.Millisecond)
		calls = append(calls, <-rig.calls)
	}
	// No hedge is left: nothing waits on the clock any more.
	clk.Advance(time.Hour)
	calls[0].reply <- hedgeReply{v: "first"}
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "first", o.res.Value)
	var at []time.Duration
	for _, c := range calls {
		at = append(at, c.at.Sub(t0))
	}
	assert.Empty(t, cmp.Diff([]time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond}, at))
	for _, c := range calls[1:] {
		assert.ErrorIs(t, <-c.ended, context.Canceled)
	}
	assert.Empty(t, rig.calls)
	m := w.Metrics()
	assert.Equal(t, [3]int64{3, 2, 0}, [3]int64{m.Calls, m.Hedges, m.HedgeWins}, "calls, hedges, hedge wins")
	assert.Equal(t, 3, o.res.Attempts)
}

func TestHedgeRoundThatFailsIsOneRetryableAttemptAndTheBreakerSeesEachHedge(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	t0 := clk.Now()
	retry := er.RetryConfig[string]{MaxAttempts: 2, Backoff: er.BackoffFixed, InitialDelay: time.Second, JitterRange: er.None}
	bc := breaker.Config{FailureThreshold: 10}
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Retry: &retry, Breaker: &bc, Hedge: &er.HedgeConfig{Delay: 100 * time.Millisecond}})
	defer w.Breaker().Close()
	rig := newHedgeRig(clk)
	done := rig.start(w)

	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(100 * time.Millisecond)
	hedge := <-rig.calls
	// A retryable failure waits for the hedge still running; the round
	// fails when both have.
	first.reply <- hedgeReply{err: errFlaky}
	hedge.reply <- hedgeReply{err: errFlaky}
	waiters(t, clk, 1) // the backoff
	clk.Advance(time.Second)
	second := <-rig.calls
	assert.Equal(t, t0.Add(1100*time.Millisecond), second.at, "the retry waits its backoff after the round failed")
	assert.Equal(t, [3]int{1, 1, 2}, [3]int{first.attempt, hedge.attempt, second.attempt}, "attempt numbers")
	second.reply <- hedgeReply{v: "ok"}

	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "ok", o.res.Value)
	assert.Equal(t, 3, o.res.Attempts)
	want := []string{
		"Start -begin-> CheckCircuit", "CheckCircuit -allowed-> Attempt", "Attempt -slow-> Hedge", "Hedge -hedged-> Attempt",
		"Attempt -retryable-> Backoff", "Backoff -after backoff-> Retry", "Retry -retry-> CheckCircuit", "CheckCircuit -allowed-> Attempt",
		"Attempt -success-> Done",
	}
	assert.Empty(t, cmp.Diff(want, steps(o.recs)))
	bm := w.Breaker().Metrics()
	assert.Equal(t, [2]int{3, 2}, [2]int{bm.Calls, bm.Failures}, "the breaker's calls and failures: each hedge is a call")
	m := w.Metrics()
	assert.Equal(t, [5]int64{1, 3, 1, 1, 0}, [5]int64{m.Successes, m.Calls, m.Retries, m.Hedges, m.HedgeWins}, "successes, calls, retries, hedges, hedge wins")
}

func TestHedgeRefusedByTheRateLimiterLeavesTheRoundWaiting(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	// The overall deadline keeps the round waiting on the clock after the
	// refusal, which the test waits for; the function ignores its
	// context, so that only the round waits on the clock.
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{
		RateLimit: &ratelimit.Config{Permits: 1, Period: time.Hour}, Hedge: &er.HedgeConfig{Delay: 100 * time.Millisecond}, GlobalTimeout: time.Hour,
	})
	rig := newHedgeRig(clk)
	rig.ignore = func(int) bool { return true }
	done := rig.start(w)

	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(100 * time.Millisecond)
	waiters(t, clk, 1) // the hedge was refused: the round waits again, for the deadline
	first.reply <- hedgeReply{v: "first"}
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "first", o.res.Value)
	want := []string{"Start -begin-> RateLimit", "RateLimit -allowed-> Attempt", "Attempt -slow-> Hedge", "Hedge -hedge refused-> Attempt", "Attempt -success-> Done"}
	assert.Empty(t, cmp.Diff(want, steps(o.recs)))
	m := w.Metrics()
	assert.Equal(t, [3]int64{1, 0, 0}, [3]int64{m.Calls, m.Hedges, m.Rejections}, "calls, hedges, rejections")
	assert.Equal(t, 1, o.res.Attempts)
}

func TestHedgedRoundStopsWaitingAtTheOverallDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{GlobalTimeout: time.Second, Hedge: &er.HedgeConfig{Delay: 400 * time.Millisecond}})
	rig := newHedgeRig(clk)
	rig.ignore = func(n int) bool { return n == 1 } // the first attempt never looks at its context
	done := rig.start(w)

	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(400 * time.Millisecond)
	hedge := <-rig.calls
	waiters(t, clk, 2) // the round's wait and the hedge on its context
	clk.Advance(600 * time.Millisecond)

	o := <-done
	var te *er.TimeoutError
	require.ErrorAs(t, o.err, &te)
	// The hedge's context ends at the deadline: by its own timer
	// (DeadlineExceeded) or by the round's end at that instant (Canceled),
	// whichever the clock runs first.
	assert.Error(t, <-hedge.ended)
	first.reply <- hedgeReply{v: "late"} // returns after the execution: discarded
	assert.NoError(t, <-first.ended)
	assert.Equal(t, int64(1), w.Metrics().Timeouts)
}

func TestHedgeThatPanicsCancelsTheOthersAndPanicsOn(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Hedge: &er.HedgeConfig{Delay: 10 * time.Millisecond}})
	rig := newHedgeRig(clk)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _ = w.Execute(context.Background(), rig.fn)
	}()
	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(10 * time.Millisecond)
	hedge := <-rig.calls
	hedge.reply <- hedgeReply{panic: "boom"}
	assert.Equal(t, "boom", <-panicked)
	assert.ErrorIs(t, <-first.ended, context.Canceled)
}

func TestHedgesCountAgainstMaxTotalAttempts(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	retry := er.RetryConfig[string]{MaxAttempts: 5, Backoff: er.BackoffFixed, InitialDelay: time.Second, JitterRange: er.None}
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Retry: &retry, MaxTotalAttempts: 2, Hedge: &er.HedgeConfig{Delay: 10 * time.Millisecond, MaxHedges: 3}})
	rig := newHedgeRig(clk)
	done := rig.start(w)

	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(10 * time.Millisecond)
	hedge := <-rig.calls
	first.reply <- hedgeReply{err: errFlaky}
	hedge.reply <- hedgeReply{err: errFlaky}
	o := <-done
	var ex *er.ExhaustedError
	require.ErrorAs(t, o.err, &ex, "two calls in all: no retry after a round of two")
	assert.Equal(t, 2, o.res.Attempts)
	assert.Empty(t, rig.calls)
}

func TestHedgeConfigIsValidatedAndDefaulted(t *testing.T) {
	for _, tc := range []struct {
		cfg   er.HedgeConfig
		field string
	}{
		{er.HedgeConfig{MaxHedges: -1}, "MaxHedges"},
		{er.HedgeConfig{MaxHedges: 101}, "MaxHedges"},
		{er.HedgeConfig{Delay: 25 * time.Hour}, "Delay"},
	} {
		_, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{Hedge: &tc.cfg})
		var ce *er.ConfigError
		if assert.ErrorAs(t, err, &ce, "%+v", tc.cfg) {
			assert.Equal(t, [2]string{"HedgeConfig", tc.field}, [2]string{ce.Config, ce.Field})
		}
	}
	s, err := er.ParseStrategy("hedge")
	require.NoError(t, err)
	assert.Equal(t, er.StrategyHedge, s)
	assert.Equal(t, "HEDGE", s.String())
	assert.Equal(t, er.HedgeConfig{Delay: 2 * time.Second, MaxHedges: 1}, er.DefaultHedgeConfig())
}

func TestHedgeDefaultsToOneHedgeAfterTwoSeconds(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	t0 := clk.Now()
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Primary: er.StrategyHedge})
	rig := newHedgeRig(clk)
	done := rig.start(w)
	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(2 * time.Second)
	hedge := <-rig.calls
	assert.Equal(t, t0.Add(2*time.Second), hedge.at)
	first.reply <- hedgeReply{v: "first"}
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "first", o.res.Value)
	assert.ErrorIs(t, <-hedge.ended, context.Canceled)
	assert.Equal(t, int64(0), w.Metrics().HedgeWins)
}

func TestWorkflowWithoutHedgeHasNoHedgeState(t *testing.T) {
	plain, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{})
	require.NoError(t, err)
	assert.NotContains(t, plain.Dot(), "Hedge")
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyHedge}})
	require.NoError(t, err)
	dot := w.Dot()
	for _, s := range []string{"Hedge", "slow", "hedged", "hedge refused"} {
		assert.Contains(t, dot, s)
	}
}

func TestHedgeThatLostKeepsTheBulkheadSlotUntilItReturns(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Bulkhead: &bulkhead.Config{MaxConcurrent: 1}, Hedge: &er.HedgeConfig{Delay: 10 * time.Millisecond}})
	rig := newHedgeRig(clk)
	rig.ignore = func(n int) bool { return n == 1 } // the loser runs on after being cancelled
	done := rig.start(w)

	first := <-rig.calls
	waiters(t, clk, 1)
	clk.Advance(10 * time.Millisecond)
	hedge := <-rig.calls
	hedge.reply <- hedgeReply{v: "hedge"}
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "hedge", o.res.Value)
	assert.Equal(t, 1, w.Bulkhead().Metrics().Active, "the slot stays with the attempt still running")
	first.reply <- hedgeReply{v: "late"}
	require.NoError(t, <-first.ended)
	// The last attempt to return gives the slot back: an Acquire queued
	// behind it is handed the slot (bounded in wall time only so that a
	// slot never given back fails the test instead of hanging it).
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Quick)
	defer cancel()
	require.NoError(t, w.Bulkhead().Acquire(ctx), "the last attempt to return gives the slot back")
	w.Bulkhead().Release()
	assert.Equal(t, 0, w.Bulkhead().Metrics().Active)
}

func TestHedgeWithNoDelayStartsEveryHedgeAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := enginetest.NewClock(time.Time{})
	t0 := clk.Now()
	w := hedged(t, clk, er.ErrorRecoveryConfig[string]{Hedge: &er.HedgeConfig{Delay: er.None, MaxHedges: 2}})
	rig := newHedgeRig(clk)
	done := rig.start(w)
	var calls []*hedgeCall
	for range 3 {
		c := <-rig.calls
		assert.Equal(t, t0, c.at)
		calls = append(calls, c)
	}
	calls[2].reply <- hedgeReply{v: "third"}
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "third", o.res.Value)
	for _, c := range calls[:2] {
		assert.ErrorIs(t, <-c.ended, context.Canceled)
	}
	// Which of the three is the first attempt is the scheduler's choice;
	// two of them are hedges.
	assert.Equal(t, [2]int64{3, 2}, [2]int64{w.Metrics().Calls, w.Metrics().Hedges})
}

// TestHedgeWorkflowDiagram pins the drawing of a hedged workflow with
// every limit: Hedge is joined to the breaker and both limiters, whose
// permits each hedge takes.
func TestHedgeWorkflowDiagram(t *testing.T) {
	retry := er.RetryConfig[string]{MaxAttempts: 3}
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Name: "hedged", Retry: &retry, Breaker: &breaker.Config{}, RateLimit: &ratelimit.Config{}, AdaptiveLimit: &adaptive.Config{},
		Hedge: &er.HedgeConfig{Delay: 100 * time.Millisecond, MaxHedges: 2}, GlobalTimeout: time.Second,
	})
	require.NoError(t, err)
	defer w.Breaker().Close()
	defer w.RateLimiter().Close()
	g, opts := w.Diagram(fsm.DiagramOptions{})
	var hedgeUses []string
	for _, c := range opts.Clusters {
		for _, u := range c.Uses {
			if u.From == "Hedge" {
				hedgeUses = append(hedgeUses, c.Graph.Name)
			}
		}
	}
	assert.Empty(t, cmp.Diff([]string{"circuit breaker", "rate limiter", "adaptive limiter"}, hedgeUses))
	var dot, mermaid bytes.Buffer
	require.NoError(t, fsm.WriteDot(&dot, g, opts))
	require.NoError(t, fsm.WriteMermaid(&mermaid, g, opts))
	checkMachine(t, "hedge", dot.String(), mermaid.String())
}
