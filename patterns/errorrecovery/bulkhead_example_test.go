package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func ExampleBulkheadExecutor() {
	b, err := er.NewBulkheadExecutor(er.BulkheadConfig{MaxConcurrent: 1}) // one slot, no queue
	if err != nil {
		panic(err)
	}
	defer b.Close(context.Background())

	b.Execute(context.Background(), func(ctx context.Context) error {
		// The only slot is taken: another call is rejected at once.
		err := b.Execute(ctx, func(context.Context) error { return nil })
		fmt.Println(errors.Is(err, er.ErrBulkheadFull), b.State())
		return nil
	})
	fmt.Printf("%v %+v\n", b.State(), b.Metrics())
	// Output:
	// true Saturated
	// Available {Active:0 Queued:0 Completed:1 Rejected:1 TimedOut:0 Cancelled:0}
}
