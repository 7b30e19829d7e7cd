package adaptive_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
)

func ExampleLimiter() {
	l, err := adaptive.New(adaptive.Config{InitialLimit: 1}) // grows from one call at a time
	if err != nil {
		panic(err)
	}
	err = l.Protect(context.Background(), func(ctx context.Context) error {
		// The only slot is taken: another call is rejected at once.
		err := l.Protect(ctx, func(context.Context) error { return nil })
		var le *adaptive.LimitError
		fmt.Println(errors.As(err, &le), le.Limit, le.InFlight)
		return nil
	})
	fmt.Println(err, l.State())
	// Output:
	// true 1 1
	// <nil> Probing
}
