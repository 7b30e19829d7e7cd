package otelrecovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/statecraft/statecraft/patterns/errorrecovery/otelrecovery"

// An Option configures Instrument.
type Option func(*options)

type options struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets where spans go. Nil (the default) means the
// global provider, otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// WithMeterProvider sets where metrics go. Nil (the default) means the
// global provider, otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.mp = mp }
}

// Workflow is an errorrecovery.Workflow whose executions are spans and
// whose counters, and those of its breaker and bulkhead, are OpenTelemetry
// metrics. It is safe for concurrent use, like the workflow it wraps.
type Workflow[T any] struct {
	w        *errorrecovery.Workflow[T]
	name     string
	tracer   trace.Tracer
	noSpans  bool // the tracer provider is OTel's no-op one: no span is started
	duration metric.Float64Histogram
	reg      metric.Registration
	start    []trace.SpanStartOption
	// outcomes holds, for each outcome (0 success, 1 failure) and source,
	// the attributes of an execution and its duration's record option,
	// made once so that an execution allocates none.
	outcomes [2][numSources]outcomeAttrs
}

// outcomeAttrs are the attributes of one outcome and source.
type outcomeAttrs struct {
	kv     []attribute.KeyValue // outcome, source (for the span)
	record []metric.RecordOption
}

// numSources bounds errorrecovery.Source's values; a larger one is
// reported with the attributes of SourceNone.
const numSources = 16

// Instrument returns w instrumented: Execute, ExecuteResult and Protect
// run w's and record a span and a duration each; the counters of w (and of
// its breaker and bulkhead, if any) are reported at each collection. Call
// Close to stop reporting them.
func Instrument[T any](w *errorrecovery.Workflow[T], opts ...Option) (*Workflow[T], error) {
	o := options{tp: otel.GetTracerProvider(), mp: otel.GetMeterProvider()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.tp == nil {
		o.tp = otel.GetTracerProvider()
	}
	if o.mp == nil {
		o.mp = otel.GetMeterProvider()
	}
	iw := &Workflow[T]{w: w, name: w.Definition().Name(), tracer: o.tp.Tracer(ScopeName)}
	// A no-op provider's span records nothing, but starting one costs a
	// context (an allocation) per execution; the function then sees the
	// caller's context, whose span context is the one the no-op span
	// would have carried.
	_, iw.noSpans = o.tp.(tracenoop.TracerProvider)
	wf := attribute.String("statecraft.workflow", iw.name)
	iw.start = []trace.SpanStartOption{trace.WithAttributes(wf)}
	for oi, outcome := range []string{"success", "failure"} {
		for si := range numSources {
			kv := []attribute.KeyValue{
				attribute.String("statecraft.outcome", outcome),
				attribute.String("statecraft.source", errorrecovery.Source(si).String()),
			}
			set := attribute.NewSet(append([]attribute.KeyValue{wf}, kv...)...)
			iw.outcomes[oi][si] = outcomeAttrs{kv: kv, record: []metric.RecordOption{metric.WithAttributeSet(set)}}
		}
	}
	m := o.mp.Meter(ScopeName)
	var err error
	if iw.duration, err = m.Float64Histogram("statecraft.workflow.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of an execution of the workflow, on its clock, by outcome and source.")); err != nil {
		return nil, fmt.Errorf("otelrecovery: %w", err)
	}
	if iw.reg, err = register(m, iw.name, w); err != nil {
		return nil, fmt.Errorf("otelrecovery: %w", err)
	}
	return iw, nil
}

// Unwrap returns the workflow Instrument was given.
func (iw *Workflow[T]) Unwrap() *errorrecovery.Workflow[T] { return iw.w }

// Close stops reporting the workflow's counters. Spans and durations of
// executions go on being recorded.
func (iw *Workflow[T]) Close() error { return iw.reg.Unregister() }

// Execute is errorrecovery.Workflow.Execute, recorded.
func (iw *Workflow[T]) Execute(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	r, err := iw.ExecuteResult(ctx, fn)
	return r.Value, err
}

// Protect is errorrecovery.Workflow.Protect, recorded.
func (iw *Workflow[T]) Protect(ctx context.Context, fn func(context.Context) error) error {
	_, err := iw.ExecuteResult(ctx, func(ctx context.Context) (T, error) {
		var zero T
		return zero, fn(ctx)
	})
	return err
}

// ExecuteResult is errorrecovery.Workflow.ExecuteResult, recorded: a span
// named after the workflow, with its outcome, attempts and source, and,
// when the span is recording, one event per step of the per-call machine;
// and the execution's duration in statecraft.workflow.duration.
func (iw *Workflow[T]) ExecuteResult(ctx context.Context, fn func(context.Context) (T, error)) (errorrecovery.Result[T], error) {
	var span trace.Span // nil with the no-op provider
	recording := false
	if !iw.noSpans {
		ctx, span = iw.tracer.Start(ctx, iw.name, iw.start...)
		recording = span.IsRecording()
	}
	// The duration reads the clock twice (about 40 ns each on the real
	// clock): only when the histogram will record it.
	measure := iw.duration.Enabled(ctx)
	clock := iw.w.Clock()
	var start time.Time
	if measure {
		start = clock.Now()
	}
	var (
		r    errorrecovery.Result[T]
		recs []engine.Record
		err  error
	)
	if recording {
		r, recs, err = iw.w.TraceResult(ctx, fn)
	} else {
		r, err = iw.w.ExecuteResult(ctx, fn)
	}
	oi, si := 0, int(r.Source)
	if err != nil {
		oi = 1
	}
	if si >= numSources {
		si = 0
	}
	a := &iw.outcomes[oi][si]
	if measure {
		iw.duration.Record(ctx, clock.Now().Sub(start).Seconds(), a.record...)
	}
	if recording {
		span.SetAttributes(a.kv...)
		span.SetAttributes(attribute.Int("statecraft.attempts", r.Attempts))
		for _, rec := range recs {
			span.AddEvent("statecraft.step", trace.WithTimestamp(rec.Time), trace.WithAttributes(
				attribute.String("statecraft.machine", rec.Machine),
				attribute.String("statecraft.from", rec.From),
				attribute.String("statecraft.event", rec.Event),
				attribute.String("statecraft.to", rec.To),
			))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	if span != nil {
		span.End()
	}
	return r, err
}

// register makes the observable instruments of a workflow's counters and
// of its shared machines, and the callback that reads them.
func register[T any](m metric.Meter, name string, w *errorrecovery.Workflow[T]) (metric.Registration, error) {
	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	executions := counter("statecraft.workflow.executions", "{execution}", "Executions that finished, by what the caller saw.")
	failures := counter("statecraft.workflow.failures", "{execution}", "Executions the dependency failed, whatever answered the caller.")
	attemptTimeouts := counter("statecraft.workflow.attempt_timeouts", "{call}", "Calls cut by the attempt timeout.")
	calls := counter("statecraft.workflow.calls", "{call}", "Calls of the protected function, retries included.")
	retries := counter("statecraft.workflow.retries", "{retry}", "Backoffs taken.")
	fallbacks := counter("statecraft.workflow.fallbacks", "{execution}", "Executions a fallback source answered.")
	cacheServed := counter("statecraft.workflow.cache.served", "{execution}", "Executions a cache answered, by freshness.")
	rejections := counter("statecraft.workflow.rejections", "{execution}", "Executions the breaker or the bulkhead refused.")
	timeouts := counter("statecraft.workflow.timeouts", "{execution}", "Executions that reached the overall deadline.")
	instruments := []metric.Observable{executions, failures, attemptTimeouts, calls, retries, fallbacks, cacheServed, rejections, timeouts}

	br, bh := w.Breaker(), w.Bulkhead()
	var brState, brOpens, brRejections, bhActive, bhQueued, bhRejections metric.Int64Observable
	var brTimeIn metric.Float64ObservableCounter
	if br != nil {
		brState = gauge("statecraft.breaker.state", "{state}", "1 for the breaker's current state, 0 for the others.")
		brOpens = counter("statecraft.breaker.opens", "{open}", "Times the breaker opened.")
		brRejections = counter("statecraft.breaker.rejections", "{call}", "Calls the breaker rejected, open or half-open.")
		var err error
		brTimeIn, err = m.Float64ObservableCounter("statecraft.breaker.time_in_state", metric.WithUnit("s"),
			metric.WithDescription("Time the breaker spent in each state, on its clock."))
		errs = append(errs, err)
		instruments = append(instruments, brState, brOpens, brRejections, brTimeIn)
	}
	if bh != nil {
		bhActive = gauge("statecraft.bulkhead.active", "{call}", "Calls holding a slot of the bulkhead.")
		bhQueued = gauge("statecraft.bulkhead.queued", "{call}", "Calls waiting for a slot.")
		bhRejections = counter("statecraft.bulkhead.rejections", "{call}", "Calls the bulkhead refused, by reason.")
		instruments = append(instruments, bhActive, bhQueued, bhRejections)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	wf := attribute.String("statecraft.workflow", name)
	with := func(kv ...attribute.KeyValue) metric.ObserveOption {
		return metric.WithAttributes(append([]attribute.KeyValue{wf}, kv...)...)
	}
	outcome := func(v string) metric.ObserveOption { return with(attribute.String("statecraft.outcome", v)) }
	plain := with()
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		wm := w.Metrics()
		o.ObserveInt64(executions, wm.Successes, outcome("success"))
		o.ObserveInt64(executions, wm.Fallbacks, outcome("fallback"))
		o.ObserveInt64(executions, wm.StaleServed, outcome("stale"))
		o.ObserveInt64(executions, wm.Failed, outcome("failure"))
		o.ObserveInt64(failures, wm.Failures, plain)
		o.ObserveInt64(attemptTimeouts, wm.AttemptTimeouts, plain)
		o.ObserveInt64(calls, wm.Calls, plain)
		o.ObserveInt64(retries, wm.Retries, plain)
		o.ObserveInt64(fallbacks, wm.Fallbacks, plain)
		o.ObserveInt64(cacheServed, wm.CacheHits, with(attribute.String("statecraft.freshness", "fresh")))
		o.ObserveInt64(cacheServed, wm.StaleServed, with(attribute.String("statecraft.freshness", "stale")))
		o.ObserveInt64(rejections, wm.Rejections, plain)
		o.ObserveInt64(timeouts, wm.Timeouts, plain)
		if br != nil {
			bm := br.Metrics()
			for _, s := range breakerStates {
				v := int64(0)
				if bm.State == s {
					v = 1
				}
				o.ObserveInt64(brState, v, with(attribute.String("statecraft.state", s.String())))
				o.ObserveFloat64(brTimeIn, bm.TimeIn[s].Seconds(), with(attribute.String("statecraft.state", s.String())))
			}
			o.ObserveInt64(brOpens, int64(bm.Opens), plain)
			o.ObserveInt64(brRejections, int64(bm.Rejections), plain)
		}
		if bh != nil {
			hm := bh.Metrics()
			o.ObserveInt64(bhActive, int64(hm.Active), plain)
			o.ObserveInt64(bhQueued, int64(hm.Queued), plain)
			o.ObserveInt64(bhRejections, int64(hm.Rejected), with(attribute.String("statecraft.reason", "full")))
			o.ObserveInt64(bhRejections, int64(hm.TimedOut), with(attribute.String("statecraft.reason", "timed out")))
			o.ObserveInt64(bhRejections, int64(hm.Cancelled), with(attribute.String("statecraft.reason", "cancelled")))
		}
		return nil
	}, instruments...)
}

// breakerStates are the states statecraft.breaker.state reports, each
// with its label.
var breakerStates = []breaker.State{breaker.StateClosed, breaker.StateOpen, breaker.StateHalfOpen}
