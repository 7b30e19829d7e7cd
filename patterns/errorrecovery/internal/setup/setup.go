// Package setup holds what the packages of patterns/errorrecovery share
// when they are constructed: the error that names an invalid config field,
// and the reading of engine Options into a clock, an observer, a source of
// randomness and a definition.
package setup

import (
	"fmt"
	"math/rand/v2"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// ConfigError reports a config field with an invalid value.
// errorrecovery.ConfigError is this type, so that one errors.As target
// matches the error of every package beneath it.
type ConfigError struct {
	// Config is the config type, such as "RetryConfig" or "breaker.Config".
	Config string
	// Field is the field's Go name, such as "MaxAttempts".
	Field string
	// Value is the value found, printed.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error names the config, field, value and reason.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("errorrecovery: %s.%s = %s: %s", e.Config, e.Field, e.Value, e.Reason)
}

// Err returns the *ConfigError of config's field, whose value is value.
func Err(config, field string, value any, reason string) *ConfigError {
	return &ConfigError{Config: config, Field: field, Value: fmt.Sprint(value), Reason: reason}
}

// Options is what a constructor reads from its engine Options.
type Options[S, E comparable, D any] struct {
	engine.Settings
	// Def is the definition to run: the one set by engine.WithDefinition,
	// or the constructor's own.
	Def *fsm.Definition[S, E, D]
	// Random is never nil: math/rand/v2's Float64 when none was set.
	Random func() float64
}

// Read applies opts for a constructor whose config type is named config
// and whose own definition is own. A definition of another machine's
// types is refused with a *ConfigError naming it.
func Read[S, E comparable, D any](config string, own func() *fsm.Definition[S, E, D], opts []engine.Option) (Options[S, E, D], error) {
	o := Options[S, E, D]{Settings: engine.SettingsOf(opts...)}
	o.Random = o.Settings.Random
	if o.Random == nil {
		o.Random = rand.Float64
	}
	if o.Definition == nil {
		o.Def = own()
		return o, nil
	}
	def, ok := o.Definition.(*fsm.Definition[S, E, D])
	if !ok {
		return o, Err(config, "Definition", fmt.Sprintf("%T", o.Definition), fmt.Sprintf("engine.WithDefinition gave a definition of another machine; want %T", def))
	}
	o.Def = def
	return o, nil
}

// EngineOptions returns the engine options that start a driver with o's
// clock and observer.
func (o *Options[S, E, D]) EngineOptions() []engine.Option {
	eopts := []engine.Option{engine.WithClock(o.Clock)}
	if o.Observer != nil {
		eopts = append(eopts, engine.WithObserver(o.Observer))
	}
	return eopts
}

// Or is the zero-value rule of every config: a zero v means def, a
// negative v means none (the value the caller reads as none), and any
// other v is itself.
func Or[N ~int | ~int64 | ~float64](v, def, none N) N {
	switch {
	case v == 0:
		return def
	case v < 0:
		return none
	}
	return v
}
