package saga_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/saga"
)

// benchSaga is a three-step saga with no journal whose last step fails
// when fail is set, so that the first two are compensated.
func benchSaga(b *testing.B, fail bool) *saga.Saga[int] {
	do := func(context.Context, saga.Call[int]) (int, error) { return 1, nil }
	undo := func(context.Context, saga.Call[int], int) error { return nil }
	last := do
	if fail {
		last = func(context.Context, saga.Call[int]) (int, error) { return 0, errFlaky }
	}
	s, err := saga.New("bench", saga.DefaultConfig(), []saga.Step[int]{
		saga.NewStep("one", do, undo), saga.NewStep("two", do, undo), saga.NewStep("three", last, undo),
	})
	require.NoError(b, err)
	return s
}

func BenchmarkSagaRunDone(b *testing.B) {
	s := benchSaga(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(ctx, "run", 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSagaRunCompensated(b *testing.B) {
	s := benchSaga(b, true)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(ctx, "run", 0); err == nil {
			b.Fatal("the last step did not fail")
		}
	}
}
