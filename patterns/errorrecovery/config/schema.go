package config

import "github.com/goccy/go-yaml/ast"

// The file's shape. Every setting is a pointer or a slice, so that a
// setting left out (which keeps its default) is told from one set to its
// zero value. Go field names are those of the errorrecovery config fields
// they set, so that a *errorrecovery.ConfigError naming a field can be
// traced back to its key; the yaml tags are the keys.

type fileConfig struct {
	Version          *int               `yaml:"version"`
	Name             *string            `yaml:"name"`
	Primary          *string            `yaml:"primary"`
	Secondary        []string           `yaml:"secondary"`
	Retry            *retryFile         `yaml:"retry"`
	Breaker          *breakerFile       `yaml:"circuit_breaker"`
	Fallback         *fallbackFile      `yaml:"fallback"`
	Bulkhead         *bulkheadFile      `yaml:"bulkhead"`
	Cache            *cacheFile         `yaml:"cache"`
	Deadline         *deadlineFile      `yaml:"deadline"`
	Compensate       *compensateFile    `yaml:"compensate"`
	RateLimit        *rateLimitFile     `yaml:"rate_limit"`
	Budget           *budgetFile        `yaml:"budget"`
	AdaptiveLimit    *adaptiveLimitFile `yaml:"adaptive_limit"`
	Hedge            *hedgeFile         `yaml:"hedge"`
	PerKey           *perKeyFile        `yaml:"per_key"`
	GlobalTimeout    *string            `yaml:"global_timeout"`
	MaxTotalAttempts *int               `yaml:"max_total_attempts"`
	TransientErrors  []string           `yaml:"transient_errors"`
	PermanentErrors  []string           `yaml:"permanent_errors"`
	LogErrors        *bool              `yaml:"log_errors"`
	MetricsEnabled   *bool              `yaml:"metrics_enabled"`
	TimingMetrics    *bool              `yaml:"timing_metrics"`
	HealthWindow     *int               `yaml:"health_window"`
	AlertThreshold   *int               `yaml:"alert_threshold"`
}

type retryFile struct {
	MaxAttempts  *int     `yaml:"max_attempts"`
	InitialDelay *string  `yaml:"initial_delay"`
	MaxDelay     *string  `yaml:"max_delay"`
	Backoff      *string  `yaml:"backoff"`
	Multiplier   *float64 `yaml:"multiplier"`
	JitterRange  *float64 `yaml:"jitter_range"`
	RetryOn      []string `yaml:"retry_on"`
	PermanentOn  []string `yaml:"permanent_on"`
}

type breakerFile struct {
	FailureThreshold      *int     `yaml:"failure_threshold"`
	SuccessThreshold      *int     `yaml:"success_threshold"`
	OpenTimeout           *string  `yaml:"open_timeout"`
	OpenTimeoutMultiplier *float64 `yaml:"open_timeout_multiplier"`
	MaxOpenTimeout        *string  `yaml:"max_open_timeout"`
	WindowSize            *int     `yaml:"window_size"`
	WindowDuration        *string  `yaml:"window_duration"`
	FailureRateThreshold  *float64 `yaml:"failure_rate_threshold"`
	MinimumCalls          *int     `yaml:"minimum_calls"`
	SlowCallDuration      *string  `yaml:"slow_call_duration"`
	SlowCallRateThreshold *float64 `yaml:"slow_call_rate_threshold"`
	HalfOpenMaxCalls      *int     `yaml:"half_open_max_calls"`
	Ignore                []string `yaml:"ignore"`
}

type fallbackFile struct {
	Value          ast.Node `yaml:"value"`
	On             []string `yaml:"on"`
	IgnoreDeadline *bool    `yaml:"ignore_deadline"`
	UseCache       *bool    `yaml:"use_cache"`
	CacheTTL       *string  `yaml:"cache_ttl"`
}

type bulkheadFile struct {
	MaxConcurrent *int    `yaml:"max_concurrent"`
	MaxQueueSize  *int    `yaml:"max_queue_size"`
	QueueTimeout  *string `yaml:"queue_timeout"`
}

type cacheFile struct {
	TTL               *string `yaml:"ttl"`
	MaxEntries        *int    `yaml:"max_entries"`
	MaxStale          *string `yaml:"max_stale"`
	DisableCoalescing *bool   `yaml:"disable_coalescing"`
}

type deadlineFile struct {
	Timeout        *string `yaml:"timeout"`
	AttemptTimeout *string `yaml:"attempt_timeout"`
	WalkAway       *bool   `yaml:"walk_away"`
}
