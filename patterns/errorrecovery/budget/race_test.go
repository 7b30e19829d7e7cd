package budget_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

const callers = 200

// However many goroutines ask at once, the budget allows exactly the
// retries it holds, and deposits made meanwhile are all counted.
func TestManyGoroutinesSpendExactlyTheBudget(t *testing.T) {
	b, clk := newBudget(t, budget.Config{Ratio: 0.5, MinPerSecond: 5, Window: 10 * time.Second}) // 50 to start with
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				b.Deposit() // 100 deposits earn 50 more
			}
			if b.Withdraw() == nil {
				allowed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	m := b.Metrics()
	assert.Equal(t, int64(callers/2), m.Executions)
	assert.Equal(t, allowed.Load(), m.Retries)
	assert.LessOrEqual(t, m.Retries, int64(100), "never more than the budget")
	// Whatever the interleaving, what is left is spent by asking again.
	extra := withdraws(b, 200)
	assert.Equal(t, int64(100), m.Retries+int64(extra))
	assert.Equal(t, budget.StateExhausted, b.State())
	clk.Advance(10 * time.Second)
	assert.Equal(t, budget.StateAvailable, b.State())
}
