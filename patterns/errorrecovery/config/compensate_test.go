package config_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

func init() {
	config.RegisterCompensation("refund", func(ctx context.Context, c er.Compensation) error { return nil })
}

func TestCompensateSection(t *testing.T) {
	cfg, err := config.Parse[string]("orders.yaml", []byte(`
primary: RETRY
secondary: [COMPENSATE]
compensate:
  timeout: 5s
  compensation_order: [charge, reserve]
  compensation_actions: [refund]
  retry:
    max_attempts: 2
    initial_delay: 10ms
`))
	require.NoError(t, err)
	c := cfg.Compensation
	require.NotNil(t, c)
	assert.Equal(t, 5*time.Second, c.Timeout)
	assert.Equal(t, []string{"charge", "reserve"}, c.CompensationOrder)
	assert.Contains(t, c.CompensationActions, "refund")
	assert.NotNil(t, c.CompensationRetry, "compensate.retry protects each compensation")

	cfg, err = config.Parse[string]("plain.yaml", []byte("primary: COMPENSATE\n"))
	require.NoError(t, err, "COMPENSATE named alone takes part with its defaults")
	assert.Nil(t, cfg.Compensation)
	_, err = er.NewWorkflow(cfg)
	assert.NoError(t, err)

	cfg, err = config.Parse[string]("empty.yaml", []byte("primary: RETRY\ncompensate:\n"))
	require.NoError(t, err)
	assert.Equal(t, er.DefaultCompensationConfig().Timeout, cfg.Compensation.Timeout, "an empty section: the defaults")
}

func TestCompensateSectionProblems(t *testing.T) {
	_, err := config.Parse[string]("bad.yaml", []byte(`primary: RETRY
compensate:
  timeout: 48h
  compensation_actions: [refund, teleport]
  retry:
    max_attempts: -2
`))
	es, ok := errors.AsType[config.Errors](err)
	require.True(t, ok, "%v", err)
	var fields []string
	for _, e := range es {
		fields = append(fields, e.Field)
	}
	assert.ElementsMatch(t, []string{"compensate.compensation_actions[1]", "compensate.retry.max_attempts", "compensate.timeout"}, fields)
	var unknown *config.UnknownCompensationError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, "teleport", unknown.Name)
	assert.Contains(t, unknown.Known, "refund")
}
