package budget_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/transitions"
)

// With no executions, the minimum alone is allowed: MinPerSecond times
// the window's seconds, exactly.
func TestMinimumAloneIsExact(t *testing.T) {
	b, _ := newBudget(t, budget.Config{MinPerSecond: 3, Window: 10 * time.Second, Ratio: budget.NoRatio})
	assert.Equal(t, 30, withdraws(b, 30))
	assert.Equal(t, budget.StateAvailable, b.State())
	err := b.Withdraw()
	assert.ErrorIs(t, err, budget.ErrExhausted)
	var ee *budget.ExhaustedError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 10*time.Second, ee.Window)
	assert.Equal(t, budget.StateExhausted, b.State())
	want := budget.Metrics{State: budget.StateExhausted, Retries: 30, Withdrawn: 30, Refused: 1}
	assert.Empty(t, cmp.Diff(want, b.Metrics()))
}

// Executions earn retries at Ratio, exactly, in fixed point: 104
// executions at 0.2 earn 20 retries (20.8), the 105th earns the 21st, and
// the deposit that makes room moves the budget back to Available.
func TestRatioIsExactAndADepositRecovers(t *testing.T) {
	b, _ := newBudget(t, budget.Config{Ratio: 0.2, MinPerSecond: budget.NoMinimum})
	assert.Equal(t, 0, withdraws(b, 1), "no executions, no minimum: nothing")
	deposits(b, 104)
	assert.Equal(t, budget.StateAvailable, b.State(), "the fifth deposit made room for a retry")
	assert.Equal(t, 20, withdraws(b, 25))
	assert.Equal(t, budget.StateExhausted, b.State())
	b.Deposit()
	assert.Equal(t, budget.StateAvailable, b.State(), "the 105th execution earns the 21st retry")
	assert.Equal(t, 1, withdraws(b, 5))
	m := b.Metrics()
	assert.Equal(t, int64(105), m.Executions)
	assert.Equal(t, int64(21), m.Retries)
	assert.Equal(t, int64(0), m.Allowed)
}

// An execution or retry counts until its slice is ten slices old, to the
// nanosecond; an Exhausted budget recovers on the clock the moment enough
// old retries age out.
func TestWindowAgesOutBySliceToTheNanosecond(t *testing.T) {
	b, clk := newBudget(t, budget.Config{Ratio: budget.NoRatio, MinPerSecond: 1, Window: 10 * time.Second}) // 10 retries a window, slices of 1s
	assert.Equal(t, 4, withdraws(b, 4))                                                                     // slice 0
	clk.Advance(3 * time.Second)
	assert.Equal(t, 6, withdraws(b, 7)) // slice 3; the 11th refused
	assert.Equal(t, budget.StateExhausted, b.State())
	clk.Advance(7*time.Second - 1)
	assert.Equal(t, budget.StateExhausted, b.State(), "slice 0 still counts a nanosecond before slice 10")
	assert.Equal(t, 0, withdraws(b, 1))
	clk.Advance(1)
	assert.Equal(t, budget.StateAvailable, b.State(), "slice 0's four retries aged out at 10s")
	assert.Equal(t, 4, withdraws(b, 5))
	clk.Advance(3 * time.Second)
	assert.Equal(t, budget.StateAvailable, b.State(), "slice 3's six aged out at 13s")
	assert.Equal(t, 6, withdraws(b, 10))
}

// Executions age out too: the retries they earned are lost with them,
// and an Exhausted budget's timer, finding no room when it fires, waits
// again.
func TestExecutionsAgeOut(t *testing.T) {
	b, clk := newBudget(t, budget.Config{Ratio: 0.5, MinPerSecond: budget.NoMinimum, Window: time.Second}) // slices of 100ms
	deposits(b, 10)
	clk.Advance(500 * time.Millisecond)
	deposits(b, 10)
	assert.Equal(t, 10, withdraws(b, 11)) // 20 executions earn 10
	assert.Equal(t, budget.StateExhausted, b.State())
	clk.Advance(500 * time.Millisecond) // the first ten executions age out, not the retries
	assert.Equal(t, int64(10), b.Metrics().Executions)
	assert.Equal(t, int64(0), b.Metrics().Allowed)
	assert.Equal(t, budget.StateExhausted, b.State())
	clk.Advance(500 * time.Millisecond) // everything aged out: nothing earned, nothing spent
	assert.Equal(t, budget.StateExhausted, b.State(), "no minimum: only an execution can make room")
	b.Deposit()
	b.Deposit()
	assert.Equal(t, budget.StateAvailable, b.State())
}

// A retry storm during an outage: every call fails and would retry three
// times. Without a budget the dependency sees four calls per execution;
// with one, the retries in any window stay within Ratio of its
// executions plus the minimum.
func TestRetryStormIsBoundedByTheRatio(t *testing.T) {
	const perSecond, seconds, retries = 100, 30, 3
	b, clk := newBudget(t, budget.Config{}) // Finagle's: 0.2, 10 a second, 10s
	calls := 0
	for range seconds {
		for range perSecond {
			b.Deposit()
			calls++ // the first attempt
			for range retries {
				if b.Withdraw() != nil {
					break // a refused retry ends the retrying
				}
				calls++
			}
			m := b.Metrics()
			require.LessOrEqual(t, m.Retries, m.Executions/5+100, "retries within 0.2 of executions plus 10/s over the window")
		}
		clk.Advance(time.Second)
	}
	without := seconds * perSecond * (1 + retries)
	t.Logf("dependency calls over %ds: %d with the budget, %d without (%.2fx)", seconds, calls, without, float64(without)/float64(calls))
	bound := seconds*perSecond*12/10 + 10*seconds // the executions, a fifth of them again, 10 a second
	assert.LessOrEqual(t, calls, bound)
	assert.Greater(t, calls, seconds*perSecond*12/10, "the budget lets its share through, and the minimum")
}

// The machine decides: without its deposit edge, a deposit that makes
// room does not end Exhausted; only a withdraw or the timer does.
func TestChangingTheDefinitionChangesTheBehaviour(t *testing.T) {
	def, err := budget.Definition().Edit(func(tr *transitions.Spec[budget.State, budget.Event, *budget.Budget]) bool {
		return tr.Event != budget.EventDeposit || tr.Delayed
	}).Build()
	require.NoError(t, err)
	cfg := budget.Config{Ratio: 1, MinPerSecond: budget.NoMinimum}
	edited, _ := newBudget(t, cfg, engine.WithDefinition(def))
	plain, _ := newBudget(t, cfg)
	for _, b := range []*budget.Budget{edited, plain} {
		require.Error(t, b.Withdraw())
		b.Deposit()
	}
	assert.Equal(t, budget.StateExhausted, edited.State())
	assert.Equal(t, budget.StateAvailable, plain.State())
	assert.NoError(t, edited.Withdraw(), "the withdraw edge still finds the room")
	assert.Equal(t, budget.StateAvailable, edited.State())
}

func TestEnumsPrintTheirNames(t *testing.T) {
	assert.Equal(t, "Exhausted", budget.StateExhausted.String())
	assert.Equal(t, "deposit", budget.EventDeposit.String())
	assert.Equal(t, "budget.State(9)", budget.State(9).String())
}

// A deposit whose caller read the clock a whole window ago is not
// counted, and does not erase the slice that has taken its slot.
func TestALateDepositDoesNotEraseANewerSlice(t *testing.T) {
	b, clk := newBudget(t, budget.Config{Ratio: 1, MinPerSecond: budget.NoMinimum, Window: 10 * time.Second})
	clk.Advance(12 * time.Second) // slice 12, whose slot slice 2 had
	deposits(b, 3)
	budget.AddLateDeposit(b, 2)
	assert.Equal(t, int64(3), b.Metrics().Executions)
}
