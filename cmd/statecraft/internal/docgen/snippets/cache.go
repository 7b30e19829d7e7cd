package snippets

import (
	"context"
	"log"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

type userIDKey struct{}

// Cache is the snippet of docs/cache.md.
func Cache(ctx context.Context) (User, error) {
	// snippet:cache begin
	cc := cache.Config{ // zero fields: 1000 entries, coalescing
		TTL:      30 * time.Second,
		MaxStale: 10 * time.Minute, // serve an expired entry on failure for 10 more minutes
		Key: func(ctx context.Context) string {
			id, _ := ctx.Value(userIDKey{}).(string)
			return id
		},
	}
	w, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[User]{
		Primary:   errorrecovery.StrategyCache,
		Secondary: []errorrecovery.Strategy{errorrecovery.StrategyRetry},
		Cache:     &cc,
	})
	if err != nil {
		return User{}, err
	}

	ctx = context.WithValue(ctx, userIDKey{}, "u-42")
	res, err := w.ExecuteResult(ctx, loadUser)
	switch res.Source {
	case errorrecovery.SourceCache: // fresh: loadUser was not called
	case errorrecovery.SourceStaleCache: // loadUser failed; an expired entry answered
		log.Printf("serving a profile %v old", res.Age)
	}
	return res.Value, err
	// snippet:cache end
}
