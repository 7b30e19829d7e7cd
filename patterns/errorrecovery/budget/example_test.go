package budget_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
)

func ExampleBudget() {
	clk := enginetest.NewClock(time.Time{})
	b, err := budget.New(budget.Config{Ratio: 0.1, MinPerSecond: budget.NoMinimum}, engine.WithClock(clk))
	if err != nil {
		panic(err)
	}
	defer b.Close()

	for range 20 {
		b.Deposit() // each execution of the dependency
	}
	for i := range 3 { // each retry asks first
		err := b.Withdraw()
		fmt.Println("retry", i+1, errors.Is(err, budget.ErrExhausted), b.State())
	}
	fmt.Printf("%+v\n", b.Metrics())
	// Output:
	// retry 1 false Available
	// retry 2 false Available
	// retry 3 true Exhausted
	// {State:Exhausted Executions:20 Retries:2 Allowed:0 Withdrawn:2 Refused:1}
}
