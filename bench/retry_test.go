package bench

import (
	"context"
	"testing"

	retry4 "github.com/avast/retry-go/v4"
	retry5 "github.com/avast/retry-go/v5"
	"github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/stretchr/testify/require"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The retries compared: at most 3 attempts, no delay between them, every
// error retried.
//
//   - statecraft: the workflow of errorrecovery.NewRetry (the row keeps
//     its old name, RetryExecutor, so that history compares), with InitialDelay
//     zero. A zero backoff is taken without touching a timer.
//   - failsafe-go: retrypolicy.NewBuilder().WithMaxAttempts(3), whose
//     default delay is zero; it still makes a time.NewTimer(0) and waits
//     on it before each retry.
//   - cenkalti/backoff v5: Retry with WithBackOff(&ZeroBackOff{}) and
//     WithMaxTries(3); it waits on a timer started with 0 before each
//     retry.
//   - avast/retry-go v4: DoWithData with Attempts(3), Delay(0),
//     MaxJitter(0) and DelayType(FixedDelay), which builds its config
//     from the options on every call and waits on time.After(0) before
//     each retry. v4 has no reusable retrier.
//   - avast/retry-go v5: a RetrierWithData built once with the same
//     options and reused (its Do), the "reused Retrier" of DESIGN.md.
//
// The options of backoff and retry-go are built once, outside the loop.

func scRetry(tb testing.TB) *er.Workflow[int] {
	tb.Helper()
	cfg := er.DefaultRetryConfig[int]()
	cfg.InitialDelay = er.None
	x, err := er.NewRetry(cfg)
	require.NoError(tb, err)
	return x
}

func fsRetryPolicy() retrypolicy.RetryPolicy[int] {
	return retrypolicy.NewBuilder[int]().WithMaxAttempts(3).Build()
}

func fsRetry() failsafe.Executor[int] { return failsafe.With[int](fsRetryPolicy()) }

func backoffOpts() []backoff.RetryOption {
	return []backoff.RetryOption{backoff.WithBackOff(&backoff.ZeroBackOff{}), backoff.WithMaxTries(3)}
}

func retry4Opts(ctx context.Context) []retry4.Option {
	return []retry4.Option{retry4.Attempts(3), retry4.Delay(0), retry4.MaxJitter(0), retry4.DelayType(retry4.FixedDelay), retry4.Context(ctx)}
}

func retry5Retrier(ctx context.Context) *retry5.RetrierWithData[int] {
	return retry5.NewWithData[int](retry5.Attempts(3), retry5.Delay(0), retry5.MaxJitter(0), retry5.DelayType(retry5.FixedDelay), retry5.Context(ctx))
}

// flaky is a function that fails its first failures calls of each
// execution and then succeeds; reset starts a new execution. Its methods
// are bound once, outside the loop, so that passing them allocates
// nothing.
type flaky struct {
	calls, failures int
}

func (f *flaky) reset() { f.calls = 0 }

func (f *flaky) call() (int, error) {
	if f.calls++; f.calls <= f.failures {
		return 0, errBoom
	}
	return 1, nil
}

func (f *flaky) callCtx(context.Context) (int, error) { return f.call() }

// BenchmarkRetryFirstSuccess is a retry whose first attempt succeeds.
func BenchmarkRetryFirstSuccess(b *testing.B) {
	benchRetry(b, 0)
}

// BenchmarkRetryFailTwice is a retry whose first two attempts fail and
// whose third succeeds, with zero delays.
func BenchmarkRetryFailTwice(b *testing.B) {
	benchRetry(b, 2)
}

func benchRetry(b *testing.B, failures int) {
	ctx := context.Background()
	b.Run("statecraft-RetryExecutor", func(b *testing.B) {
		x := scRetry(b)
		f := &flaky{failures: failures}
		fn := f.callCtx
		for b.Loop() {
			f.reset()
			if v, err := x.Execute(ctx, fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		wantCalls(b, f)
	})
	b.Run("failsafe-Executor", func(b *testing.B) {
		x := fsRetry()
		f := &flaky{failures: failures}
		fn := f.call
		for b.Loop() {
			f.reset()
			if v, err := x.Get(fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		wantCalls(b, f)
	})
	b.Run("backoff-Retry", func(b *testing.B) {
		opts := backoffOpts()
		f := &flaky{failures: failures}
		op := backoff.Operation[int](f.call)
		for b.Loop() {
			f.reset()
			if v, err := backoff.Retry(ctx, op, opts...); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		wantCalls(b, f)
	})
	b.Run("retrygo4-DoWithData", func(b *testing.B) {
		opts := retry4Opts(ctx)
		f := &flaky{failures: failures}
		fn := retry4.RetryableFuncWithData[int](f.call)
		for b.Loop() {
			f.reset()
			if v, err := retry4.DoWithData(fn, opts...); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		wantCalls(b, f)
	})
	b.Run("retrygo5-RetrierDo", func(b *testing.B) {
		r := retry5Retrier(ctx)
		f := &flaky{failures: failures}
		fn := retry5.RetryableFuncWithData[int](f.call)
		for b.Loop() {
			f.reset()
			if v, err := r.Do(fn); err != nil || v != 1 {
				b.Fatal(v, err)
			}
		}
		wantCalls(b, f)
	})
}

// wantCalls checks that the last execution called the function once per
// failure and once more for the success.
func wantCalls(b *testing.B, f *flaky) {
	b.Helper()
	require.Equal(b, f.failures+1, f.calls, "calls the last execution made")
}
