package config_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

func ExampleParse() {
	const file = `
primary: RETRY
secondary: [CIRCUIT_BREAKER, FALLBACK]
retry:
  max_attempts: 4
  initial_delay: 200ms
  backoff: EXPONENTIAL
  retry_on: [timeout, connection, status5xx]
circuit_breaker:
  failure_threshold: 5
  window_duration: -1s
  open_timeout: 30s
fallback:
  value: "price unavailable"
`
	cfg, err := config.Parse[string]("pricing.yaml", []byte(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Settings the file leaves out keep their defaults (MaxDelay here).
	// Those only Go can express (callbacks, a clock, a shared breaker) are
	// set on cfg before NewWorkflow.
	fmt.Println(cfg.Primary, cfg.Secondary, cfg.Retry.MaxAttempts, cfg.Retry.InitialDelay, cfg.Retry.MaxDelay)

	w, err := errorrecovery.NewWorkflow(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Breaker().Close()
	fmt.Println(w.Definition().States())

	// An error outside retry_on is not retried; the fallback answers it.
	r, err := w.ExecuteResult(context.Background(), func(context.Context) (string, error) {
		return "", errors.New("unknown product")
	})
	fmt.Println(r.Value, "from", r.Source, "after", r.Attempts, "attempt", err)
	// Output:
	// RETRY [CIRCUIT_BREAKER FALLBACK] 4 200ms 1m0s
	// [Start Executing CheckCircuit Attempt Backoff Retry Fallback Done Recovered Failed]
	// price unavailable from fallback value after 1 attempt <nil>
}

// Parse reports the problems it finds, each with its line, column and the
// dotted path of its key.
func ExampleParse_errors() {
	const file = `primary: RETRY
retry:
  max_attempts: -1
  backoff: QUADRATIC
circuit_breaker:
  failure_threshold: 20
`
	_, err := config.Parse[string]("pricing.yaml", []byte(file))
	fmt.Println(err)

	var problem *config.Error
	if errors.As(err, &problem) {
		fmt.Println("first:", problem.Field, "at line", problem.Line)
	}
	var refused *errorrecovery.ConfigError
	if errors.As(err, &refused) {
		fmt.Println("refused:", refused.Config+"."+refused.Field)
	}
	// Output:
	// pricing.yaml:3:17: retry.max_attempts: must not be negative (it counts the first attempt; zero means 3) (got -1)
	// pricing.yaml:4:12: retry.backoff: unknown backoff "QUADRATIC" (want one of FIXED, LINEAR, EXPONENTIAL, JITTER, DECORRELATED, FULL_JITTER, EQUAL_JITTER)
	// pricing.yaml:6:22: circuit_breaker.failure_threshold: exceeds window_size (10), so the window could never hold that many failures (got 20)
	// first: retry.max_attempts at line 3
	// refused: RetryConfig.MaxAttempts
}
