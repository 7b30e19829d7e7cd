package bulkhead

import (
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a bulkhead (New). In every field zero means the
// default, so a zero Config is DefaultConfig and a literal names only what
// differs: Config{MaxConcurrent: 4} is four slots with the default queue
// and queue timeout. "None" is spelled with a negative value: NoQueue,
// NoTimeout.
//
// There is no size for the worker pool: it is sized by MaxConcurrent. A
// smaller pool would queue admitted calls a second time, out of sight of
// the queue, its limit and its timeout; a larger one would keep goroutines
// that can never be busy.
type Config struct {
	// MaxConcurrent is the number of calls that may run at once (the
	// slots), and the number of goroutines of the worker pool. Zero means
	// the default, 10. It must not be negative, and is at most 1<<20
	// (1<<16 with UseWorkerPool, which starts that many goroutines).
	MaxConcurrent int
	// MaxQueueSize is the number of calls that may wait for a slot, served
	// first in, first out; a call that finds the queue full is rejected at
	// once. Zero means the default, 100. NoQueue (any negative value)
	// means no queue: a call that finds every slot taken is rejected at
	// once. At most 1<<20.
	MaxQueueSize int
	// QueueTimeout bounds the time a call waits in the queue; a call that
	// reaches it is rejected with ErrQueueTimeout. It runs on the
	// bulkhead's clock. Zero means the default, 30s. NoTimeout (any
	// negative duration) means none: a call waits until it gets a slot or
	// its context ends. At most 24h.
	QueueTimeout time.Duration
	// UseWorkerPool runs each admitted call on one of MaxConcurrent
	// goroutines started by New, instead of in the caller's goroutine;
	// Close stops them. The caller still waits for its call to finish, and
	// a panic in it goes on in the caller's goroutine. False, the zero
	// value and the default, runs calls in the caller's goroutine.
	UseWorkerPool bool
}

// The spellings of "none" in a Config.
const (
	// NoQueue as Config.MaxQueueSize means no queue: a call that finds
	// every slot taken is rejected at once with ErrFull.
	NoQueue = -1
	// NoTimeout as Config.QueueTimeout means a queued call waits until it
	// gets a slot or its context ends.
	NoTimeout time.Duration = -1
)

// The defaults, which a zero field means.
const (
	defaultMaxConcurrent = 10
	defaultMaxQueueSize  = 100
	defaultQueueTimeout  = 30 * time.Second
)

// DefaultConfig returns what a zero Config means: 10 calls at once, a
// queue of 100, a 30 s queue timeout, calls run in the caller's goroutine.
func DefaultConfig() Config {
	return Config{
		MaxConcurrent: defaultMaxConcurrent,
		MaxQueueSize:  defaultMaxQueueSize,
		QueueTimeout:  defaultQueueTimeout,
	}
}

// Bounds of a Config.
const (
	maxSize     = 1 << 20 // MaxConcurrent, MaxQueueSize
	maxWorkers  = 1 << 16 // MaxConcurrent with UseWorkerPool
	maxDuration = 24 * time.Hour
)

// configName names Config in a *setup.ConfigError.
const configName = "bulkhead.Config"

// Validate reports the first invalid field as a *setup.ConfigError (an
// errorrecovery.ConfigError).
func (c *Config) Validate() error {
	r := c.resolved()
	switch {
	case c.MaxConcurrent < 0:
		return setup.Err(configName, "MaxConcurrent", c.MaxConcurrent, "must not be negative (zero means 10)")
	case c.MaxConcurrent > maxSize:
		return setup.Err(configName, "MaxConcurrent", c.MaxConcurrent, "must be at most 1<<20")
	case c.UseWorkerPool && r.MaxConcurrent > maxWorkers:
		return setup.Err(configName, "MaxConcurrent", c.MaxConcurrent, "must be at most 1<<16 with UseWorkerPool (one goroutine each)")
	case c.MaxQueueSize > maxSize:
		return setup.Err(configName, "MaxQueueSize", c.MaxQueueSize, "must be at most 1<<20")
	case c.QueueTimeout > maxDuration:
		return setup.Err(configName, "QueueTimeout", c.QueueTimeout, "must be at most 24h (a negative duration means none)")
	}
	return nil
}

// resolved returns c with each zero field replaced by its default, and a
// negative MaxQueueSize or QueueTimeout by NoQueue or NoTimeout, so that
// two configs that mean the same resolve to the same value.
func (c Config) resolved() Config {
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = defaultMaxConcurrent
	}
	c.MaxQueueSize = setup.Or(c.MaxQueueSize, defaultMaxQueueSize, NoQueue)
	c.QueueTimeout = setup.Or(c.QueueTimeout, defaultQueueTimeout, NoTimeout)
	return c
}
