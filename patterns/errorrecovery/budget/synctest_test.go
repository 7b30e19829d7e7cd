package budget_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

// TestBudgetWithRealTimeInASynctestBubble runs a budget on the real clock
// inside a bubble: its window and its recovery timer run on the bubble's
// fake time, exactly, and nothing outlives Close.
func TestBudgetWithRealTimeInASynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := budget.New(budget.Config{Ratio: budget.NoRatio, MinPerSecond: 1, Window: 2 * time.Second})
		require.NoError(t, err)
		defer b.Close()
		assert.Equal(t, 2, withdraws(b, 3))
		assert.Equal(t, budget.StateExhausted, b.State())
		time.Sleep(2*time.Second - 1)
		synctest.Wait()
		assert.Equal(t, budget.StateExhausted, b.State())
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, budget.StateAvailable, b.State(), "the retries aged out at 2s of bubble time")
	})
}
