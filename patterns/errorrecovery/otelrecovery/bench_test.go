package otelrecovery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/otelrecovery"
)

// benchWorkflow is retry, a count-only breaker and a fallback: the
// workflow of bench/'s FallbackRetryBreaker row.
func benchWorkflow(b *testing.B) *er.Workflow[int] {
	fb := er.FallbackValue(0)
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{
		Retry:    &er.RetryConfig[int]{InitialDelay: er.None},
		Breaker:  &breaker.Config{WindowDuration: breaker.CountOnly},
		Fallback: &fb,
	})
	require.NoError(b, err)
	b.Cleanup(w.Breaker().Close)
	return w
}

func ok(context.Context) (int, error) { return 1, nil }

// BenchmarkExecute compares an execution of the plain workflow with one
// instrumented against no-op providers: the cost of the instrumentation
// itself, which issue 21 bounds at 2x.
func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	b.Run("plain", func(b *testing.B) {
		w := benchWorkflow(b)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = w.Execute(ctx, ok)
		}
	})
	b.Run("otel-noop", func(b *testing.B) {
		iw, err := otelrecovery.Instrument(benchWorkflow(b),
			otelrecovery.WithTracerProvider(tracenoop.NewTracerProvider()),
			otelrecovery.WithMeterProvider(metricnoop.NewMeterProvider()))
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = iw.Execute(ctx, ok)
		}
	})
}
