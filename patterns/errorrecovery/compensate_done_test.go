package errorrecovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// A call whose effects were all undone ends in Done, as the card draws
// it, but it failed: the caller gets the *CompensationError and no value,
// and the metrics and health count a failure, not a success.
func TestDoneAfterCompensateIsAFailure(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	answer := false
	w := cardWorkflow(t, clk, &answer, er.CompensationConfig{})
	fn := func(ctx context.Context) (string, error) {
		require.NoError(t, er.AddCompensation(ctx, "reserve", "r-1", func(context.Context, string) error { return nil }))
		return "half-done", er.Permanent(errFlaky)
	}
	r, steps, err := w.TraceResult(context.Background(), fn)
	assert.Equal(t, "Start → Attempt → Fallback → Compensate → Done", pathOf(steps))
	var ce *er.CompensationError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, errFlaky, "the cause")
	assert.Equal(t, []string{"reserve"}, ce.Compensated)
	assert.Empty(t, r.Value, "no value comes back with a failure")
	assert.Equal(t, er.SourceNone, r.Source)
	m := w.Metrics()
	assert.Equal(t, int64(0), m.Successes)
	assert.Equal(t, int64(1), m.Failed)
	assert.Equal(t, int64(1), m.Compensations)
}
