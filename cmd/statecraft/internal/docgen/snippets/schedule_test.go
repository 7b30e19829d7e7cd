package snippets

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// snippet:retry-schedule begin
func TestEqualJitterWaitsBetweenHalfAndAllOfTheExponentialDelay(t *testing.T) {
	cfg := errorrecovery.RetryConfig[string]{
		MaxAttempts:  5,
		InitialDelay: 100 * time.Millisecond, // e: 100ms, 200ms, 400ms, 800ms
		MaxDelay:     time.Second,
		Backoff:      errorrecovery.BackoffEqualJitter,
	}
	// A seeded source gives the same list on every run; pass the same
	// source to engine.WithRandom and an execution waits exactly these.
	delays, err := cfg.Schedule(rand.New(rand.NewPCG(1, 2)).Float64)
	require.NoError(t, err) // a *ConfigError naming the field
	e := cfg.InitialDelay
	for i, d := range delays {
		assert.GreaterOrEqual(t, d, e/2, "delay %d", i+1)
		assert.LessOrEqual(t, d, e, "delay %d", i+1)
		e *= 2
	}
}

// snippet:retry-schedule end
