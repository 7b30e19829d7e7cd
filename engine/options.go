package engine

import "github.com/statecraft/statecraft/fsm"

// Option configures a driver (NewInstance, NewRunner), and every machine
// built on the engine: the shared machines and executors of
// patterns/errorrecovery take the same Options, so a clock, an observer or
// a source of randomness is passed one way everywhere.
type Option func(*config)

type config struct {
	clock    Clock
	obs      []Observer
	maxSteps int
	codec    Codec
	random   func() float64
	def      any
}

func newConfig(opts []Option) config {
	c := config{clock: RealClock{}, maxSteps: DefaultMaxSteps, codec: JSONCodec{}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// DefaultMaxSteps bounds the steps one Fire may take (its own event, the
// choice states it passes through, and the events raised meanwhile).
const DefaultMaxSteps = 100

// WithClock sets the clock that timers and timestamps use. Nil means the
// real clock.
func WithClock(c Clock) Option {
	return func(cfg *config) {
		if c == nil {
			c = RealClock{}
		}
		cfg.clock = c
	}
}

// WithObserver attaches an observer; several may be attached, and each
// sees every record in order. Records are only made when one is attached.
func WithObserver(o Observer) Option {
	return func(cfg *config) {
		if o != nil {
			cfg.obs = append(cfg.obs, o)
		}
	}
}

// WithMaxSteps sets the step bound of one Fire. Zero or less means
// DefaultMaxSteps.
func WithMaxSteps(n int) Option {
	return func(cfg *config) {
		if n <= 0 {
			n = DefaultMaxSteps
		}
		cfg.maxSteps = n
	}
}

// WithCodec sets how snapshots encode the machine's data. Nil means JSON.
func WithCodec(c Codec) Option {
	return func(cfg *config) {
		if c == nil {
			c = JSONCodec{}
		}
		cfg.codec = c
	}
}

// WithRandom sets the source of uniform numbers in [0, 1) that a
// machine's actions draw from, such as a retry's jitter; a test passes a
// fixed sequence to make them repeatable. The engine itself draws none.
// Nil means math/rand/v2's Float64.
func WithRandom(f func() float64) Option {
	return func(cfg *config) { cfg.random = f }
}

// WithDefinition makes a constructor that builds a machine of its own
// (breaker.New, bulkhead.New, cache.New, saga.New) run def instead, such
// as a copy of its definition with an edge removed or a guard changed.
// def must have the constructor's state, event and data types, or the
// constructor refuses it. NewInstance and NewRunner take their definition
// as an argument and ignore this option. Nil means the constructor's own.
func WithDefinition[S, E comparable, D any](def *fsm.Definition[S, E, D]) Option {
	return func(cfg *config) {
		if def == nil {
			cfg.def = nil
			return
		}
		cfg.def = def
	}
}

// Settings is what a list of Options sets, for packages that build
// machines on the engine and need the same clock, observer and source of
// randomness as the drivers they start (SettingsOf).
type Settings struct {
	// Clock is the clock set by WithClock, or RealClock.
	Clock Clock
	// Observer is the observers attached by WithObserver, as one, or nil.
	Observer Observer
	// Random is the source set by WithRandom, or nil (the package's
	// default).
	Random func() float64
	// Definition is the definition set by WithDefinition, or nil; its
	// dynamic type is a *fsm.Definition.
	Definition any
}

// SettingsOf returns what opts set, applied in order.
func SettingsOf(opts ...Option) Settings {
	c := newConfig(opts)
	return Settings{Clock: c.clock, Observer: c.observer(), Random: c.random, Definition: c.def}
}

// observer returns the attached observers as one, or nil when none is.
func (c *config) observer() Observer {
	switch len(c.obs) {
	case 0:
		return nil
	case 1:
		return c.obs[0]
	}
	all := append([]Observer(nil), c.obs...)
	return ObserverFunc(func(r Record) {
		for _, o := range all {
			o.Observe(r)
		}
	})
}
