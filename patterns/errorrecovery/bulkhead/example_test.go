package bulkhead_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

func ExampleBulkhead() {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue}) // one slot, no queue
	if err != nil {
		panic(err)
	}
	defer b.Close(context.Background())

	b.Protect(context.Background(), func(ctx context.Context) error {
		// The only slot is taken: another call is rejected at once.
		err := b.Protect(ctx, func(context.Context) error { return nil })
		fmt.Println(errors.Is(err, bulkhead.ErrFull), b.State())
		return nil
	})
	fmt.Printf("%v %+v\n", b.State(), b.Metrics())
	// Output:
	// true Saturated
	// Available {Active:0 Queued:0 Completed:1 Rejected:1 TimedOut:0 Cancelled:0}
}

func ExampleExecute() {
	b, err := bulkhead.New(bulkhead.Config{}) // the defaults: 10 slots, a queue of 100, a 30s queue timeout
	if err != nil {
		panic(err)
	}
	defer b.Close(context.Background())

	n, err := bulkhead.Execute(context.Background(), b, func(context.Context) (int, error) {
		return 42, nil
	})
	fmt.Printf("%v %v %+v\n", n, err, b.Config())
	// Output:
	// 42 <nil> {MaxConcurrent:10 MaxQueueSize:100 QueueTimeout:30s UseWorkerPool:false}
}
