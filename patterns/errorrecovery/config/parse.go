package config

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// Version is the schema version this package reads; a file may say so
// with "version: 1".
const Version = 1

// ReadFile reads and parses the config file at path; see Parse. It reads
// a regular file or a pipe, and at most one byte past MaxFileSize: a
// larger file is refused with a *LimitError, and anything else (a
// directory, a device such as /dev/zero) with ErrNotRegular, each in an
// *Error naming the file, before it is read. An error opening or reading
// the file is returned as os.Open or the read returned it.
func ReadFile[T any](path string) (errorrecovery.ErrorRecoveryConfig[T], error) {
	data, err := readLimited(path)
	if err != nil {
		return errorrecovery.ErrorRecoveryConfig[T]{}, err
	}
	return Parse[T](path, data)
}

// Parse parses a workflow config in YAML or JSON (JSON being YAML's flow
// style, the same parser reads both) and returns it as an
// ErrorRecoveryConfig, with the defaults of each section filled in for the
// settings the file leaves out. name is the file's name, for messages.
//
// The config is checked as NewWorkflow would check it (NewWorkflow is
// called, and what it builds dropped), so a config Parse accepts builds.
// Otherwise Parse returns Errors: every problem it could find, each with
// its line and the dotted path of its key. Decoding stops at the first
// problem of form (a syntax error, an unknown key, a value of the wrong
// type); problems of value are reported for every section at once, the
// first of each section (as that section's Validate finds it).
//
// A file beyond one of the limits (MaxFileSize, MaxDepth, MaxWidth,
// MaxEntries, one document) is refused with a *LimitError before it is
// parsed, and a
// panic of the YAML library is returned as ErrParser; a number with a
// fraction, or beyond an int, for a setting that takes an integer is an
// *IntegerError.
//
// The package comment describes the schema and the limits.
func Parse[T any](name string, data []byte) (errorrecovery.ErrorRecoveryConfig[T], error) {
	var zero errorrecovery.ErrorRecoveryConfig[T]
	p := &parsing{file: name}
	if len(data) > MaxFileSize {
		return zero, tooLarge(name)
	}
	var tks token.Tokens
	if err := guard(func() error { tks = lexer.Tokenize(string(data)); return nil }); err != nil {
		p.decodeErr(err)
		return zero, p.errs
	}
	if tk, err := shape(tks); err != nil {
		p.addAt(tk.Position, "", err)
		return zero, p.errs
	}
	var f *ast.File
	err := guard(func() (err error) {
		f, err = parser.Parse(tks, 0)
		return err
	})
	if err != nil {
		p.decodeErr(err)
		return zero, p.errs
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		p.add("", errors.New("the file is empty: a config names at least its primary strategy"))
		return zero, p.errs
	case len(docs) > 1:
		p.addAt(position(docs[1].Body), "", errors.New("more than one YAML document: a file holds one config"))
		return zero, p.errs
	}
	body := docs[0].Body
	p.ix = newIndex(body)
	if p.integers(); len(p.errs) > 0 {
		return zero, p.errs
	}
	var fc fileConfig
	if err := guard(func() error { return yaml.NodeToValue(body, &fc, yaml.DisallowUnknownField()) }); err != nil {
		p.decodeErr(err)
		return zero, p.errs
	}
	cfg := build[T](p, &fc)
	if len(p.errs) > 0 {
		p.sort()
		return zero, p.errs
	}
	w, err := errorrecovery.NewWorkflow(cfg)
	if err != nil {
		p.configErr(err)
		return zero, p.errs
	}
	if b := w.Breaker(); b != nil {
		b.Close()
	}
	if l := w.RateLimiter(); l != nil {
		l.Close()
	}
	if b := w.Budget(); b != nil {
		b.Close()
	}
	return cfg, nil
}

// duration parses the Go duration at path, recording a problem if it is
// not one; nil means the file leaves it out.
func (p *parsing) duration(path string, s *string, dst *time.Duration) {
	if s == nil {
		return
	}
	d, err := time.ParseDuration(*s)
	if err != nil {
		p.add(path, fmt.Errorf("want a Go duration such as 250ms or 1m30s, got %q", *s))
		return
	}
	*dst = d
}

// classes looks up the error classes named at path.
func (p *parsing) classes(path string, names []string) []errorrecovery.ErrorMatcher {
	var ms []errorrecovery.ErrorMatcher
	for i, name := range names {
		m, ok := ErrorClass(name)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", path, i), &UnknownClassError{Name: name, Known: ErrorClasses()})
			continue
		}
		ms = append(ms, m)
	}
	return ms
}

// validate records the error of a section's Validate method.
func (p *parsing) validate(err error) {
	if err != nil {
		p.configErr(err)
	}
}

func set[V any](dst *V, src *V) {
	if src != nil {
		*dst = *src
	}
}

// section reports whether the file has the section at key, even empty
// ("retry:" or "retry: {}").
func (p *parsing) section(key string) bool { return p.ix.has(key) }

// build turns the decoded file into a config, recording every problem of
// value on the way.
func build[T any](p *parsing, fc *fileConfig) errorrecovery.ErrorRecoveryConfig[T] {
	var cfg errorrecovery.ErrorRecoveryConfig[T]
	p.strategies = map[string]errorrecovery.Strategy{}
	if fc.Version != nil && *fc.Version != Version {
		p.add("version", fmt.Errorf("unsupported schema version %d (this build reads version %d)", *fc.Version, Version))
	}
	strategy := func(path, name string) errorrecovery.Strategy {
		s, err := errorrecovery.ParseStrategy(name)
		if err != nil {
			p.add(path, err)
			return 0
		}
		p.strategies[path] = s
		return s
	}
	if fc.Name != nil {
		cfg.Name = *fc.Name
	}
	if fc.Primary != nil {
		cfg.Primary = strategy("primary", *fc.Primary)
	}
	for i, name := range fc.Secondary {
		if s := strategy(fmt.Sprintf("secondary[%d]", i), name); s != 0 {
			cfg.Secondary = append(cfg.Secondary, s)
		}
	}

	if p.section("retry") {
		r := errorrecovery.DefaultRetryConfig[T]()
		if f := fc.Retry; f != nil {
			set(&r.MaxAttempts, f.MaxAttempts)
			p.duration("retry.initial_delay", f.InitialDelay, &r.InitialDelay)
			p.duration("retry.max_delay", f.MaxDelay, &r.MaxDelay)
			if f.Backoff != nil {
				if b, err := errorrecovery.ParseBackoff(*f.Backoff); err != nil {
					p.add("retry.backoff", err) // and check the rest with the default
				} else {
					r.Backoff = b
				}
			}
			set(&r.Multiplier, f.Multiplier)
			set(&r.JitterRange, f.JitterRange)
			r.RetryOn = p.classes("retry.retry_on", f.RetryOn)
			r.PermanentOn = p.classes("retry.permanent_on", f.PermanentOn)
		}
		p.validate(r.Validate())
		cfg.Retry = &r
	}

	if p.section("circuit_breaker") {
		b := breaker.DefaultConfig()
		if f := fc.Breaker; f != nil {
			set(&b.FailureThreshold, f.FailureThreshold)
			set(&b.SuccessThreshold, f.SuccessThreshold)
			p.duration("circuit_breaker.open_timeout", f.OpenTimeout, &b.OpenTimeout)
			set(&b.OpenTimeoutMultiplier, f.OpenTimeoutMultiplier)
			p.duration("circuit_breaker.max_open_timeout", f.MaxOpenTimeout, &b.MaxOpenTimeout)
			set(&b.WindowSize, f.WindowSize)
			p.duration("circuit_breaker.window_duration", f.WindowDuration, &b.WindowDuration)
			set(&b.FailureRateThreshold, f.FailureRateThreshold)
			set(&b.MinimumCalls, f.MinimumCalls)
			p.duration("circuit_breaker.slow_call_duration", f.SlowCallDuration, &b.SlowCallDuration)
			set(&b.SlowCallRateThreshold, f.SlowCallRateThreshold)
			set(&b.HalfOpenMaxCalls, f.HalfOpenMaxCalls)
			if ignore := p.classes("circuit_breaker.ignore", f.Ignore); len(ignore) > 0 {
				b.Classify = func(err error) breaker.Outcome {
					for _, m := range ignore {
						if m(err) {
							return breaker.OutcomeIgnore
						}
					}
					return breaker.DefaultClassify(err)
				}
			}
		}
		p.validate(b.Validate())
		cfg.Breaker = &b
	}

	if p.section("fallback") {
		fb := errorrecovery.DefaultFallbackConfig[T]()
		if f := fc.Fallback; f != nil {
			if p.ix.has("fallback.value") {
				fb.HasValue = true
				if f.Value != nil {
					if err := guard(func() error { return yaml.NodeToValue(f.Value, &fb.Value) }); err != nil {
						p.add("fallback.value", fmt.Errorf("does not fit the workflow's result type %T: %v", fb.Value, err))
					}
				}
			}
			fb.On = p.classes("fallback.on", f.On)
			set(&fb.IgnoreDeadline, f.IgnoreDeadline)
			set(&fb.UseCache, f.UseCache)
			p.duration("fallback.cache_ttl", f.CacheTTL, &fb.CacheTTL)
		}
		p.validate(fb.Validate())
		cfg.Fallback = &fb
	}

	if p.section("bulkhead") {
		b := bulkhead.DefaultConfig()
		if f := fc.Bulkhead; f != nil {
			set(&b.MaxConcurrent, f.MaxConcurrent)
			set(&b.MaxQueueSize, f.MaxQueueSize)
			p.duration("bulkhead.queue_timeout", f.QueueTimeout, &b.QueueTimeout)
		}
		p.validate(b.Validate())
		cfg.Bulkhead = &b
	}

	if p.section("cache") {
		c := cache.DefaultConfig()
		if f := fc.Cache; f != nil {
			// A 0 given means the default, as a zero field of the Go
			// config does; a negative max_stale turns stale entries off.
			p.duration("cache.ttl", f.TTL, &c.TTL)
			set(&c.MaxEntries, f.MaxEntries)
			p.duration("cache.max_stale", f.MaxStale, &c.MaxStale)
			set(&c.DisableCoalescing, f.DisableCoalescing)
		}
		p.validate(c.Validate())
		cfg.Cache = &c
	}

	p.duration("global_timeout", fc.GlobalTimeout, &cfg.GlobalTimeout)
	if p.section("deadline") {
		d := errorrecovery.DefaultDeadlineConfig()
		if cfg.GlobalTimeout > 0 {
			d.Timeout = 0 // there is one overall timeout, and global_timeout sets it
		}
		if f := fc.Deadline; f != nil {
			p.duration("deadline.timeout", f.Timeout, &d.Timeout)
			p.duration("deadline.attempt_timeout", f.AttemptTimeout, &d.AttemptTimeout)
			set(&d.WalkAway, f.WalkAway)
		}
		p.validate(d.Validate())
		cfg.Deadline = &d
	}

	if p.section("compensate") {
		cfg.Compensation = compensate(p, fc.Compensate)
	}
	if p.section("rate_limit") {
		cfg.RateLimit = rateLimit(p, fc.RateLimit)
	}
	if p.section("budget") {
		cfg.Budget = retryBudget(p, fc.Budget)
	}
	if p.section("adaptive_limit") {
		cfg.AdaptiveLimit = adaptiveLimit(p, fc.AdaptiveLimit)
	}
	if p.section("hedge") {
		cfg.Hedge = hedge(p, fc.Hedge)
	}
	if p.section("per_key") {
		cfg.PerKey = perKey(p, fc.PerKey)
	}

	set(&cfg.MaxTotalAttempts, fc.MaxTotalAttempts)
	cfg.TransientErrors = p.classes("transient_errors", fc.TransientErrors)
	cfg.PermanentErrors = p.classes("permanent_errors", fc.PermanentErrors)
	if fc.LogErrors != nil && *fc.LogErrors {
		cfg.Logger = slog.Default()
	}
	if fc.MetricsEnabled != nil {
		cfg.MetricsDisabled = !*fc.MetricsEnabled
	}
	set(&cfg.TimingMetrics, fc.TimingMetrics)
	set(&cfg.HealthWindow, fc.HealthWindow)
	set(&cfg.AlertThreshold, fc.AlertThreshold)
	return cfg
}
