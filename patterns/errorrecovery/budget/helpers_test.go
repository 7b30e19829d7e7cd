package budget_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

// newBudget returns a budget of cfg on a new manual clock.
func newBudget(t testing.TB, cfg budget.Config, opts ...engine.Option) (*budget.Budget, *enginetest.Clock) {
	t.Helper()
	clk := enginetest.NewClock(time.Time{})
	b, err := budget.New(cfg, append([]engine.Option{engine.WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b, clk
}

// withdraws asks for n retries and returns how many were allowed.
func withdraws(b *budget.Budget, n int) int {
	got := 0
	for range n {
		if b.Withdraw() == nil {
			got++
		}
	}
	return got
}

// deposits records n executions.
func deposits(b *budget.Budget, n int) {
	for range n {
		b.Deposit()
	}
}
