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

// The deadline runs on the executor's clock, so on the manual clock a slow
// call times out when the example advances the clock, not after real time.
func ExampleNewDeadline() {
	clock := enginetest.NewClock(time.Time{})
	deadline, err := er.NewDeadline[string](er.DeadlineConfig{Timeout: 2 * time.Second}, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	slowReport := func(ctx context.Context) (string, error) {
		left, _ := er.TimeLeft(ctx)
		fmt.Println("time left:", left)
		if err := clock.Sleep(ctx, 5*time.Second); err != nil { // the report takes 5s
			return "", err
		}
		return "report", nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		_, err = deadline.Execute(ctx, slowReport)
	}()
	for clock.BlockUntilWaiters(ctx, 1) == nil {
		clock.AdvanceToNext()
	}

	var timeout *er.TimeoutError
	fmt.Println(errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded))
	fmt.Println(err)
	// Output:
	// time left: 2s
	// true true
	// errorrecovery: deadline of 2s passed after 1 attempt, last: context deadline exceeded
}
