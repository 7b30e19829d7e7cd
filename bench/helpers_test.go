package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// errBoom is the error of every failing call.
var errBoom = errors.New("boom")

// The functions the patterns protect, in the shape each library takes.
// They capture nothing, so passing them allocates nothing.
func okCtx(context.Context) error           { return nil }
func okIntCtx(context.Context) (int, error) { return 1, nil }
func okInt() (int, error)                   { return 1, nil }
func okErr() error                          { return nil }

// inGoroutines runs b.N operations split among g goroutines started
// together, each running work(n) for its share n; work holds the loop so
// that the operation is not called through a function value. The time
// measured includes starting and joining the goroutines, which b.N
// amortises.
func inGoroutines(b *testing.B, g int, work func(n int)) {
	b.Helper()
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range g {
		n := b.N / g
		if i < b.N%g {
			n++
		}
		wg.Go(func() {
			start.Wait()
			work(n)
		})
	}
	b.ResetTimer()
	start.Done()
	wg.Wait()
}

// goroutineCounts are the numbers of goroutines sharing one machine in
// the cost-growth benchmarks.
var goroutineCounts = []int{1, 2, 8, 16, 64, 128}
