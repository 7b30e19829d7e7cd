// Compensate places an order through a workflow with retry, a fallback
// and COMPENSATE: each attempt reserves stock and then charges a card, and
// registers the undo of each effect as it happens. The payment service is
// down, so the charge fails on every attempt; the fallback (a queue for
// later) is full, so it cannot answer either; and the machine enters
// Compensate, which releases every reservation, the latest first. The
// program prints the path the call took through the per-call machine, the
// undos that ran and the caller's error:
//
//	go run ./examples/compensate
//
// It runs on a manual clock (the backoffs take no real time), so its output
// is the same every run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// errPaymentsDown is what the payment service answers.
var errPaymentsDown = errors.New("payments: service unavailable")

// errQueueFull is why the fallback cannot answer.
var errQueueFull = errors.New("order queue full")

// shop is the two services an order touches, with a log of what was done
// and undone.
type shop struct {
	mu  sync.Mutex
	log []string
}

func (s *shop) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

// reserve reserves the stock of an order: an effect to undo.
func (s *shop) reserve(ctx context.Context, key string) error {
	s.note("reserve %s", key)
	return er.AddCompensation(ctx, "reserve", key, s.release)
}

// release is reserve's undo.
func (s *shop) release(ctx context.Context, key string) error {
	s.note("release %s", key)
	return nil
}

// charge charges the card; the payment service is down.
func (s *shop) charge(ctx context.Context, key string) error {
	s.note("charge %s: %v", key, errPaymentsDown)
	return errPaymentsDown
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run places one order and writes what happened to w.
func run(w io.Writer) error {
	clk := enginetest.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	retry := er.DefaultRetryConfig[string]()
	retry.MaxAttempts, retry.Backoff, retry.InitialDelay = 3, er.BackoffFixed, time.Second
	fallback := er.FallbackConfig[string]{Func: func(error) (string, error) { return "", errQueueFull }}
	wf, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Name:    "order",
		Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyFallback, er.StrategyCompensate},
		Retry: &retry, Fallback: &fallback, Compensation: &er.CompensationConfig{},
	}, engine.WithClock(clk))
	if err != nil {
		return err
	}
	var s shop
	place := func(ctx context.Context) (string, error) {
		n, _ := er.AttemptFromContext(ctx)
		key := fmt.Sprintf("order-1042/attempt-%d", n)
		if err := s.reserve(ctx, key); err != nil {
			return "", err
		}
		if err := s.charge(ctx, key); err != nil {
			return "", err
		}
		return "confirmed", nil
	}

	// The backoffs wait on the manual clock: move it on whenever the call
	// waits, as a test would.
	type outcome struct {
		recs []engine.Record
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		_, recs, err := wf.Trace(context.Background(), place)
		done <- outcome{recs, err}
	}()
	var o outcome
	for o.recs == nil && o.err == nil {
		select {
		case o = <-done:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			if clk.BlockUntilWaiters(ctx, 1) == nil {
				clk.AdvanceToNext()
			}
			cancel()
		}
	}

	fmt.Fprintln(w, "effects:")
	for _, line := range s.log {
		fmt.Fprintln(w, "  "+line)
	}
	path := []string{o.recs[0].From}
	for _, r := range o.recs {
		path = append(path, r.To)
	}
	fmt.Fprintln(w, "path:", strings.Join(path, " → "))
	var ce *er.CompensationError
	if !errors.As(o.err, &ce) {
		return fmt.Errorf("want a *CompensationError, got %v", o.err)
	}
	fmt.Fprintf(w, "compensated: %v, failed to compensate: %d\n", ce.Compensated, len(ce.Failed))
	fmt.Fprintln(w, "the payment error is there:", errors.Is(o.err, errPaymentsDown))
	fmt.Fprintln(w, "error:", o.err)
	return nil
}
