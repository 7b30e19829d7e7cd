package errorrecovery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// ledger records the undos that ran, in order, with their keys.
type ledger struct {
	mu     sync.Mutex
	undone []string
}

func (l *ledger) undo(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.undone = append(l.undone, key)
	return nil
}

func (l *ledger) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.undone...)
}

var errNoStandIn = errors.New("no stand-in answer")

// cardWorkflow is the card's machine: retry (3 attempts, 1s apart),
// an overall deadline, a fallback function and COMPENSATE, on clk.
// The fallback answers only when answer is set.
func cardWorkflow(t *testing.T, clk *enginetest.Clock, answer *bool, comp er.CompensationConfig) *er.Workflow[string] {
	t.Helper()
	retry := er.DefaultRetryConfig[string]()
	retry.MaxAttempts, retry.Backoff, retry.InitialDelay = 3, er.BackoffFixed, time.Second
	fb := er.FallbackConfig[string]{Func: func(error) (string, error) {
		if *answer {
			return "queued", nil
		}
		return "", errNoStandIn
	}}
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Name:    "order",
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyFallback, er.StrategyCompensate},
		Retry: &retry, Fallback: &fb, Compensation: &comp, GlobalTimeout: time.Minute,
	}, engine.WithClock(clk))
	require.NoError(t, err)
	return w
}

// placeOrder reserves and charges on each attempt, registering the undo
// of each as it happens, and fails its first failures attempts.
func placeOrder(l *ledger, failures int) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		n, _ := er.AttemptFromContext(ctx)
		if err := er.AddCompensation(ctx, "reserve", "reserve-"+string(rune('0'+n)), l.undo); err != nil {
			return "", err
		}
		if n <= failures {
			return "", errFlaky // the charge fails: nothing to undo for it
		}
		if err := er.AddCompensation(ctx, "charge", "charge-"+string(rune('0'+n)), l.undo); err != nil {
			return "", err
		}
		return "confirmed", nil
	}
}

func TestCompensatePathsOnTheManualClock(t *testing.T) {
	tests := []struct {
		name     string
		failures int  // attempts that fail
		answer   bool // the fallback answers
		want     string
		wantErr  bool
		path     string
		advances []time.Duration
		undone   []string
	}{
		{name: "success first try", failures: 0, want: "confirmed",
			path: "Start → Attempt → Done"},
		{name: "success after backoff", failures: 1, want: "confirmed",
			path:     "Start → Attempt → Backoff → Retry → Attempt → Done",
			advances: []time.Duration{time.Second}},
		{name: "fallback answers: nothing undone", failures: 3, answer: true, want: "queued",
			path:     "Start → Attempt → Backoff → Retry → Attempt → Backoff → Retry → Attempt → Fallback → Recovered",
			advances: []time.Duration{time.Second, time.Second}},
		{name: "fallback fails: undone in reverse", failures: 3, wantErr: true,
			path:     "Start → Attempt → Backoff → Retry → Attempt → Backoff → Retry → Attempt → Fallback → Compensate → Done",
			advances: []time.Duration{time.Second, time.Second},
			undone:   []string{"reserve-3", "reserve-2", "reserve-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			var l ledger
			w := cardWorkflow(t, clk, &tt.answer, er.CompensationConfig{})
			var steps []engine.Record
			v, advances, err := onClock(clk, func() (string, error) {
				v, recs, err := w.Trace(context.Background(), placeOrder(&l, tt.failures))
				steps = recs
				return v, err
			})
			assert.Equal(t, tt.want, v)
			assert.Equal(t, tt.path, pathOf(steps))
			assert.Empty(t, cmp.Diff(tt.advances, advances))
			assert.Empty(t, cmp.Diff(tt.undone, l.list()))
			if !tt.wantErr {
				assert.NoError(t, err)
				return
			}
			var ce *er.CompensationError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, []string{"reserve", "reserve", "reserve"}, ce.Compensated)
			assert.Empty(t, ce.Failed)
			assert.NotErrorIs(t, err, er.ErrCompensationFailed)
			var ex *er.ExhaustedError
			assert.ErrorAs(t, err, &ex, "the cause is still there")
			assert.ErrorIs(t, err, errNoStandIn, "so is the fallback's failure")
			assert.ErrorIs(t, err, errFlaky)
			m := w.Metrics()
			assert.Equal(t, int64(3), m.Compensations)
			assert.Equal(t, int64(1), m.Failed)
		})
	}
}

func TestCompensateRunsEveryUndoWhenOneFails(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	errRefund := errors.New("refund refused")
	var ran []string
	answer := false
	w := cardWorkflow(t, clk, &answer, er.CompensationConfig{})
	fn := func(ctx context.Context) (string, error) {
		require.NoError(t, er.AddCompensation(ctx, "reserve", "r1", func(context.Context, string) error {
			ran = append(ran, "reserve")
			return nil
		}))
		require.NoError(t, er.AddCompensation(ctx, "charge", "c1", func(context.Context, string) error {
			ran = append(ran, "charge")
			return errRefund
		}))
		require.NoError(t, er.AddCompensation(ctx, "notify", "n1", func(context.Context, string) error {
			ran = append(ran, "notify")
			panic("mailer gone")
		}))
		return "", er.Permanent(errors.New("card declined"))
	}
	_, steps, err := w.Trace(context.Background(), fn)
	assert.Equal(t, "Start → Attempt → Fallback → Compensate → CompensationFailed", pathOf(steps))
	assert.Equal(t, []string{"notify", "charge", "reserve"}, ran, "every undo runs, the latest first")

	require.ErrorIs(t, err, er.ErrCompensationFailed)
	var ce *er.CompensationError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{"reserve"}, ce.Compensated)
	require.Len(t, ce.Failed, 2)
	assert.Equal(t, "notify", ce.Failed[0].Name)
	var pe *engine.PanicError
	require.ErrorAs(t, ce.Failed[0], &pe, "a panic is reported, not swallowed")
	assert.Equal(t, "mailer gone", pe.Value)
	assert.Equal(t, "charge", ce.Failed[1].Name)
	assert.Equal(t, "c1", ce.Failed[1].Key)
	assert.ErrorIs(t, err, errRefund, "the undo's error")
	assert.ErrorContains(t, err, "card declined", "and the call's")
	var ue *er.UndoError
	assert.ErrorAs(t, err, &ue)
	assert.Equal(t, int64(2), w.Metrics().CompensationsFailed)
}

func TestCompensateCompletesWhenTheCallerCancels(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	answer := false
	w := cardWorkflow(t, clk, &answer, er.CompensationConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []error
	fn := func(ctx context.Context) (string, error) {
		for _, name := range []string{"reserve", "charge"} {
			require.NoError(t, er.AddCompensation(ctx, name, name, func(ctx context.Context, key string) error {
				seen = append(seen, ctx.Err())
				cancel() // the caller gives up during the first undo
				return nil
			}))
		}
		return "", er.Permanent(errFlaky)
	}
	_, steps, err := w.Trace(ctx, fn)
	assert.Equal(t, "Start → Attempt → Fallback → Compensate → Done", pathOf(steps))
	assert.Equal(t, []error{nil, nil}, seen, "the undos do not see the caller's cancellation")
	var ce *er.CompensationError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{"charge", "reserve"}, ce.Compensated)
}

func TestCompensateTimeoutOnTheClock(t *testing.T) {
	t.Run("configured", func(t *testing.T) { testCompensateTimeout(t, 5*time.Second, 5*time.Second) })
	t.Run("zero: the default", func(t *testing.T) { testCompensateTimeout(t, 0, er.DefaultCompensationTimeout) })
}

func testCompensateTimeout(t *testing.T, timeout, want time.Duration) {
	clk := enginetest.NewClock(time.Time{})
	answer := false
	w := cardWorkflow(t, clk, &answer, er.CompensationConfig{Timeout: timeout})
	var undone []string
	fn := func(ctx context.Context) (string, error) {
		er.AddCompensation(ctx, "reserve", "r", func(ctx context.Context, key string) error {
			undone = append(undone, key)
			return nil
		})
		er.AddCompensation(ctx, "charge", "c", func(ctx context.Context, key string) error {
			<-ctx.Done() // stuck until its timeout
			return ctx.Err()
		})
		return "", er.Permanent(errFlaky)
	}
	_, advances, err := onClock(clk, func() (string, error) { return w.Execute(context.Background(), fn) })
	assert.Equal(t, []time.Duration{want}, advances)
	assert.Equal(t, []string{"r"}, undone, "the next undo runs after the stuck one's timeout")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, er.ErrCompensationFailed)
}

func TestCompensateOrderActionsRetryAndHooks(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var ran []string
	var calls int
	retry, err := er.NewRetry(er.RetryConfig[struct{}]{MaxAttempts: 2, InitialDelay: er.None}, engine.WithClock(clk))
	require.NoError(t, err)
	var started, completed []string
	comp := er.CompensationConfig{
		CompensationOrder: []string{"reserve", "charge"},
		CompensationActions: map[string]er.CompensationFunc{"refund": func(ctx context.Context, c er.Compensation) error {
			calls++
			if calls == 1 {
				return errFlaky // retried by CompensationRetry, with the same key
			}
			ran = append(ran, c.Saga+"/"+c.Step+"/"+c.Key)
			return nil
		}},
		CompensationRetry:      retry,
		OnCompensationStart:    func(id string, cause error) { started = append(started, id+": "+cause.Error()) },
		OnCompensationComplete: func(id string, err error) { completed = append(completed, id) },
	}
	answer := false
	w := cardWorkflow(t, clk, &answer, comp)
	record := func(ctx context.Context, key string) error { ran = append(ran, key); return nil }
	fn := func(ctx context.Context) (string, error) {
		require.NoError(t, er.AddCompensation(ctx, "charge", "charge", record))
		require.NoError(t, er.AddCompensation(ctx, "refund", "k7", nil))
		require.NoError(t, er.AddCompensation(ctx, "reserve", "reserve", record))
		require.NoError(t, er.AddCompensation(ctx, "charge", "charge again", record))
		return "", er.Permanent(errFlaky)
	}
	_, err = w.Execute(context.Background(), fn)
	require.Error(t, err)
	want := []string{"reserve", "charge again", "charge", "order/refund/k7"}
	assert.Empty(t, cmp.Diff(want, ran), "listed names first, latest first within a name, then the rest")
	assert.Equal(t, 2, calls)
	assert.Equal(t, []string{"order: errorrecovery: flaky; fallback failed too: no stand-in answer"}, started)
	assert.Equal(t, []string{"order"}, completed)
}

func TestAddCompensationRefusals(t *testing.T) {
	ctx := context.Background()
	assert.ErrorIs(t, er.AddCompensation(ctx, "x", "k", func(context.Context, string) error { return nil }), er.ErrNotCompensating)

	plain := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Retry: fastRetry[int](1)})
	_, err := plain.Execute(ctx, func(ctx context.Context) (int, error) {
		return 0, er.AddCompensation(ctx, "x", "k", func(context.Context, string) error { return nil })
	})
	assert.ErrorIs(t, err, er.ErrNotCompensating, "a workflow without COMPENSATE")

	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCompensate})
	var kept context.Context
	_, err = w.Execute(ctx, func(ctx context.Context) (int, error) {
		kept = ctx
		return 0, er.AddCompensation(ctx, "nameless", "k", nil)
	})
	assert.ErrorIs(t, err, er.ErrUnknownCompensation)
	assert.ErrorContains(t, err, `"nameless"`)
	assert.ErrorIs(t, er.AddCompensation(kept, "late", "k", func(context.Context, string) error { return nil }), er.ErrNotCompensating,
		"a registration after the execution settled")
}

func TestCompensateWithNothingRegisteredFails(t *testing.T) {
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCompensate})
	_, steps, err := w.Trace(context.Background(), func(context.Context) (int, error) { return 0, errFlaky })
	assert.Equal(t, "Start → Attempt → Compensate → Failed", pathOf(steps))
	assert.Same(t, errFlaky, err, "the cause alone, with nothing compensated")
}

func TestCompensationConfigValidate(t *testing.T) {
	cases := map[string]er.CompensationConfig{
		"Timeout":             {Timeout: 25 * time.Hour},
		"CompensationOrder":   {CompensationOrder: []string{"a", "a"}},
		"CompensationActions": {CompensationActions: map[string]er.CompensationFunc{"a": nil}},
	}
	for field, c := range cases {
		var ce *er.ConfigError
		if assert.ErrorAs(t, c.Validate(), &ce, field) {
			assert.Equal(t, field, ce.Field)
		}
	}
}

// The card's path, Attempt → Backoff → Retry → Fallback → Compensate, is a
// path of the machine's graph, ending beside Done.
func TestCardPathIsInTheDefinition(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	answer := false
	g := cardWorkflow(t, clk, &answer, er.CompensationConfig{}).Definition().Graph()
	edges := map[[2]string]bool{}
	for _, e := range g.Edges {
		edges[[2]string{g.States[e.From].Label, g.States[e.To].Label}] = true
	}
	card := []string{"Attempt", "Backoff", "Retry", "Fallback", "Compensate", "Done"}
	for i := range len(card) - 1 {
		assert.True(t, edges[[2]string{card[i], card[i+1]}], "no edge %s → %s", card[i], card[i+1])
	}
	assert.True(t, edges[[2]string{"Attempt", "Done"}])
	w := cardWorkflow(t, clk, &answer, er.CompensationConfig{})
	checkMachine(t, "recovery", w.Dot(), w.Definition().Mermaid())
}

// A panic of the function is not compensated: it goes on with its value,
// as a crash would (a saga's action too), and what it registered is
// dropped.
func TestCompensateDoesNotRunOnAPanic(t *testing.T) {
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyCompensate})
	var undone bool
	var kept context.Context
	assert.PanicsWithValue(t, "boom", func() {
		w.Execute(context.Background(), func(ctx context.Context) (int, error) {
			kept = ctx
			er.AddCompensation(ctx, "reserve", "r", func(context.Context, string) error { undone = true; return nil })
			panic("boom")
		})
	})
	assert.False(t, undone)
	assert.ErrorIs(t, er.AddCompensation(kept, "late", "k", noUndo), er.ErrNotCompensating)
}

// endsAt is a caller's context that reports itself cancelled once clk
// reaches at, without a Done channel: a caller whose own deadline is not
// on the workflow's clock, seen only when something asks.
type endsAt struct {
	context.Context
	clk *enginetest.Clock
	at  time.Time
}

func (c endsAt) Err() error {
	if !c.clk.Now().Before(c.at) {
		return context.Canceled
	}
	return nil
}

// The card's path, step by step: the backoff ends, Retry finds that the
// next attempt may not start (the caller is gone), the fallback does not
// answer a caller who is gone, and Compensate undoes the effects.
func TestCardPathStepByStep(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	answer := true // it would answer a caller still waiting
	w := cardWorkflow(t, clk, &answer, er.CompensationConfig{})
	var l ledger
	ctx := endsAt{Context: context.Background(), clk: clk, at: clk.Now().Add(time.Second)}
	var steps []engine.Record
	_, advances, err := onClock(clk, func() (string, error) {
		v, recs, err := w.Trace(ctx, placeOrder(&l, 3))
		steps = recs
		return v, err
	})
	assert.Equal(t, []time.Duration{time.Second}, advances)
	assert.Equal(t, "Start → Attempt → Backoff → Retry → Fallback → Compensate → Done", pathOf(steps))
	assert.Equal(t, []string{"reserve-1"}, l.list())
	assert.ErrorIs(t, err, context.Canceled)
}
