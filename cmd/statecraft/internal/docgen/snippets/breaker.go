package snippets

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// Breaker is the snippet of docs/circuit-breaker.md.
func Breaker(ctx context.Context) error {
	// snippet:circuit-breaker begin
	cfg := breaker.DefaultConfig()         // 5 failures in the last 10, open 60s
	cfg.WindowDuration = breaker.CountOnly // count-only: no clock read on success
	cfg.OpenTimeout = 30 * time.Second
	cfg.OnOpen = func(from, to breaker.State) { log.Printf("breaker: %v -> %v", from, to) }
	b, err := breaker.New(cfg)
	if err != nil {
		return err // a *ConfigError naming the field
	}
	defer b.Close() // stops a pending open timer

	err = b.Protect(ctx, ping)
	if open, ok := errors.AsType[*breaker.OpenError](err); ok {
		log.Printf("not called; half-open in %v", open.RetryAfter())
	}

	// The same without a closure: admit, call, report the outcome once.
	p, err := b.Allow()
	if err != nil {
		return err // errors.Is(err, breaker.ErrOpen)
	}
	err = ping(ctx)
	p.Done(err)
	// snippet:circuit-breaker end
	return err
}
