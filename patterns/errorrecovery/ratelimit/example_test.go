package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

func ExampleLimiter() {
	clk := enginetest.NewClock(time.Time{}) // a manual clock: the example does not sleep
	l, err := ratelimit.New(ratelimit.Config{Permits: 2, Period: time.Second}, engine.WithClock(clk))
	if err != nil {
		panic(err)
	}
	defer l.Close()

	call := func(context.Context) error { return nil }
	for range 2 {
		err := l.Protect(context.Background(), call)
		if le, ok := errors.AsType[*ratelimit.Error](err); ok {
			fmt.Println("rejected; retry after", le.RetryAfter(), "-", l.State())
			continue
		}
		fmt.Println("called", err, "-", l.State())
	}
	clk.Advance(500 * time.Millisecond)
	fmt.Println(l.State(), l.Allow())
	fmt.Printf("%+v\n", l.Metrics())
	// Output:
	// called <nil> - Available
	// rejected; retry after 500ms - Limited
	// Available true
	// {State:Available Permitted:2 Waited:0 Rejected:1 Cancelled:0}
}

func ExampleLimiter_Reserve() {
	clk := enginetest.NewClock(time.Time{})
	l, err := ratelimit.New(ratelimit.Config{
		Permits: 10, Period: time.Second, // one every 100ms
		MaxWait: 250 * time.Millisecond,
	}, engine.WithClock(clk))
	if err != nil {
		panic(err)
	}
	defer l.Close()
	for range 4 {
		r, err := l.Reserve()
		fmt.Println(r.Delay(), errors.Is(err, ratelimit.ErrLimited))
	}
	// Output:
	// 0s false
	// 100ms false
	// 200ms false
	// 0s true
}
