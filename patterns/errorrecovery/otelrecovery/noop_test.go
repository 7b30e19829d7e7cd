package otelrecovery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/otelrecovery"
)

// With OTel's no-op providers an instrumented execution starts no span:
// the function sees the caller's span context, nothing is added to the
// caller's span (even a recording one of another provider), and nothing
// is allocated.
func TestNoopProvidersStartNoSpan(t *testing.T) {
	w, err := er.NewRetry(er.RetryConfig[int]{MaxAttempts: 2, InitialDelay: er.None})
	require.NoError(t, err)
	iw, err := otelrecovery.Instrument(w,
		otelrecovery.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelrecovery.WithMeterProvider(metricnoop.NewMeterProvider()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = iw.Close() })

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, parent := tp.Tracer("caller").Start(context.Background(), "caller")
	var seen trace.SpanContext
	_, err = iw.Execute(ctx, func(ctx context.Context) (int, error) {
		seen = trace.SpanContextFromContext(ctx)
		return 1, nil
	})
	require.NoError(t, err)
	parent.End()
	assert.Equal(t, parent.SpanContext(), seen, "the function sees the caller's span context")
	ended := spans.Ended()
	require.Len(t, ended, 1, "only the caller's span")
	assert.Empty(t, ended[0].Events(), "no step events on the caller's span")
	assert.Empty(t, ended[0].Attributes(), "no attributes on the caller's span")
}

func TestNoopProvidersAllocations(t *testing.T) {
	w, err := er.NewRetry(er.RetryConfig[int]{MaxAttempts: 2, InitialDelay: er.None})
	require.NoError(t, err)
	iw, err := otelrecovery.Instrument(w,
		otelrecovery.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelrecovery.WithMeterProvider(metricnoop.NewMeterProvider()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = iw.Close() })
	ctx := context.Background()
	testutil.WantAllocs(t, 0, "an instrumented execution with no-op providers", func() { _, _ = iw.Execute(ctx, ok) })
}
