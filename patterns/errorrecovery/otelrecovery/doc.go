// Package otelrecovery reports a workflow of package errorrecovery to
// OpenTelemetry: a span per execution, with a span event per step of its
// per-call machine, and metrics of the workflow and of the breaker and
// bulkhead it uses.
//
// It uses the OpenTelemetry API only; the program chooses the SDK and the
// exporters, and passes its providers (WithTracerProvider,
// WithMeterProvider) or sets the global ones. A program that does not
// import this package does not compile OpenTelemetry.
//
// [Instrument] wraps a workflow; its Execute, ExecuteResult and Protect run
// the workflow's and record:
//
//   - a span named after the workflow (ErrorRecoveryConfig.Name), with the
//     attributes statecraft.workflow, statecraft.outcome (success or
//     failure, as the caller saw it), statecraft.source (where the value
//     came from) and statecraft.attempts, and, while the span is recording,
//     one event statecraft.step per step (statecraft.machine,
//     statecraft.from, statecraft.event, statecraft.to, stamped with the
//     workflow's clock); a failed execution's span records the error and
//     has status Error. An unsampled span costs the execution nothing more.
//   - statecraft.workflow.duration, a histogram in seconds on the
//     workflow's clock, by outcome and source.
//
// At each collection it reads the workflow's counters (Workflow.Metrics)
// and those of its breaker and bulkhead into observable instruments:
// statecraft.workflow.executions (by outcome), .calls, .retries,
// .fallbacks, .cache.served (by freshness), .rejections, .timeouts;
// statecraft.breaker.state (1 for the current state, by state),
// .time_in_state (seconds, by state), .opens,
// .rejections; statecraft.bulkhead.active, .queued, .rejections (by
// reason). Every instrument carries statecraft.workflow. docs/observability.md
// lists them with their units. Close stops the collection callbacks.
//
// Errors: Instrument returns an error only when the meter refuses an
// instrument. The clock is the workflow's (engine.WithClock), so durations
// and step times follow a manual clock in tests.
package otelrecovery
