package errorrecovery_test

import (
	"context"
	"testing"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func noUndo(context.Context, string) error { return nil }

// registerN returns a function that registers n undos and succeeds.
func registerN(n int) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		for range n {
			if err := er.AddCompensation(ctx, "reserve", "k", noUndo); err != nil {
				return 0, err
			}
		}
		return 1, nil
	}
}

// An execution of a workflow with COMPENSATE makes its list of undos (one
// allocation), which holds four without another; each registration
// after them costs at most one (the list growing).
func TestCompensateRegistrationAllocations(t *testing.T) {
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry, Secondary: []er.Strategy{er.StrategyCompensate}})
	ctx := context.Background()
	for _, n := range []int{0, 1, 4} {
		fn := registerN(n)
		testutil.WantAllocs(t, 1, "an execution registering up to four undos", func() { w.Execute(ctx, fn) })
	}
	// Twelve: the list grows twice (to 8, to 16), well under one
	// allocation for each registration past the fourth.
	fn := registerN(12)
	testutil.WantAllocs(t, 3, "an execution registering twelve undos", func() { w.Execute(ctx, fn) })
}
