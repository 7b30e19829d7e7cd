package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// TestOnFailureIsCalledWhenRetryingGivesUpWhateverAnswersAfterwards:
// RetryConfig.OnFailure hears once that the attempts are over without a
// success (exhausted, permanent, deadline), before the fallback answers,
// with the error the fallback is given.
func TestOnFailureIsCalledWhenRetryingGivesUpWhateverAnswersAfterwards(t *testing.T) {
	tests := []struct {
		name string
		fn   func(clk *enginetest.Clock) func(context.Context) (int, error)
		want func(error) bool
	}{{
		name: "exhausted",
		fn: func(*enginetest.Clock) func(context.Context) (int, error) {
			return func(context.Context) (int, error) { return 0, errFlaky }
		},
		want: func(err error) bool { return errors.Is(err, er.ErrExhausted) && errors.Is(err, errFlaky) },
	}, {
		name: "permanent",
		fn: func(*enginetest.Clock) func(context.Context) (int, error) {
			return func(context.Context) (int, error) { return 0, er.Permanent(errFlaky) }
		},
		want: func(err error) bool { return errors.Is(err, errFlaky) && !errors.Is(err, er.ErrExhausted) },
	}, {
		name: "deadline",
		fn: func(clk *enginetest.Clock) func(context.Context) (int, error) {
			return hangUntilDone[int](clk, time.Second)
		},
		want: func(err error) bool {
			var te *er.TimeoutError
			return errors.As(err, &te)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := enginetest.NewClock(time.Time{})
			var log []string
			var got error
			retry := fastRetry[int](2)
			retry.OnFailure = func(err error) { got = err; log = append(log, "on failure") }
			fb := er.FallbackConfig[int]{Func: func(err error) (int, error) {
				log = append(log, fmt.Sprintf("fallback (same error: %v)", err == got))
				return -1, nil
			}}
			w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyFallback},
				Retry: retry, Fallback: &fb, GlobalTimeout: time.Second}, engine.WithClock(clk))
			if v, err := w.Execute(context.Background(), tt.fn(clk)); v != -1 || err != nil {
				t.Fatalf("Execute = %v, %v; want the fallback's -1", v, err)
			}
			if fmt.Sprint(log) != "[on failure fallback (same error: true)]" || !tt.want(got) {
				t.Errorf("calls %q, OnFailure given %v", log, got)
			}
			if _, err := w.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil }); err != nil || len(log) != 2 {
				t.Errorf("a success: %v, calls %q; want no OnFailure", err, log)
			}
		})
	}
}
