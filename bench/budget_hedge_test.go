package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	fsbudget "github.com/failsafe-go/failsafe-go/budget"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

// The retry budgets compared: a retry of at most 3 attempts with no delay
// whose first attempt fails and whose second succeeds, so that each
// execution asks its budget once, with a budget that always has room.
// The two budgets follow different rules (statecraft's is Finagle's share
// of recent executions, failsafe-go's a share of the executions in
// flight; docs/budget.md), so the rows compare what asking costs, not
// what is allowed.
//
//   - statecraft: a Workflow with RETRY and BUDGET, budget.Config{Ratio:
//     100, MinPerSecond: 1<<20}; each execution deposits once and the
//     retry withdraws once.
//   - failsafe-go: retrypolicy.NewBuilder().WithMaxAttempts(3)
//     .WithBudget(budget.NewBuilder().WithMaxRate(1).WithMinConcurrency(1000)),
//     which takes a permit of its budget for the retry and gives it back
//     when the retry ends.
//
// BenchmarkRetryFailOnce is the same retries without a budget, so that
// the budget's own cost is the difference.

func scRetryBudget(tb testing.TB, withBudget bool) *er.Workflow[int] {
	tb.Helper()
	cfg := er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyRetry,
		Retry:   &er.RetryConfig[int]{MaxAttempts: 3, InitialDelay: er.None},
	}
	if withBudget {
		cfg.Secondary = []er.Strategy{er.StrategyBudget}
		cfg.Budget = &budget.Config{Ratio: 100, MinPerSecond: 1 << 20}
	}
	w, err := er.NewWorkflow(cfg)
	require.NoError(tb, err)
	return w
}

func fsRetryBudget(withBudget bool) failsafe.Executor[int] {
	b := retrypolicy.NewBuilder[int]().WithMaxAttempts(3)
	if withBudget {
		b = b.WithBudget(fsbudget.NewBuilder().WithMaxRate(1).WithMinConcurrency(1000).Build())
	}
	return failsafe.With[int](b.Build())
}

// BenchmarkRetryBudget is a retry whose first attempt fails and whose
// second, allowed by the budget, succeeds.
func BenchmarkRetryBudget(b *testing.B) {
	benchRetryFailOnce(b, true)
}

// BenchmarkRetryFailOnce is BenchmarkRetryBudget without a budget: the
// budget's own cost is the difference between the two.
func BenchmarkRetryFailOnce(b *testing.B) {
	benchRetryFailOnce(b, false)
}

func benchRetryFailOnce(b *testing.B, withBudget bool) {
	ctx := context.Background()
	b.Run("statecraft-Workflow", func(b *testing.B) {
		w := scRetryBudget(b, withBudget)
		f := &flaky{failures: 1}
		fn := f.callCtx
		b.ReportAllocs()
		for b.Loop() {
			f.reset()
			if v, err := w.Execute(ctx, fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		if withBudget && w.Metrics().RetriesRefused != 0 {
			b.Fatal("the budget refused a retry")
		}
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := fsRetryBudget(withBudget)
		f := &flaky{failures: 1}
		fn := f.call
		b.ReportAllocs()
		for b.Loop() {
			f.reset()
			if v, err := x.Get(fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
}

// The hedges compared, at most one hedge:
//
//   - HedgeFirstAnswers: the first attempt answers at once, long before the
//     hedge delay (one second), so no hedge starts: what hedging costs a
//     call that did not need it (statecraft runs the attempt in a
//     goroutine of its own and arms a timer for the delay, as failsafe-go
//     does).
//   - HedgeWins: the first attempt of each execution waits until its
//     context is cancelled, and the hedge, started at once (statecraft's
//     Delay None, failsafe-go's delay 0), answers: the winner's answer,
//     the loser's cancellation and both goroutines.
//
// statecraft: a Workflow with HEDGE, HedgeConfig{Delay: d, MaxHedges: 1};
// failsafe-go: hedgepolicy.NewBuilderWithDelay(d).WithMaxHedges(1).

func scHedge(tb testing.TB, delay time.Duration) *er.Workflow[int] {
	tb.Helper()
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Primary: er.StrategyHedge,
		Hedge:   &er.HedgeConfig{Delay: delay, MaxHedges: 1},
	})
	require.NoError(tb, err)
	return w
}

func fsHedge(delay time.Duration) failsafe.Executor[int] {
	return failsafe.With[int](hedgepolicy.NewBuilderWithDelay[int](delay).WithMaxHedges(1).Build())
}

// firstWaits is a function whose first call of each execution waits for
// its context to end and whose later calls answer 1.
type firstWaits struct{ calls atomic.Int64 }

func (f *firstWaits) reset() { f.calls.Store(0) }

func (f *firstWaits) call(ctx context.Context) (int, error) {
	if f.calls.Add(1) == 1 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return 1, nil
}

// BenchmarkHedgeFirstAnswers is a hedged call whose first attempt answers
// long before the hedge delay.
func BenchmarkHedgeFirstAnswers(b *testing.B) {
	ctx := context.Background()
	answer := func(context.Context) (int, error) { return 1, nil }
	b.Run("statecraft-Workflow", func(b *testing.B) {
		w := scHedge(b, time.Second)
		b.ReportAllocs()
		for b.Loop() {
			if v, err := w.Execute(ctx, answer); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := fsHedge(time.Second)
		b.ReportAllocs()
		for b.Loop() {
			if v, err := x.Get(func() (int, error) { return 1, nil }); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
}

// BenchmarkHedgeWins is a hedged call whose first attempt hangs until it
// is cancelled and whose hedge, started at once, answers.
func BenchmarkHedgeWins(b *testing.B) {
	ctx := context.Background()
	b.Run("statecraft-Workflow", func(b *testing.B) {
		w := scHedge(b, er.None)
		f := &firstWaits{}
		fn := f.call
		b.ReportAllocs()
		for b.Loop() {
			f.reset()
			if v, err := w.Execute(ctx, fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		if w.Metrics().HedgeWins == 0 {
			b.Fatal("no hedge won")
		}
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := fsHedge(0)
		f := &firstWaits{}
		fn := func(exec failsafe.Execution[int]) (int, error) { return f.call(exec.Context()) }
		b.ReportAllocs()
		for b.Loop() {
			f.reset()
			if v, err := x.GetWithExecution(fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
	})
}
