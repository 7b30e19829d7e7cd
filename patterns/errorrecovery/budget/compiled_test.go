package budget_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

// A budget running Definition takes some withdrawals compiled (see
// Withdraw); one running a copy of it, built anew from
// DefinitionBuilder, fires every one. Driven through the same random
// deposits, withdrawals and clock moves, the two agree on every answer,
// state and count.
func TestCompiledWithdrawalsMatchTheFiredOnes(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 3))
	copyDef := budget.DefinitionBuilder().MustBuild()
	for round := range 50 {
		cfg := budget.Config{Ratio: []float64{0.1, 0.5, 1, budget.NoRatio}[r.IntN(4)], MinPerSecond: []int{budget.NoMinimum, 1, 3}[r.IntN(3)], Window: 10 * time.Second}
		if cfg.Ratio == budget.NoRatio && cfg.MinPerSecond == budget.NoMinimum {
			cfg.MinPerSecond = 1
		}
		clk := enginetest.NewClock(time.Time{})
		compiled, err := budget.New(cfg, engine.WithClock(clk))
		require.NoError(t, err)
		fired, err := budget.New(cfg, engine.WithClock(clk), engine.WithDefinition(copyDef))
		require.NoError(t, err)
		for step := range 300 {
			where := []any{"seed %d round %d step %d (%+v)", seed, round, step, cfg}
			switch r.IntN(10) {
			case 0, 1, 2, 3:
				compiled.Deposit()
				fired.Deposit()
			case 4, 5, 6, 7, 8:
				a, b := compiled.Withdraw(), fired.Withdraw()
				require.Equal(t, b == nil, a == nil, where...)
			default:
				clk.Advance(time.Duration(r.IntN(3000)) * time.Millisecond)
			}
			require.Equal(t, fired.State(), compiled.State(), where...)
			require.Equal(t, fired.Metrics(), compiled.Metrics(), where...)
		}
		compiled.Close()
		fired.Close()
	}
}

// An observer sees every withdrawal as a step of the machine: with one,
// nothing is taken compiled.
func TestAnObserverSeesEveryWithdrawal(t *testing.T) {
	var events []string
	obs := engine.ObserverFunc(func(rec engine.Record) { events = append(events, rec.From+" -"+rec.Event+"-> "+rec.To) })
	b, _ := newBudget(t, budget.Config{Ratio: budget.NoRatio, MinPerSecond: 1, Window: 10 * time.Second}, engine.WithObserver(obs))
	for range 12 {
		_ = b.Withdraw()
	}
	// The minimum allows 10 retries in the window: 10 spent in
	// Available, the 11th exhausts the budget, the 12th is refused.
	require.Len(t, events, 12)
	assert.Equal(t, "Available -withdraw-> Available", events[0])
	assert.Equal(t, "Available -withdraw-> Exhausted", events[10])
	assert.Equal(t, "Exhausted -withdraw-> Exhausted", events[11])
	assert.Equal(t, budget.Metrics{State: budget.StateExhausted, Retries: 10, Withdrawn: 10, Refused: 2}, b.Metrics())
}
