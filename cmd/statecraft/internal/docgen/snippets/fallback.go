package snippets

import (
	"context"
	"log"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Fallback is the snippet of docs/fallback.md.
func Fallback(ctx context.Context) (Quote, error) {
	// snippet:fallback begin
	fb := errorrecovery.FallbackValue(Quote{Stale: true}) // the last resort; deadlines trigger it too
	fb.Service = backupAPI                                // tried first, with the caller's context
	w, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[Quote]{
		Primary:   errorrecovery.StrategyRetry,
		Secondary: []errorrecovery.Strategy{errorrecovery.StrategyFallback},
		Fallback:  &fb,
	})
	if err != nil {
		return Quote{}, err
	}

	res, err := w.ExecuteResult(ctx, getQuote)
	if err == nil && res.Source != errorrecovery.SourceFunction {
		log.Printf("quote from the %v", res.Source) // "fallback service", "fallback value"
	}
	return res.Value, err
	// snippet:fallback end
}
