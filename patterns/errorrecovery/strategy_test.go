package errorrecovery_test

import (
	"encoding/json"
	"errors"
	"testing"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func TestStrategyAndBackoffNamesRoundTrip(t *testing.T) {
	for s := er.StrategyRetry; s <= er.StrategyCache; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		var back er.Strategy
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s round-trips to %v, %v", b, back, err)
		}
	}
	for b := er.BackoffFixed; b <= er.BackoffEqualJitter; b++ {
		text, _ := b.MarshalText()
		got, err := er.ParseBackoff(string(text))
		if err != nil || got != b {
			t.Errorf("%s parses to %v, %v", text, got, err)
		}
	}
	if s, err := er.ParseStrategy("circuit_breaker"); err != nil || s != er.StrategyCircuitBreaker {
		t.Errorf("case-insensitive parse: %v, %v", s, err)
	}
}

func TestUnknownNamesAreErrorsNotDefaults(t *testing.T) {
	var s er.Strategy
	err := json.Unmarshal([]byte(`"RETRYY"`), &s)
	var ue *er.UnknownNameError
	if !errors.As(err, &ue) || ue.Kind != "strategy" || ue.Name != "RETRYY" {
		t.Errorf("unknown strategy: %v", err)
	}
	if _, err := er.ParseBackoff("quadratic"); !errors.As(err, &ue) || ue.Kind != "backoff" {
		t.Errorf("unknown backoff: %v", err)
	}
	if _, err := er.Strategy(0).MarshalText(); err == nil {
		t.Error("the zero Strategy marshals")
	}
	if _, err := er.Backoff(42).MarshalText(); err == nil {
		t.Error("Backoff(42) marshals")
	}
}
