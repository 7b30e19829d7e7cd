package config_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// TestHedgeSectionMeansTheLiteral pins what each hedge section sets: the
// HedgeConfig a Go literal with the same settings would be, with the
// defaults where the file leaves a key out.
func TestHedgeSectionMeansTheLiteral(t *testing.T) {
	def := errorrecovery.DefaultHedgeConfig()
	for _, tt := range []struct {
		name, section string
		want          errorrecovery.HedgeConfig
	}{
		{"empty", `{}`, def},
		{"no settings", ``, def},
		{"every key", `{delay: 250ms, max_hedges: 3}`, errorrecovery.HedgeConfig{Delay: 250 * time.Millisecond, MaxHedges: 3}},
		{"no delay", `{delay: -1s}`, errorrecovery.HedgeConfig{Delay: -time.Second, MaxHedges: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: HEDGE\nhedge: "+tt.section+"\n"))
			require.NoError(t, err)
			require.NotNil(t, cfg.Hedge)
			assert.Empty(t, cmp.Diff(tt.want, *cfg.Hedge))
			assert.Equal(t, errorrecovery.StrategyHedge, cfg.Primary)
		})
	}
}

func TestHedgeSectionMakesHedgeTakePart(t *testing.T) {
	w := workflowOf(t, "hedge:\n")
	assert.Contains(t, w.Dot(), "Hedge")
	w = workflowOf(t, "primary: RETRY\nsecondary: [hedge]\n")
	assert.Contains(t, w.Dot(), "Hedge")
}

func TestHedgeSectionProblemsNameTheKeyAndLine(t *testing.T) {
	for _, tt := range []struct {
		file  string
		line  int
		field string
	}{
		{"primary: HEDGE\nhedge:\n  max_hedges: -1\n", 3, "hedge.max_hedges"},
		{"primary: HEDGE\nhedge:\n  max_hedges: 101\n", 3, "hedge.max_hedges"},
		{"hedge:\n  delay: 25h\n", 2, "hedge.delay"},
	} {
		_, err := config.Parse[any]("h.yaml", []byte(tt.file))
		var errs config.Errors
		require.True(t, errors.As(err, &errs), "%v", err)
		require.Len(t, errs, 1, "%v", err)
		assert.Equal(t, [2]any{tt.line, tt.field}, [2]any{errs[0].Line, errs[0].Field}, "%v", err)
		ce, ok := errors.AsType[*errorrecovery.ConfigError](errs[0])
		if assert.True(t, ok, "%v: want a *ConfigError inside", err) {
			assert.Equal(t, "HedgeConfig", ce.Config)
		}
	}
	_, err := config.Parse[any]("h.yaml", []byte("hedge:\n  hedges: 2\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "max_hedges", "the message lists the keys known in hedge")
}
