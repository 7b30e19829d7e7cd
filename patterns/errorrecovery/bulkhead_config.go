package errorrecovery

import (
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// BulkheadConfig configures a bulkhead. Start from DefaultBulkheadConfig
// and change what differs: in a BulkheadConfig zero means zero (a zero
// MaxQueueSize is no queue), except that a zero QueueTimeout means no
// timeout, as a zero timeout does throughout this package.
//
// The original library's thread_pool_size has no field: a worker pool is
// sized by MaxConcurrent. A smaller pool would queue admitted calls a
// second time, out of sight of the queue, its limit and its timeout; a
// larger one would keep goroutines that can never be busy.
type BulkheadConfig struct {
	// MaxConcurrent is the number of calls that may run at once (the
	// slots), and the number of goroutines of the worker pool. It must be
	// at least 1, and at most 1<<20 (1<<16 with UseWorkerPool, which
	// starts that many goroutines).
	MaxConcurrent int
	// MaxQueueSize is the number of calls that may wait for a slot, served
	// first in, first out; a call that finds the queue full is rejected at
	// once. Zero means no queue: a call that finds every slot taken is
	// rejected at once. It must not be negative, and at most 1<<20.
	MaxQueueSize int
	// QueueTimeout bounds the time a call waits in the queue; a call that
	// reaches it is rejected with ErrQueueTimeout. Zero means no timeout:
	// a call waits until it gets a slot or its context ends. It runs on the
	// executor's clock and must not be negative, and at most 24h.
	QueueTimeout time.Duration
	// UseWorkerPool runs each admitted call on one of MaxConcurrent
	// goroutines started by NewBulkheadExecutor, instead of in the
	// caller's goroutine; Close stops them. The caller still waits for its
	// call to finish, and a panic in it goes on in the caller's goroutine.
	UseWorkerPool bool
}

// DefaultBulkheadConfig returns the defaults of the library this package
// reimplements: 10 calls at once, a queue of 100, a 30 s queue timeout,
// calls run in the caller's goroutine.
func DefaultBulkheadConfig() BulkheadConfig {
	return BulkheadConfig{
		MaxConcurrent: 10,
		MaxQueueSize:  100,
		QueueTimeout:  30 * time.Second,
	}
}

// Bounds of a BulkheadConfig.
const (
	bhMaxSize    = 1 << 20 // MaxConcurrent, MaxQueueSize
	bhMaxWorkers = 1 << 16 // MaxConcurrent with UseWorkerPool
)

// Validate reports the first invalid field as a *ConfigError.
func (c *BulkheadConfig) Validate() error {
	const name = "BulkheadConfig"
	switch {
	case c.MaxConcurrent < 1:
		return configErr(name, "MaxConcurrent", c.MaxConcurrent, "must be at least 1")
	case c.MaxConcurrent > bhMaxSize:
		return configErr(name, "MaxConcurrent", c.MaxConcurrent, "must be at most 1<<20")
	case c.UseWorkerPool && c.MaxConcurrent > bhMaxWorkers:
		return configErr(name, "MaxConcurrent", c.MaxConcurrent, "must be at most 1<<16 with UseWorkerPool (one goroutine each)")
	case c.MaxQueueSize < 0:
		return configErr(name, "MaxQueueSize", c.MaxQueueSize, "must not be negative (zero means no queue)")
	case c.MaxQueueSize > bhMaxSize:
		return configErr(name, "MaxQueueSize", c.MaxQueueSize, "must be at most 1<<20")
	case c.QueueTimeout < 0:
		return configErr(name, "QueueTimeout", c.QueueTimeout, "must not be negative (zero means no timeout)")
	case c.QueueTimeout > maxConfigDuration:
		return configErr(name, "QueueTimeout", c.QueueTimeout, "must be at most 24h (zero means no timeout)")
	}
	return nil
}

// BulkheadOption configures a BulkheadExecutor.
type BulkheadOption func(*bulkheadOptions)

type bulkheadOptions struct {
	clock    engine.Clock
	observer engine.Observer
	def      *fsm.Definition[BulkheadState, BulkheadEvent, BulkheadData]
}

// WithBulkheadClock sets the clock that queue timeouts run on; nil means
// the real clock. Tests pass an enginetest.Clock: a call waiting in the
// queue with a QueueTimeout sleeps on it, so BlockUntilWaiters counts it.
func WithBulkheadClock(c engine.Clock) BulkheadOption {
	return func(o *bulkheadOptions) { o.clock = c }
}

// WithBulkheadObserver attaches an engine observer to the bulkhead's
// machine; it sees every step, from every caller, in order.
func WithBulkheadObserver(obs engine.Observer) BulkheadOption {
	return func(o *bulkheadOptions) { o.observer = obs }
}

// WithBulkheadDefinition makes the executor run def instead of
// BulkheadDefinition, such as a copy of it with an edge removed or a guard
// changed. The executor reads only what def's actions do (the actions of
// BulkheadDefinition, reused by name): which calls get a slot, wait, or
// are rejected. Nil means BulkheadDefinition.
func WithBulkheadDefinition(def *fsm.Definition[BulkheadState, BulkheadEvent, BulkheadData]) BulkheadOption {
	return func(o *bulkheadOptions) { o.def = def }
}
