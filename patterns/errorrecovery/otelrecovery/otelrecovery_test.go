package otelrecovery_test

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/otelrecovery"
)

var errDown = errors.New("dependency down")

// instrumented is a workflow of retry (two attempts, no delay), a
// count-only breaker opening after 3 failures, a bulkhead and a fallback
// value, instrumented with an in-memory span recorder and metric reader.
func instrumented(t *testing.T) (*otelrecovery.Workflow[string], *tracetest.SpanRecorder, *sdkmetric.ManualReader) {
	t.Helper()
	clk := enginetest.NewClock(time.Time{})
	fb := er.FallbackValue("fallback")
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Name:     "quotes",
		Retry:    &er.RetryConfig[string]{MaxAttempts: 2, InitialDelay: er.None},
		Breaker:  &breaker.Config{FailureThreshold: 3, WindowDuration: breaker.CountOnly},
		Bulkhead: &bulkhead.Config{MaxConcurrent: 2},
		Fallback: &fb,
	}, engine.WithClock(clk))
	require.NoError(t, err)
	t.Cleanup(w.Breaker().Close)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	iw, err := otelrecovery.Instrument(w, otelrecovery.WithTracerProvider(tp), otelrecovery.WithMeterProvider(mp))
	require.NoError(t, err)
	return iw, spans, reader
}

func TestEachExecutionIsASpanWithItsSteps(t *testing.T) {
	iw, spans, _ := instrumented(t)
	ctx := context.Background()
	calls := 0
	v, err := iw.Execute(ctx, func(context.Context) (string, error) {
		if calls++; calls == 1 {
			return "", errDown
		}
		return "quote", nil
	})
	require.Equal(t, "quote", v, "Execute's value")
	require.NoError(t, err, "Execute")
	require.NoError(t, iw.Protect(ctx, func(context.Context) error { return er.Permanent(errDown) }),
		"Protect: want the fallback's answer")
	ended := spans.Ended()
	require.Len(t, ended, 2, "spans")
	for i, want := range []map[string]string{
		{"statecraft.workflow": "quotes", "statecraft.outcome": "success", "statecraft.source": "function", "statecraft.attempts": "2"},
		{"statecraft.workflow": "quotes", "statecraft.outcome": "success", "statecraft.source": "fallback value", "statecraft.attempts": "1"},
	} {
		s := ended[i]
		assert.Equal(t, "quotes", s.Name(), "span %d: want the workflow's name", i)
		all := map[string]string{}
		for _, kv := range s.Attributes() {
			all[string(kv.Key)] = kv.Value.String()
		}
		if diff := cmp.Diff(want, pick(all, want)); diff != "" {
			t.Errorf("span %d attributes (-want +got):\n%s\nall: %v", i, diff, all)
		}
		assert.NotEqual(t, codes.Error, s.Status().Code, "span %d has an error status, but the caller got an answer", i)
	}
	var path []string
	for _, e := range ended[0].Events() {
		if e.Name != "statecraft.step" {
			continue
		}
		attrs := attribute.NewSet(e.Attributes...)
		from, _ := attrs.Value("statecraft.from")
		to, _ := attrs.Value("statecraft.to")
		path = append(path, from.AsString()+">"+to.AsString())
	}
	want := strings.Fields("Start>Admit Admit>CheckCircuit CheckCircuit>Attempt Attempt>Backoff Backoff>Retry Retry>CheckCircuit CheckCircuit>Attempt Attempt>Done")
	if diff := cmp.Diff(want, path); diff != "" {
		t.Errorf("steps of the first span (-want +got):\n%s", diff)
	}
}

func TestAFailedExecutionSpanHasTheError(t *testing.T) {
	iw, spans, _ := instrumented(t)
	w := iw.Unwrap()
	w.Breaker().ForceOpen()
	// The fallback answers a rejection; a context already ended does not
	// reach it: the caller gets the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := iw.Execute(ctx, func(context.Context) (string, error) { return "x", nil })
	require.ErrorIs(t, err, context.Canceled, "Execute")
	s := spans.Ended()[0]
	assert.Equal(t, codes.Error, s.Status().Code, "status %v: want an error status", s.Status())
	if assert.NotEmpty(t, s.Events(), "events: want the error recorded") {
		assert.Equal(t, "exception", s.Events()[len(s.Events())-1].Name, "last event: want the error recorded")
	}
}

func TestMetricsNamesUnitsAndValues(t *testing.T) {
	iw, _, reader := instrumented(t)
	ctx := context.Background()
	_, _ = iw.Execute(ctx, func(context.Context) (string, error) { return "ok", nil })
	// Two failed calls, then one more, which opens the breaker (3
	// failures): its retry is rejected; the next execution is rejected at
	// once. The fallback answers all three.
	for range 3 {
		_, _ = iw.Execute(ctx, func(context.Context) (string, error) { return "", errDown })
	}
	iw.Unwrap().Clock().(*enginetest.Clock).Advance(7 * time.Second) // the breaker stays open (60s)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	got := map[string]string{}
	units := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, otelrecovery.ScopeName, sm.Scope.Name, "scope")
		for _, m := range sm.Metrics {
			units[m.Name] = m.Unit
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrsOf(p.Attributes)] = itoa(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrsOf(p.Attributes)] = itoa(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrsOf(p.Attributes)] = strconv.FormatFloat(p.Value, 'f', -1, 64)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrsOf(p.Attributes)] = "count " + itoa(int64(p.Count))
				}
			}
		}
	}
	want := map[string]string{
		"statecraft.workflow.executions{outcome=failure}":                     "0",
		"statecraft.workflow.calls{}":                                         "4",
		"statecraft.workflow.retries{}":                                       "2",
		"statecraft.workflow.fallbacks{}":                                     "3",
		"statecraft.workflow.timeouts{}":                                      "0",
		"statecraft.breaker.state{state=Open}":                                "1",
		"statecraft.breaker.state{state=Closed}":                              "0",
		"statecraft.breaker.time_in_state{state=Closed}":                      "0",
		"statecraft.breaker.time_in_state{state=Open}":                        "7",
		"statecraft.breaker.opens{}":                                          "1",
		"statecraft.breaker.rejections{}":                                     "2",
		"statecraft.bulkhead.active{}":                                        "0",
		"statecraft.bulkhead.rejections{reason=full}":                         "0",
		"statecraft.workflow.duration{outcome=success,source=function}":       "count 1",
		"statecraft.workflow.duration{outcome=success,source=fallback value}": "count 3",
	}
	if diff := cmp.Diff(want, pick(got, want)); diff != "" {
		t.Errorf("metric values (-want +got):\n%s", diff)
	}
	wantUnits := map[string]string{
		"statecraft.workflow.executions": "{execution}", "statecraft.workflow.calls": "{call}",
		"statecraft.workflow.duration": "s", "statecraft.breaker.state": "{state}", "statecraft.bulkhead.queued": "{call}",
	}
	if diff := cmp.Diff(wantUnits, pick(units, wantUnits)); diff != "" {
		t.Errorf("metric units (-want +got):\n%s", diff)
	}
	require.NoError(t, iw.Close())
}

// attrsOf prints attributes other than the workflow's name as {k=v,...},
// keys without their "statecraft." prefix, sorted.
func attrsOf(s attribute.Set) string {
	var kv []string
	for _, a := range s.ToSlice() {
		if a.Key == "statecraft.workflow" {
			if a.Value.AsString() != "quotes" {
				return "{workflow=" + a.Value.AsString() + "}"
			}
			continue
		}
		kv = append(kv, strings.TrimPrefix(string(a.Key), "statecraft.")+"="+a.Value.String())
	}
	sort.Strings(kv)
	return "{" + strings.Join(kv, ",") + "}"
}

// pick returns the entries of got under the keys of want, a key missing
// from got as "", so that cmp.Diff(want, pick(got, want)) checks want's
// entries and ignores the others.
func pick(got, want map[string]string) map[string]string {
	sub := make(map[string]string, len(want))
	for k := range want {
		sub[k] = got[k]
	}
	return sub
}

func itoa(v int64) string { return attribute.Int64Value(v).String() }
