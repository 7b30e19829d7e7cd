package config

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
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
	return cfg, nil
}

// parsing collects the problems of one file.
type parsing struct {
	file string
	ix   *index
	errs Errors
	// strategies are the strategies named, by path ("primary",
	// "secondary[0]").
	strategies map[string]errorrecovery.Strategy
}

func (p *parsing) add(path string, err error) {
	line, col := p.ix.at(path)
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: col, Field: path, Err: err})
}

// sort puts the problems in the order of the file, those with no line
// last.
func (p *parsing) sort() {
	slices.SortStableFunc(p.errs, func(a, b *Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // the one with a line first
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}

// addMsg is add with the message a person reads given apart from err.
func (p *parsing) addMsg(path string, err error, msg string) {
	p.add(path, err)
	p.errs[len(p.errs)-1].msg = msg
}

func (p *parsing) addAt(pos *token.Position, path string, err error) {
	e := &Error{File: p.file, Field: path, Err: err}
	if pos != nil {
		e.Line, e.Column = pos.Line, pos.Column
	}
	p.errs = append(p.errs, e)
}

// guard calls f, a call of the YAML library, and returns its error, or
// ErrParser if it panics: the library panics on some malformed input
// instead of returning an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w (%v)", ErrParser, r)
		}
	}()
	return f()
}

// decodeErr records an error of the YAML parser or decoder, at its token,
// reworded where the decoder speaks of Go types.
func (p *parsing) decodeErr(err error) {
	ye, ok := errors.AsType[yaml.Error](err)
	if !ok || ye.GetToken() == nil {
		p.errs = append(p.errs, &Error{File: p.file, Err: err})
		return
	}
	tk := ye.GetToken()
	e := &Error{File: p.file, Line: tk.Position.Line, Column: tk.Position.Column, Err: errors.New(ye.GetMessage())}
	if p.ix != nil {
		e.Field = p.ix.pathAt(tk.Position)
	}
	switch de := err.(type) {
	case *yaml.UnknownFieldError:
		key := strings.Trim(strings.TrimPrefix(ye.GetMessage(), "unknown field "), `"`)
		msg := fmt.Sprintf("unknown key %q", key)
		if known := keysOf(parent(e.Field)); len(known) > 0 {
			msg += " (known here: " + strings.Join(known, ", ") + ")"
		}
		e.Err = errors.New(msg)
	case *yaml.TypeError:
		e.Err = fmt.Errorf("want %s, got %q", kindOf(de.DstType), tk.Value)
	}
	p.errs = append(p.errs, e)
}

// kindOf words a Go type as the kind of YAML value it takes.
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	}
	return t.String()
}

// The sections, by the Config name of errorrecovery's ConfigError, with
// their key and their struct in the file.
var sections = map[string]struct {
	key string
	typ reflect.Type
}{
	"ErrorRecoveryConfig":  {"", reflect.TypeFor[fileConfig]()},
	"RetryConfig":          {"retry", reflect.TypeFor[retryFile]()},
	"CircuitBreakerConfig": {"circuit_breaker", reflect.TypeFor[breakerFile]()},
	"FallbackConfig":       {"fallback", reflect.TypeFor[fallbackFile]()},
	"BulkheadConfig":       {"bulkhead", reflect.TypeFor[bulkheadFile]()},
	"CacheConfig":          {"cache", reflect.TypeFor[cacheFile]()},
	"DeadlineConfig":       {"deadline", reflect.TypeFor[deadlineFile]()},
}

// configErr records an error of a Validate method or of NewWorkflow at the
// key of the field it names.
func (p *parsing) configErr(err error) {
	ce, ok := errors.AsType[*errorrecovery.ConfigError](err)
	if !ok {
		p.add("", err)
		return
	}
	path := ""
	switch {
	case ce.Config == "ErrorRecoveryConfig" && ce.Field == "Deadline":
		path = "deadline.timeout"
	case ce.Config == "ErrorRecoveryConfig" && ce.Field == "Fallback":
		p.addMsg(p.mention(errorrecovery.Fallback), err,
			"FALLBACK takes part but the file has no fallback section: give it a value (fallback.value) or use_cache")
		return
	default:
		if s, ok := sections[ce.Config]; ok {
			path = join(s.key, keyOfField(s.typ, ce.Field))
		}
	}
	p.addMsg(path, err, fmt.Sprintf("%s (got %s)", renameFields(ce.Config, ce.Reason), ce.Value))
}

// goName matches a Go field name, or two joined by a dot, in a reason.
var goName = regexp.MustCompile(`\b[A-Z][a-z]+[A-Za-z]*(\.[A-Z][a-z]+[A-Za-z]*)?\b`)

// renameFields rewrites the Go field names in a reason of a config of the
// named type as the file's keys: "exceeds WindowSize" becomes "exceeds
// window_size", "Deadline.Timeout" becomes "deadline.timeout".
func renameFields(config, reason string) string {
	sec, ok := sections[config]
	if !ok {
		return reason
	}
	top := sections["ErrorRecoveryConfig"].typ
	return goName.ReplaceAllStringFunc(reason, func(name string) string {
		outer, inner, dotted := strings.Cut(name, ".")
		if dotted {
			f, ok := top.FieldByName(outer)
			if !ok {
				return name
			}
			t := f.Type
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Struct {
				return name
			}
			if k := keyOfField(t, inner); k != "" {
				return yamlKey(f) + "." + k
			}
			return name
		}
		for _, t := range []reflect.Type{sec.typ, top} {
			if k := keyOfField(t, name); k != "" {
				return k
			}
		}
		return name
	})
}

// mention returns the path of the primary or secondary entry naming s, or
// "".
func (p *parsing) mention(s errorrecovery.Strategy) string {
	if path := p.secondaryNaming(s, 0); path != "" {
		return path
	}
	if p.strategies["primary"] == s {
		return "primary"
	}
	return ""
}

// secondaryNaming returns the path of the first secondary entry from
// index i on that names s, or "".
func (p *parsing) secondaryNaming(s errorrecovery.Strategy, i int) string {
	path := fmt.Sprintf("secondary[%d]", i)
	switch {
	case !p.ix.has(path):
		return ""
	case p.strategies[path] == s:
		return path
	}
	return p.secondaryNaming(s, i+1)
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
		if s == errorrecovery.Compensate {
			p.add(path, errors.New("COMPENSATE belongs to sagas, not to a workflow around one function"))
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
		b := errorrecovery.DefaultCircuitBreakerConfig()
		if f := fc.CircuitBreaker; f != nil {
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
				b.Classify = func(err error) errorrecovery.Outcome {
					for _, m := range ignore {
						if m(err) {
							return errorrecovery.OutcomeIgnore
						}
					}
					return errorrecovery.DefaultClassify(err)
				}
			}
		}
		p.validate(b.Validate())
		cfg.CircuitBreaker = &b
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
			set(&fb.OnDeadline, f.OnDeadline)
			set(&fb.UseCache, f.UseCache)
			p.duration("fallback.cache_ttl", f.CacheTTL, &fb.CacheTTL)
		}
		p.validate(fb.Validate())
		cfg.Fallback = &fb
	}

	if p.section("bulkhead") {
		b := errorrecovery.DefaultBulkheadConfig()
		if f := fc.Bulkhead; f != nil {
			set(&b.MaxConcurrent, f.MaxConcurrent)
			set(&b.MaxQueueSize, f.MaxQueueSize)
			p.duration("bulkhead.queue_timeout", f.QueueTimeout, &b.QueueTimeout)
		}
		p.validate(b.Validate())
		cfg.Bulkhead = &b
	}

	if p.section("cache") {
		c := errorrecovery.DefaultCacheConfig()
		if f := fc.Cache; f != nil {
			p.duration("cache.ttl", f.TTL, &c.TTL)
			set(&c.MaxEntries, f.MaxEntries)
			set(&c.StaleOnError, f.StaleOnError)
			p.duration("cache.max_stale", f.MaxStale, &c.MaxStale)
			set(&c.Coalesce, f.Coalesce)
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
