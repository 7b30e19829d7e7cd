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
//	  backoff: EXPONENTIAL     # FIXED, LINEAR, EXPONENTIAL, JITTER, DECORRELATED,
//	                           # FULL_JITTER, EQUAL_JITTER
//	  multiplier: 2
//	  jitter_range: 0.1
//	  retry_on: [timeout, connection, status5xx]   # error classes
//	  permanent_on: []
//	circuit_breaker:           # breaker.Config
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
//	  ignore_deadline: false
//	  use_cache: false
//	  cache_ttl: 300s
//	bulkhead:                  # bulkhead.Config; 0 means the default, -1 (-1s) none
//	  max_concurrent: 10
//	  max_queue_size: 100
//	  queue_timeout: 30s
//	cache:                     # cache.Config: a 0 means the default here too
//	  ttl: 300s
//	  max_entries: 1000
//	  max_stale: 0s            # 0s: until evicted; negative (-1s): no stale entries
//	  disable_coalescing: false
//	deadline:                  # errorrecovery.DeadlineConfig
//	  timeout: 300s
//	  attempt_timeout: 0s
//	  walk_away: false
//	compensate:                # errorrecovery.CompensationConfig (COMPENSATE)
//	  timeout: 30s             # each compensation; negative (-1s): none
//	  compensation_order: []   # action names, run first in this order; the rest
//	                           # after them, the latest registered first
//	  compensation_actions: [] # names registered with RegisterCompensation
//	  retry:                   # optional: a retry (errorrecovery.NewRetry) around
//	    max_attempts: 3        # each compensation, with the retry section's keys
//	rate_limit:                # ratelimit.Config (RATE_LIMIT): a permit per attempt
//	  permits: 100             # per period
//	  period: 1s
//	  mode: smooth             # smooth (evenly spaced) or bursty (a period's permits at once)
//	  burst: 1                 # smooth only: permits taken at once after an idle spell
//	  max_wait: 0s             # 0s: no wait, reject at once; negative (-1s): no bound
//	budget:                    # budget.Config (BUDGET): retries within a share of executions
//	  ratio: 0.2               # negative: none, only the minimum
//	  min_per_second: 10       # negative: none
//	  window: 10s
//	adaptive_limit:            # adaptive.Config (ADAPTIVE_LIMIT): attempts in flight
//	  initial_limit: 20        # 0: 20, within min_limit and max_limit
//	  min_limit: 1
//	  max_limit: 1000
//	  smoothing: 0.5
//	  window: 1s
//	  min_samples: 10
//	  probe_every: 60          # windows between probes; negative (-1): no probe
//	hedge:                     # errorrecovery.HedgeConfig (HEDGE): attempts beside a slow one
//	  delay: 2s                # with no answer, before each hedge; negative (-1s): none, all at once
//	  max_hedges: 1            # hedges a round may start beside its first attempt
//	per_key:                   # errorrecovery.PerKeyConfig: a breaker, bulkhead and limiters per key
//	  key: host                # host (the key a Transport gives) or a name registered with RegisterKey
//	  max_keys: 1024           # keys held; the least recently used goes first
//	  idle_timeout: 5m         # negative (-1s): never evicted for being idle
//	  sweep_interval: 0s       # 0s: idle_timeout/4
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
// a zero written out means what the Go field documents for zero: the
// default, for every field of every section; "none" is a negative value
// (max_queue_size: -1 is no queue, queue_timeout: -1s no queue timeout,
// window_duration: -1s a count-only window). A strategy named in
// primary or secondary without a section takes part with its defaults,
// except FALLBACK, which needs a fallback section with a value or
// use_cache. When global_timeout is set, deadline.timeout defaults to 0s,
// since there is one overall timeout. COMPENSATE runs the undos the
// function registers (errorrecovery.AddCompensation) when an execution
// fails in the end; a compensate section, even empty, makes it take part.
//
// Settings that only Go can express have no key: the compensations
// themselves (a file names them: compensation_actions lists names
// registered with RegisterCompensation, as error lists name classes
// registered with RegisterErrorClass), the compensation hooks,
// fallback functions and
// services, a cache's key function and the fallback cache's
// (FallbackConfig.Key), a per-key workflow's key function (per_key.key
// names one registered with RegisterKey, or host), callbacks, shared breakers, bulkheads, rate
// limiters, budgets and adaptive limiters, the clock. Set them on the returned config. Since use_cache without a cache
// section needs FallbackConfig.Key, a file that asks for it is refused at
// fallback.use_cache: set UseCache and Key in Go instead.
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
//	circuit_open       a circuit breaker's rejection (breaker.ErrOpen, breaker.ErrTooManyTrials)
//	bulkhead_rejected  a bulkhead's rejection (bulkhead.ErrFull, bulkhead.ErrQueueTimeout)
//	exhausted          retries ran out (ErrExhausted), or the retry budget refused one
//	rate_limited       a rate limiter's rejection (ratelimit.ErrLimited)
//	limit_exceeded     an adaptive limiter's rejection (adaptive.ErrLimitExceeded)
//	budget_exhausted   a retry the retry budget refused (budget.ErrExhausted)
//
// # Limits
//
// A file is checked against limits before the YAML parser builds anything
// from it, since the parser's memory grows with the square of the nesting
// depth and its time with the square of a block mapping's width or of the
// number of documents: a file 100,000 levels deep took it more than
// 21 GB. Each limit is far above any real config (the samples in
// testdata/configs are 300 bytes to 1 KB, three levels deep, 20 keys
// wide) and low enough that any file is refused or accepted in well under
// a second and 100 MB:
//
//	MaxFileSize  256 KiB   the parser spends up to 2 µs and 200 bytes a byte
//	MaxDepth     64        levels of mappings and sequences, block or flow
//	MaxWidth     1000      keys or items in one mapping or sequence
//	MaxEntries   10,000    keys, items, tags, anchors and aliases in the file
//
// and a file holds one YAML document. The limits are checked on the
// tokens of the parser's own lexer (linear in the file), so quoted
// strings, comments and block scalars do not count; where the parser
// nests an entry at the column of the one before it (after a tag or an
// anchor that ends its line, say) the check counts it nested, and a chain
// of tags and anchors counts as deep as it is long. A file beyond a limit
// is refused with a *LimitError, at the line where it was passed.
// ReadFile reads at most MaxFileSize+1 bytes, and only regular files and
// pipes (ErrNotRegular for the rest, such as /dev/zero). A panic of the
// YAML library on malformed input is returned as ErrParser.
//
// A setting that takes an integer refuses a number with a fraction
// ("retry.max_attempts: 2.9 is not an integer") and one beyond an int
// (1e19), with an *IntegerError; an integer written as a float (3.0,
// 1e3) is an integer. The numbers are bounded by the Validate methods of
// their Go configs, so that a file and a Go literal agree:
//
//	retry.max_attempts, max_total_attempts                  at most 100000
//	retry.initial_delay, retry.max_delay                    at most 24h
//	retry.multiplier, circuit_breaker.open_timeout_multiplier  at most 100
//	circuit_breaker.window_size, success_threshold,
//	  half_open_max_calls                                   at most 1048576 (1<<20)
//	circuit_breaker.failure_threshold, minimum_calls        at most window_size
//	circuit_breaker.open_timeout, max_open_timeout,
//	  window_duration, slow_call_duration                   at most 24h
//	bulkhead.max_concurrent, max_queue_size                 at most 1048576 (1<<20)
//	bulkhead.queue_timeout, deadline.timeout,
//	  deadline.attempt_timeout, global_timeout              at most 24h
//	health_window, alert_threshold                          at most 100000
//	rate_limit.permits                                      at most 1<<30, and one a nanosecond of period
//	rate_limit.period, max_wait                             at most 24h
//	rate_limit.burst                                        at most permits (0 in bursty mode)
//	budget.ratio                                            at most 100
//	budget.min_per_second                                   at most 1048576 (1<<20)
//	budget.window                                           between 1s and 60s
//	adaptive_limit.max_limit, min_samples, probe_every      at most 1048576 (1<<20)
//	adaptive_limit.smoothing                                in (0, 1]
//	adaptive_limit.window                                   between 1ms and 1h
//	hedge.delay                                             at most 24h
//	hedge.max_hedges                                        at most 100
//	per_key.max_keys                                        at most 16777216 (1<<24)
//	per_key.idle_timeout                                    at most 24h
//	per_key.sweep_interval                                  between 1ms and idle_timeout
//
// Durations are bounded so that no sum of them overflows a time.Duration
// (100000 delays of 24h are 274 years, the largest Duration 292); the
// counts, so that nothing sized by them (the health window's ring, a
// breaker's window) runs out of memory. The cache's numbers (cache.ttl,
// max_entries, max_stale) and fallback.cache_ttl have no upper bound yet;
// nothing is sized by them up front.
//
// # Errors
//
// Parse checks a file as NewWorkflow would and returns Errors, every
// problem it found, each an *Error with the file, line, column and dotted
// key ("retry.max_attempts", "secondary[1]"). errors.As finds in it the
// *errorrecovery.ConfigError or *errorrecovery.UnknownNameError the
// errorrecovery package returned, or an *UnknownClassError.
package config
