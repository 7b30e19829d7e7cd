package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// A retry waits out its backoff on its clock. On enginetest's manual clock
// nothing sleeps: the example advances the clock each time the execution
// waits on it, so the delays are exact and the output is always the same.
func ExampleNewRetry() {
	clock := enginetest.NewClock(time.Time{})
	start := clock.Now()

	cfg := er.DefaultRetryConfig[float64]()
	cfg.MaxAttempts = 4
	cfg.InitialDelay = 100 * time.Millisecond
	cfg.Backoff = er.BackoffExponential // 100ms, 200ms, 400ms, …
	cfg.OnRetry = func(attempt int, err error, delay time.Duration) {
		fmt.Printf("attempt %d failed (%v), retrying in %v\n", attempt, err, delay)
	}
	retry, err := er.NewRetry(cfg, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}

	errUnavailable := errors.New("503 service unavailable")
	fetchPrice := func(ctx context.Context) (float64, error) {
		if n, _ := er.AttemptFromContext(ctx); n < 4 {
			return 0, errUnavailable
		}
		return 42.5, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	var price float64
	go func() {
		defer cancel()
		price, err = retry.Execute(ctx, fetchPrice)
	}()
	for clock.BlockUntilWaiters(ctx, 1) == nil { // until Execute returns
		clock.AdvanceToNext()
	}

	fmt.Println(price, err, "after", clock.Now().Sub(start))
	// Output:
	// attempt 1 failed (503 service unavailable), retrying in 100ms
	// attempt 2 failed (503 service unavailable), retrying in 200ms
	// attempt 3 failed (503 service unavailable), retrying in 400ms
	// 42.5 <nil> after 700ms
}

// When every attempt fails, Execute returns an *ExhaustedError that
// unwraps to the last attempt's error. Jittered delays come from the
// executor's random source; a fixed one makes them predictable in a test.
func ExampleWithRandom() {
	clock := enginetest.NewClock(time.Time{})

	cfg := er.DefaultRetryConfig[string]()
	cfg.MaxAttempts = 3
	cfg.InitialDelay = time.Second
	cfg.Backoff = er.BackoffJitter // exponential, times 1 + JitterRange*(2r-1)
	cfg.JitterRange = 0.2
	cfg.OnRetry = func(attempt int, err error, delay time.Duration) {
		fmt.Printf("attempt %d: retrying in %v\n", attempt, delay)
	}
	// r = 0.75 scales every delay by 1 + 0.2*(2*0.75-1) = 1.1.
	retry, err := er.NewRetry(cfg, engine.WithClock(clock), engine.WithRandom(func() float64 { return 0.75 }))
	if err != nil {
		fmt.Println(err)
		return
	}

	errTimeout := errors.New("gateway timeout")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		_, err = retry.Execute(ctx, func(context.Context) (string, error) { return "", errTimeout })
	}()
	for clock.BlockUntilWaiters(ctx, 1) == nil {
		clock.AdvanceToNext()
	}

	var exhausted *er.ExhaustedError
	fmt.Println(errors.As(err, &exhausted), exhausted.Attempts, errors.Is(err, errTimeout))
	fmt.Println(err)
	// Output:
	// attempt 1: retrying in 1.1s
	// attempt 2: retrying in 2.2s
	// true 3 true
	// errorrecovery: 3 attempts failed, last: gateway timeout
}

// Permanent marks an error that no retry can fix: the execution stops at
// once and returns it.
func ExamplePermanent() {
	retry, err := er.NewRetry(er.DefaultRetryConfig[string]())
	if err != nil {
		fmt.Println(err)
		return
	}
	errInvalidCard := errors.New("invalid card number")
	calls := 0
	chargeCard := func(context.Context) (string, error) {
		calls++
		return "", er.Permanent(errInvalidCard)
	}

	_, err = retry.Execute(context.Background(), chargeCard)
	fmt.Println(err, errors.Is(err, errInvalidCard), er.IsPermanent(err), "calls:", calls)
	// Output:
	// invalid card number true true calls: 1
}

// Trace returns the steps an execution took through the retry's machine:
// Attempt is a choice state that calls the function, Backoff a delayed
// transition back to it.
func ExampleWorkflow_Trace() {
	clock := enginetest.NewClock(time.Time{})
	cfg := er.DefaultRetryConfig[int]()
	cfg.InitialDelay = time.Second
	cfg.Backoff = er.BackoffFixed
	retry, err := er.NewRetry(cfg, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}

	calls := 0
	countStock := func(context.Context) (int, error) {
		if calls++; calls == 1 {
			return 0, errors.New("connection reset")
		}
		return 7, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	var steps []engine.Record
	go func() {
		defer cancel()
		_, steps, err = retry.Trace(ctx, countStock)
	}()
	for clock.BlockUntilWaiters(ctx, 1) == nil {
		clock.AdvanceToNext()
	}

	for _, s := range steps {
		fmt.Printf("%s %s --%s--> %s\n", s.Time.Format(time.TimeOnly), s.From, s.Event, s.To)
	}
	fmt.Println(err)
	// Output:
	// 00:00:00 Start --begin--> Attempt
	// 00:00:00 Attempt --retryable--> Backoff
	// 00:00:01 Backoff --after backoff--> Retry
	// 00:00:01 Retry --retry--> Attempt
	// 00:00:01 Attempt --success--> Done
	// <nil>
}
