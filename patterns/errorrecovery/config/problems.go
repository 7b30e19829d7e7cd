package config

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// How a file's problems are collected, placed at their line and key, and
// worded in the file's terms rather than Go's.

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
	"ErrorRecoveryConfig": {"", reflect.TypeFor[fileConfig]()},
	"RetryConfig":         {"retry", reflect.TypeFor[retryFile]()},
	"breaker.Config":      {"circuit_breaker", reflect.TypeFor[breakerFile]()},
	"FallbackConfig":      {"fallback", reflect.TypeFor[fallbackFile]()},
	"bulkhead.Config":     {"bulkhead", reflect.TypeFor[bulkheadFile]()},
	"cache.Config":        {"cache", reflect.TypeFor[cacheFile]()},
	"DeadlineConfig":      {"deadline", reflect.TypeFor[deadlineFile]()},
	"CompensationConfig":  {"compensate", reflect.TypeFor[compensateFile]()},
	"ratelimit.Config":    {"rate_limit", reflect.TypeFor[rateLimitFile]()},
	"budget.Config":       {"budget", reflect.TypeFor[budgetFile]()},
	"adaptive.Config":     {"adaptive_limit", reflect.TypeFor[adaptiveLimitFile]()},
	"HedgeConfig":         {"hedge", reflect.TypeFor[hedgeFile]()},
	"PerKeyConfig":        {"per_key", reflect.TypeFor[perKeyFile]()},
	"perkey.Config":       {"per_key", reflect.TypeFor[perKeyFile]()},
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
	case ce.Config == "FallbackConfig" && ce.Field == "Key":
		// The key function has no key in a file: say what to do instead.
		p.addMsg("fallback.use_cache", err,
			"use_cache without a cache section needs a key function (FallbackConfig.Key), which only Go can give: set UseCache and Key on the returned config, or add a cache section, whose entries then answer failures")
		return
	case ce.Config == "ErrorRecoveryConfig" && ce.Field == "Fallback":
		p.addMsg(p.mention(errorrecovery.StrategyFallback), err,
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
