package perkey_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/perkey"
)

func ExampleRegistry() {
	hosts, err := perkey.New(perkey.Config{MaxKeys: 2}, func(host string) (*breaker.Breaker, error) {
		return breaker.New(breaker.Config{FailureThreshold: 1, WindowDuration: breaker.CountOnly})
	})
	if err != nil {
		panic(err)
	}
	defer hosts.Close()

	call := func(host string, fn func(context.Context) error) error {
		lease, err := hosts.Acquire(host)
		if err != nil {
			return err
		}
		defer lease.Release()
		return lease.Machine().Protect(context.Background(), fn)
	}
	fail := func(context.Context) error { return errors.New("refused") }
	ok := func(context.Context) error { return nil }

	fmt.Println(call("a.example", fail))                           // opens a's breaker
	fmt.Println(errors.Is(call("a.example", ok), breaker.ErrOpen)) // a is open
	fmt.Println(call("b.example", ok))                             // b has its own
	fmt.Println(call("c.example", ok))                             // a, the least recently used, goes
	fmt.Println(call("a.example", ok))                             // a new breaker for a
	fmt.Printf("%+v\n", hosts.Metrics())
	// Output:
	// refused
	// true
	// <nil>
	// <nil>
	// <nil>
	// {Keys:2 Created:4 CreateFailed:0 EvictedIdle:0 EvictedBound:2 Closed:2}
}
