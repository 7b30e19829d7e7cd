package budget_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// A zero Config means DefaultConfig, Finagle's: a fifth of the
// executions of the last 10s, plus 10 a second.
func TestZeroConfigIsDefaultConfig(t *testing.T) {
	want := budget.Config{Ratio: 0.2, MinPerSecond: 10, Window: 10 * time.Second}
	assert.Empty(t, cmp.Diff(want, budget.DefaultConfig()))
	got, err := (&budget.Config{}).Resolve()
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(want, got))
	b, _ := newBudget(t, budget.Config{})
	assert.Equal(t, 100, withdraws(b, 200), "10 a second over 10s")
	deposits(b, 50)
	assert.Equal(t, 10, withdraws(b, 200), "and a fifth of 50 executions")
}

// "None" is spelled with a negative value and resolves to one spelling.
func TestResolveSpellsNoneOneWay(t *testing.T) {
	got, err := (&budget.Config{Ratio: -5}).Resolve()
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(budget.Config{Ratio: budget.NoRatio, MinPerSecond: 10, Window: 10 * time.Second}, got))
	again, err := got.Resolve()
	require.NoError(t, err)
	assert.Equal(t, got, again)
}

// Each invalid value is refused with a *ConfigError naming its field.
func TestValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		cfg   budget.Config
		field string
	}{
		{budget.Config{Ratio: 101}, "Ratio"},
		{budget.Config{MinPerSecond: 1<<20 + 1}, "MinPerSecond"},
		{budget.Config{Window: -time.Second}, "Window"},
		{budget.Config{Window: 999 * time.Millisecond}, "Window"},
		{budget.Config{Window: 61 * time.Second}, "Window"},
		{budget.Config{Ratio: budget.NoRatio, MinPerSecond: budget.NoMinimum}, "MinPerSecond"},
	} {
		var ce *setup.ConfigError
		if assert.ErrorAs(t, c.cfg.Validate(), &ce, "%+v", c.cfg) {
			assert.Equal(t, c.field, ce.Field)
			assert.Equal(t, "budget.Config", ce.Config)
		}
		_, err := budget.New(c.cfg)
		assert.ErrorAs(t, err, &ce)
	}
}
