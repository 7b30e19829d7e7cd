package budget_test

import (
	"testing"

	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

// TestAllocs pins that recording an execution and asking for a retry,
// allowed or refused, allocate nothing.
func TestAllocs(t *testing.T) {
	b, _ := newBudget(t, budget.Config{Ratio: 1, MinPerSecond: budget.NoMinimum})
	testutil.WantAllocs(t, 0, "Deposit", b.Deposit)
	testutil.WantAllocs(t, 0, "Deposit then Withdraw, allowed", func() { b.Deposit(); _ = b.Withdraw() })
	testutil.WantAllocs(t, 0, "Withdraw, refused", func() { _ = b.Withdraw() })
}
