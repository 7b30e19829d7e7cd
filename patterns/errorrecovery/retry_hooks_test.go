package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			v, err := w.Execute(context.Background(), tt.fn(clk))
			require.Equal(t, -1, v, "Execute: want the fallback's -1")
			require.NoError(t, err, "Execute")
			if diff := cmp.Diff([]string{"on failure", "fallback (same error: true)"}, log); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			assert.True(t, tt.want(got), "OnFailure given %v", got)
			_, err = w.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
			assert.NoError(t, err, "a success")
			assert.Len(t, log, 2, "calls after a success: want no OnFailure")
		})
	}
}
