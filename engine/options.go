package engine

// Option configures a driver (NewInstance, NewRunner).
type Option func(*config)

type config struct {
	clock    Clock
	obs      []Observer
	maxSteps int
	codec    Codec
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
