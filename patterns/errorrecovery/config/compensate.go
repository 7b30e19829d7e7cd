package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// compensateFile is the compensate section: errorrecovery.CompensationConfig.
// Its functions cannot come from a file: compensation_actions names
// actions registered with RegisterCompensation, as error lists name
// classes registered with RegisterErrorClass, and retry describes a retry
// workflow (errorrecovery.NewRetry) that protects each compensation.
type compensateFile struct {
	Timeout             *string    `yaml:"timeout"`
	CompensationOrder   []string   `yaml:"compensation_order"`
	CompensationActions []string   `yaml:"compensation_actions"`
	Retry               *retryFile `yaml:"retry"`
}

// compensations are the actions registered with RegisterCompensation,
// by name.
var compensations = struct {
	sync.RWMutex
	m map[string]errorrecovery.CompensationFunc
}{m: map[string]errorrecovery.CompensationFunc{}}

// RegisterCompensation makes name usable in a config file's
// compensate.compensation_actions, as the compensation fn: a function
// that a workflow's protected function then registers by name, with
// errorrecovery.AddCompensation(ctx, name, key, nil). Names are matched
// exactly. It panics if name is empty or already registered, or if fn is
// nil, as RegisterErrorClass does.
func RegisterCompensation(name string, fn errorrecovery.CompensationFunc) {
	if name == "" {
		panic("config: RegisterCompensation with an empty name")
	}
	if fn == nil {
		panic("config: RegisterCompensation of " + name + " with a nil function")
	}
	compensations.Lock()
	defer compensations.Unlock()
	if _, dup := compensations.m[name]; dup {
		panic("config: RegisterCompensation called twice for " + name)
	}
	compensations.m[name] = fn
}

// Compensations returns the names registered with RegisterCompensation,
// sorted.
func Compensations() []string {
	compensations.RLock()
	defer compensations.RUnlock()
	names := make([]string, 0, len(compensations.m))
	for name := range compensations.m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// UnknownCompensationError reports a name in compensate.compensation_actions
// that RegisterCompensation has not registered.
type UnknownCompensationError struct {
	// Name is the name given; Known the names registered.
	Name  string
	Known []string
}

// Error names the compensation and lists the registered ones.
func (e *UnknownCompensationError) Error() string {
	known := "none are registered"
	if len(e.Known) > 0 {
		known = "registered: " + strings.Join(e.Known, ", ")
	}
	return fmt.Sprintf("unknown compensation %q (register it with config.RegisterCompensation; %s)", e.Name, known)
}

// compensate builds the compensate section's CompensationConfig.
func compensate(p *parsing, f *compensateFile) *errorrecovery.CompensationConfig {
	c := errorrecovery.DefaultCompensationConfig()
	if f == nil {
		return &c
	}
	p.duration("compensate.timeout", f.Timeout, &c.Timeout)
	c.CompensationOrder = f.CompensationOrder
	for i, name := range f.CompensationActions {
		compensations.RLock()
		fn, ok := compensations.m[name]
		compensations.RUnlock()
		if !ok {
			p.add(fmt.Sprintf("compensate.compensation_actions[%d]", i), &UnknownCompensationError{Name: name, Known: Compensations()})
			continue
		}
		if c.CompensationActions == nil {
			c.CompensationActions = map[string]errorrecovery.CompensationFunc{}
		}
		c.CompensationActions[name] = fn
	}
	if p.section("compensate.retry") {
		r := errorrecovery.DefaultRetryConfig[struct{}]()
		if rf := f.Retry; rf != nil {
			set(&r.MaxAttempts, rf.MaxAttempts)
			p.duration("compensate.retry.initial_delay", rf.InitialDelay, &r.InitialDelay)
			p.duration("compensate.retry.max_delay", rf.MaxDelay, &r.MaxDelay)
			if rf.Backoff != nil {
				if b, err := errorrecovery.ParseBackoff(*rf.Backoff); err != nil {
					p.add("compensate.retry.backoff", err)
				} else {
					r.Backoff = b
				}
			}
			set(&r.Multiplier, rf.Multiplier)
			set(&r.JitterRange, rf.JitterRange)
			r.RetryOn = p.classes("compensate.retry.retry_on", rf.RetryOn)
			r.PermanentOn = p.classes("compensate.retry.permanent_on", rf.PermanentOn)
		}
		if err := r.Validate(); err != nil {
			p.retryErr("compensate.retry", err)
		} else if w, err := errorrecovery.NewRetry(r); err == nil {
			c.CompensationRetry = w
		} else {
			p.retryErr("compensate.retry", err)
		}
	}
	if err := c.Validate(); err != nil {
		p.configErr(err)
	}
	return &c
}

// retryErr records an error of a RetryConfig that is not the retry
// section's, at its own key under path.
func (p *parsing) retryErr(path string, err error) {
	ce, ok := errors.AsType[*errorrecovery.ConfigError](err)
	if !ok {
		p.add(path, err)
		return
	}
	p.addMsg(join(path, keyOfField(reflect.TypeFor[retryFile](), ce.Field)), err, fmt.Sprintf("%s (got %s)", renameFields(ce.Config, ce.Reason), ce.Value))
}
