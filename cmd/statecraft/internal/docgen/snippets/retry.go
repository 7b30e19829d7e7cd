package snippets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Retry is the snippet of docs/retry.md.
func Retry(ctx context.Context, url string) (string, error) {
	// snippet:retry begin
	cfg := errorrecovery.DefaultRetryConfig[string]() // 3 attempts, 1s doubling, capped at 60s
	cfg.MaxAttempts = 4
	cfg.InitialDelay = 200 * time.Millisecond
	cfg.MaxDelay = 5 * time.Second
	cfg.Backoff = errorrecovery.BackoffJitter   // each delay times 1±10%
	cfg.RetryOn = []errorrecovery.ErrorMatcher{ // only these are retried
		errorrecovery.ErrorType[*net.OpError](),
		errorrecovery.ErrorIs(ErrUnavailable),
	}
	r, err := errorrecovery.NewRetry(cfg)
	if err != nil {
		return "", err // a *ConfigError naming the field
	}

	page, err := r.Execute(ctx, func(ctx context.Context) (string, error) {
		return fetch(ctx, url)
	})
	if ex, ok := errors.AsType[*errorrecovery.ExhaustedError](err); ok {
		return "", fmt.Errorf("%s: gave up after %d attempts: %w", url, ex.Attempts, ex.Last)
	}
	return page, err
	// snippet:retry end
}

// Deadline is the first snippet of docs/deadline.md.
func Deadline(ctx context.Context, url string) (string, error) {
	// snippet:deadline begin
	// One call, bounded by 2s on the workflow's clock.
	d, err := errorrecovery.NewDeadline[string](errorrecovery.DeadlineConfig{Timeout: 2 * time.Second})
	if err != nil {
		return "", err
	}
	page, err := d.Execute(ctx, func(ctx context.Context) (string, error) {
		return fetch(ctx, url) // ctx ends at the deadline
	})
	if errors.Is(err, context.DeadlineExceeded) { // a *TimeoutError
		return "", fmt.Errorf("%s: too slow: %w", url, err)
	}
	return page, err
	// snippet:deadline end
}

// DeadlineRetry is the second snippet of docs/deadline.md.
func DeadlineRetry(ctx context.Context, url string) (string, error) {
	// snippet:deadline-retry begin
	// Retries under one overall deadline, each attempt with its own.
	r, err := errorrecovery.NewWorkflow(errorrecovery.ErrorRecoveryConfig[string]{
		Retry: &errorrecovery.RetryConfig[string]{}, // the defaults
		Deadline: &errorrecovery.DeadlineConfig{
			Timeout:        10 * time.Second,
			AttemptTimeout: 2 * time.Second,
		},
	})
	if err != nil {
		return "", err
	}
	return r.Execute(ctx, func(ctx context.Context) (string, error) {
		if left, ok := errorrecovery.TimeLeft(ctx); ok && left < 100*time.Millisecond {
			return "", errorrecovery.Permanent(errors.New("no time left for a useful call"))
		}
		return fetch(ctx, url)
	})
	// snippet:deadline-retry end
}
