package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// A breaker opens after FailureThreshold failures and rejects calls without
// running them until its open timeout passes; then trial calls decide
// whether it closes again. On the manual clock, Advance is what makes the
// open timeout pass.
func ExampleNew() {
	clock := enginetest.NewClock(time.Time{})
	logChange := func(from, to breaker.State) { fmt.Println("breaker:", from, "->", to) }

	cfg := breaker.DefaultConfig()
	cfg.FailureThreshold = 3
	cfg.WindowDuration = breaker.CountOnly // judge by the last WindowSize outcomes, whatever their age
	cfg.OpenTimeout = 30 * time.Second
	cfg.SuccessThreshold = 2
	cfg.OnOpen, cfg.OnHalfOpen, cfg.OnClose = logChange, logChange, logChange
	b, err := breaker.New(cfg, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	ctx := context.Background()
	errRefused := errors.New("connection refused")
	for range 3 {
		b.Protect(ctx, func(context.Context) error { return errRefused })
	}

	err = b.Protect(ctx, func(context.Context) error {
		fmt.Println("not called while open")
		return nil
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, breaker.ErrOpen))

	clock.Advance(30 * time.Second)
	for range 2 {
		b.Protect(ctx, func(context.Context) error { return nil }) // trial calls
	}
	m := b.Metrics()
	fmt.Println(m.State, "opens:", m.Opens, "rejections:", m.Rejections)
	// Output:
	// breaker: Closed -> Open
	// errorrecovery: circuit breaker is open, retry after 30s
	// true
	// breaker: Open -> HalfOpen
	// breaker: HalfOpen -> Closed
	// Closed opens: 1 rejections: 1
}

// Allow and Permit.Done split a call in two, for code that cannot be
// wrapped in a function: ask before the call, report its outcome after.
func ExampleBreaker_Allow() {
	clock := enginetest.NewClock(time.Time{})
	cfg := breaker.DefaultConfig()
	cfg.FailureThreshold = 1
	cfg.WindowDuration = breaker.CountOnly
	cfg.OpenTimeout = time.Minute
	b, err := breaker.New(cfg, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	sendEmail := func() error { return errors.New("smtp: 421 service not available") }
	for range 2 {
		permit, err := b.Allow()
		if err != nil {
			fmt.Println("skipped:", err)
			continue
		}
		err = sendEmail()
		permit.Done(err) // exactly once, nil for a success
		fmt.Println("sent:", err)
	}
	clock.Advance(20 * time.Second)
	_, err = b.Allow()
	var open *breaker.OpenError
	if errors.As(err, &open) {
		fmt.Println(b.State(), "for another", open.RetryAfter())
	}
	// Output:
	// sent: smtp: 421 service not available
	// skipped: errorrecovery: circuit breaker is open, retry after 1m0s
	// Open for another 40s
}
