package saga_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// A compensation stuck on its context ends at CompensationConfig.Timeout
// on the saga's clock, and the saga goes on to the next one.
func TestSagaCompensationTimeoutOnTheClock(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	var undone []string
	ok := func(context.Context, saga.Call[int]) (int, error) { return 1, nil }
	steps := []saga.Step[int]{
		saga.NewStep("reserve", ok, func(ctx context.Context, c saga.Call[int], _ int) error {
			undone = append(undone, c.Step)
			return nil
		}),
		saga.NewStep("charge", ok, func(ctx context.Context, c saga.Call[int], _ int) error {
			<-ctx.Done()
			return ctx.Err()
		}),
		saga.NewStep("ship", func(context.Context, saga.Call[int]) (int, error) { return 0, errFlaky }, nil),
	}
	cfg := saga.DefaultConfig()
	cfg.Compensation.Timeout = 2 * time.Second
	s, err := saga.New("order", cfg, steps, engine.WithClock(clk))
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := s.Run(context.Background(), "o-1", 0)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1), "the stuck compensation waits on its context")
	clk.Advance(2 * time.Second)
	err = <-done
	assert.ErrorIs(t, err, saga.ErrCompensationFailed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, []string{"reserve"}, undone)
}

func TestSagaRefusesACompensationOrder(t *testing.T) {
	cfg := saga.DefaultConfig()
	cfg.Compensation.CompensationOrder = []string{"charge"}
	var ce *er.ConfigError
	require.ErrorAs(t, cfg.Validate(), &ce)
	assert.Equal(t, "CompensationOrder", ce.Field)
}
