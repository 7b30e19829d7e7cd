package errorrecovery_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func TestStrategyAndBackoffNamesRoundTrip(t *testing.T) {
	for s := er.StrategyRetry; s <= er.StrategyCache; s++ {
		b, err := json.Marshal(s)
		require.NoError(t, err, "%v", s)
		var back er.Strategy
		assert.NoError(t, json.Unmarshal(b, &back), "%s", b)
		assert.Equal(t, s, back, "%s round-trips", b)
	}
	for b := er.BackoffFixed; b <= er.BackoffEqualJitter; b++ {
		text, _ := b.MarshalText()
		got, err := er.ParseBackoff(string(text))
		assert.NoError(t, err, "%s", text)
		assert.Equal(t, b, got, "%s parses", text)
	}
	s, err := er.ParseStrategy("circuit_breaker")
	assert.NoError(t, err, "case-insensitive parse")
	assert.Equal(t, er.StrategyCircuitBreaker, s, "case-insensitive parse")
}

func TestUnknownNamesAreErrorsNotDefaults(t *testing.T) {
	var s er.Strategy
	err := json.Unmarshal([]byte(`"RETRYY"`), &s)
	if ue, ok := errors.AsType[*er.UnknownNameError](err); assert.True(t, ok, "unknown strategy: %v", err) {
		assert.Equal(t, "strategy", ue.Kind, "unknown strategy: %v", err)
		assert.Equal(t, "RETRYY", ue.Name, "unknown strategy: %v", err)
	}
	_, err = er.ParseBackoff("quadratic")
	if ue, ok := errors.AsType[*er.UnknownNameError](err); assert.True(t, ok, "unknown backoff: %v", err) {
		assert.Equal(t, "backoff", ue.Kind, "unknown backoff: %v", err)
	}
	_, err = er.Strategy(0).MarshalText()
	assert.Error(t, err, "the zero Strategy marshals")
	_, err = er.Backoff(42).MarshalText()
	assert.Error(t, err, "Backoff(42) marshals")
}
