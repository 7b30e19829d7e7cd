package errorrecovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

func errorsIsDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

func succeed(context.Context) (int, error) { return 1, nil }

// BenchmarkDirectCall is the baseline the retry benchmarks are read
// against: calling the function itself.
func BenchmarkDirectCall(b *testing.B) {
	ctx := context.Background()
	fn := succeed
	b.ReportAllocs()
	for b.Loop() {
		fn(ctx)
	}
}

func BenchmarkRetryFirstAttemptSuccess(b *testing.B) {
	x, err := er.NewRetry(er.DefaultRetryConfig[int]())
	require.NoError(b, err)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		x.Execute(ctx, succeed)
	}
}

func BenchmarkRetryFirstAttemptSuccessParallel(b *testing.B) {
	x, _ := er.NewRetry(er.DefaultRetryConfig[int]())
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			x.Execute(ctx, succeed)
		}
	})
}

// BenchmarkRetryWithDeadlineFirstAttemptSuccess adds an overall and an
// attempt timeout: two clock reads, no timer (nothing waits on the
// context).
func BenchmarkRetryWithDeadlineFirstAttemptSuccess(b *testing.B) {
	x, _ := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Retry: ptr(er.DefaultRetryConfig[int]()), Deadline: &er.DeadlineConfig{Timeout: time.Minute, AttemptTimeout: time.Second}, MetricsDisabled: true})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		x.Execute(ctx, succeed)
	}
}

func BenchmarkRetryThreeAttemptsZeroDelay(b *testing.B) {
	cfg := er.DefaultRetryConfig[int]()
	cfg.InitialDelay = er.None
	x, _ := er.NewRetry(cfg)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		thirdTimeCalls = 0
		x.Execute(ctx, thirdTime)
	}
}
