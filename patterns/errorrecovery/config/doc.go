// Package config reads the configuration of an errorrecovery workflow
// (errorrecovery.ErrorRecoveryConfig) from a YAML or JSON file, as the
// statecraft command does.
//
//	cfg, err := config.ReadFile[MyResult]("workflow.yaml")
//	if err != nil {
//		log.Fatal(err) // every problem, each as file:line:column: key: problem
//	}
//	w, err := errorrecovery.NewWorkflow(cfg)
//
// The package is separate from errorrecovery so that a program that does
// not read config files does not compile a YAML parser.
//
// # The schema
//
// A file is one mapping. Keys are snake_case forms of the Go field names;
// a key the schema does not have is an error, at its line, listing the keys
// that are allowed there. JSON is read by the same parser (it is YAML's
// flow style), with the same keys.
//
//	version: 1                 # optional; this package reads version 1
//	name: quotes               # optional: the machine's name in diagrams and traces
//	primary: RETRY             # a strategy name, any case
//	secondary: [CIRCUIT_BREAKER, FALLBACK]
//	retry:                     # errorrecovery.RetryConfig
//	  max_attempts: 3
//	  initial_delay: 1s        # Go durations: 250ms, 1m30s, 0s
//	  max_delay: 60s
//	  backoff: EXPONENTIAL     # FIXED, LINEAR, EXPONENTIAL, JITTER, DECORRELATED
//	  multiplier: 2
//	  jitter_range: 0.1
//	  retry_on: [timeout, connection, status5xx]   # error classes
//	  permanent_on: []
//	circuit_breaker:           # errorrecovery.CircuitBreakerConfig
//	  failure_threshold: 5
//	  success_threshold: 2
//	  open_timeout: 60s
//	  open_timeout_multiplier: 0
//	  max_open_timeout: 0s
//	  window_size: 10
//	  window_duration: 60s
//	  failure_rate_threshold: 0
//	  minimum_calls: 0
//	  slow_call_duration: 0s
//	  slow_call_rate_threshold: 0
//	  half_open_max_calls: 0
//	  ignore: [canceled]       # classes that count neither way (Classify)
//	fallback:                  # errorrecovery.FallbackConfig
//	  value: "a default"       # any YAML value, decoded into the result type
//	  on: [circuit_open]       # classes that trigger it; empty means every error
//	  on_deadline: true
//	  use_cache: false
//	  cache_ttl: 300s
//	bulkhead:                  # errorrecovery.BulkheadConfig
//	  max_concurrent: 10
//	  max_queue_size: 100
//	  queue_timeout: 30s
//	cache:                     # errorrecovery.CacheConfig
//	  ttl: 300s
//	  max_entries: 1000
//	  stale_on_error: true
//	  max_stale: 0s
//	  coalesce: true
//	deadline:                  # errorrecovery.DeadlineConfig
//	  timeout: 300s
//	  attempt_timeout: 0s
//	  walk_away: false
//	global_timeout: 0s
//	max_total_attempts: 0
//	transient_errors: []       # added to retry.retry_on
//	permanent_errors: []       # added to retry.permanent_on
//	log_errors: false          # log failed executions with slog.Default()
//	metrics_enabled: true
//	timing_metrics: false
//	health_window: 100
//	alert_threshold: 0
//
// The values shown are the defaults. A section that is present, even
// empty ("bulkhead: {}" or "bulkhead:"), makes its strategy take part and
// starts from its DefaultXConfig; a setting left out keeps the default, and
// a zero written out is zero, with the meaning the Go field documents (a
// window_duration of 0s is a count-only window). A strategy named in
// primary or secondary without a section takes part with its defaults,
// except FALLBACK, which needs a fallback section with a value or
// use_cache. When global_timeout is set, deadline.timeout defaults to 0s,
// since there is one overall timeout. COMPENSATE belongs to sagas and is
// refused.
//
// Settings that only Go can express have no key: fallback functions and
// services, a cache's key function, callbacks, shared breakers and
// bulkheads, the clock. Set them on the returned config.
//
// # Error classes
//
// Lists of errors name classes registered with RegisterErrorClass. The
// built-in classes are:
//
//	timeout            context.DeadlineExceeded, or an error with Timeout() bool true (net.Error)
//	connection         a *net.OpError, a refused, reset or aborted connection, a broken pipe,
//	                   net.ErrClosed, io.ErrUnexpectedEOF
//	status5xx          an error with a StatusCode() int (StatusCoder) from 500 to 599
//	status429          an error with StatusCode() 429
//	canceled           context.Canceled
//	circuit_open       a circuit breaker's rejection (ErrCircuitOpen, ErrTooManyTrials)
//	bulkhead_rejected  a bulkhead's rejection (ErrBulkheadFull, ErrQueueTimeout)
//	exhausted          retries ran out (ErrExhausted)
//
// # Errors
//
// Parse checks a file as NewWorkflow would and returns Errors, every
// problem it found, each an *Error with the file, line, column and dotted
// key ("retry.max_attempts", "secondary[1]"). errors.As finds in it the
// *errorrecovery.ConfigError or *errorrecovery.UnknownNameError the
// errorrecovery package returned, or an *UnknownClassError.
package config
