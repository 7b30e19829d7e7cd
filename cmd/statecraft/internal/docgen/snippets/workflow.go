package snippets

import (
	"context"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// Workflow is the snippet of docs/workflow.md.
func Workflow(ctx context.Context) (Quote, error) {
	// snippet:workflow begin
	retry := errorrecovery.DefaultRetryConfig[Quote]()
	retry.InitialDelay, retry.MaxDelay = 100*time.Millisecond, time.Second
	bc := breaker.DefaultConfig()
	bc.WindowDuration = breaker.CountOnly
	fb := errorrecovery.FallbackValue(Quote{Stale: true})

	w, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[Quote]{
		Primary:       errorrecovery.StrategyRetry,
		Secondary:     []errorrecovery.Strategy{errorrecovery.StrategyCircuitBreaker, errorrecovery.StrategyBulkhead, errorrecovery.StrategyFallback},
		Retry:         &retry,
		Breaker:       &bc,
		Fallback:      &fb,
		Deadline:      &errorrecovery.DeadlineConfig{AttemptTimeout: 250 * time.Millisecond},
		GlobalTimeout: 2 * time.Second, // one overall timeout, bulkhead queueing included
	})
	if err != nil {
		return Quote{}, err // a *ConfigError naming the field
	}
	fmt.Print(w.Dot()) // the per-call machine this config runs, breaker and bulkhead as clusters

	res, err := w.ExecuteResult(ctx, getQuote)
	fmt.Println(res.Source, res.Attempts, w.Health().Status)
	// snippet:workflow end
	return res.Value, err
}
