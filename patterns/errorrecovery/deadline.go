package errorrecovery

import (
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// DeadlineConfig configures the DEADLINE strategy. Every field's zero
// value means its default (DefaultDeadlineConfig's); "none" is a negative
// duration.
type DeadlineConfig struct {
	// Timeout bounds a whole execution, backoffs included. Zero means the
	// default, 300s; a negative value means none. At most 24h.
	Timeout time.Duration
	// AttemptTimeout bounds each attempt; an attempt gets the smaller of it
	// and the time left. An attempt that times out is retried like any
	// transient error, and so is one that returns a result (not an error)
	// at or after its timeout: the late result is dropped and counts as
	// the attempt's context.DeadlineExceeded. Zero (or a negative value)
	// means none, the default. At most 24h.
	AttemptTimeout time.Duration
	// WalkAway makes an execution return at its deadline even when the
	// function ignores its context: the function runs in a goroutine of
	// its own, and its late result is dropped. A walked-away execution's
	// state is never reused. False (the default) is cooperative: the
	// function is expected to return when its context is done.
	WalkAway bool
}

// DefaultDeadlineConfig returns a 300 s overall timeout, no attempt
// timeout, cooperative: what a zero DeadlineConfig means.
func DefaultDeadlineConfig() DeadlineConfig {
	return DeadlineConfig{Timeout: 300 * time.Second}
}

// Validate reports the first invalid field as a *ConfigError.
func (c *DeadlineConfig) Validate() error {
	const name = "DeadlineConfig"
	r := c.resolved()
	switch {
	case c.Timeout > maxConfigDuration:
		return configErr(name, "Timeout", c.Timeout, "must be at most 24h (zero means 300s, a negative value none)")
	case c.AttemptTimeout > maxConfigDuration:
		return configErr(name, "AttemptTimeout", c.AttemptTimeout, "must be at most 24h (zero means none)")
	case c.WalkAway && r.Timeout == 0 && r.AttemptTimeout == 0:
		return configErr(name, "WalkAway", true, "needs a Timeout or an AttemptTimeout")
	}
	return nil
}

// Resolve returns the deadlines c describes with every field spelled
// out: a zero Timeout replaced by its default, and "none" spelled None.
// Two configs that resolve equal behave alike. An invalid c returns the
// error Validate reports.
func (c *DeadlineConfig) Resolve() (DeadlineConfig, error) {
	if err := c.Validate(); err != nil {
		return DeadlineConfig{}, err
	}
	r := c.resolved()
	if r.Timeout == 0 {
		r.Timeout = None
	}
	if r.AttemptTimeout == 0 {
		r.AttemptTimeout = None
	}
	return r, nil
}

// resolved returns c with a zero Timeout replaced by its default and each
// "none" by the zero the executor reads as none.
func (c DeadlineConfig) resolved() DeadlineConfig {
	c.Timeout = setup.Or(c.Timeout, DefaultDeadlineConfig().Timeout, 0)
	c.AttemptTimeout = max(c.AttemptTimeout, 0)
	return c
}

// NewDeadline returns a workflow that calls a function once under the
// deadlines cfg sets, on the engine's clock, and keeps no metrics or
// health (see NewRetry). Execute returns fn's result and error, or a
// *TimeoutError (errors.Is context.DeadlineExceeded) when the deadline
// passed before fn returned, whatever fn returned (its late result is
// dropped); in walk-away mode it returns at the deadline whatever fn
// does. It returns the *ConfigError of the first invalid field of cfg.
func NewDeadline[T any](cfg DeadlineConfig, opts ...engine.Option) (*Workflow[T], error) {
	return newWorkflow(ErrorRecoveryConfig[T]{Name: "deadline", Primary: StrategyDeadline, Deadline: &cfg}, opts, false)
}

// walkAway runs one attempt in a goroutine of its own and waits for its
// result, its deadline on the clock, or the caller's context, whichever
// comes first. An abandoned attempt keeps its own context, so nothing it
// touches is ever reused; its late result goes into a buffered channel
// nobody reads. It also keeps the execution's bulkhead slot, if one is
// held, until its function returns: the bulkhead limits the calls running
// against the dependency, and an abandoned call still runs. A retry then
// takes a slot of its own (see build).
func (x *executor[T]) walkAway(d *execution[T], deadline instant) (T, error) {
	cc := (&callCtx{parent: d.ctx.parent, clock: x.clock}).begin(d.attempt, deadline)
	type outcome struct {
		res      T
		err      error
		panicked bool
		value    any
	}
	ch := make(chan outcome, 1)
	fn := d.fn
	// owner says who gives back the slot: the execution while the
	// function runs (walkRunning) or after it returned (walkReturned),
	// the attempt's goroutine once it was abandoned (walkAbandoned).
	var owner atomic.Int32
	bulkhead := x.bulkhead
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- outcome{panicked: true, value: r}
			}
			if !owner.CompareAndSwap(walkRunning, walkReturned) {
				bulkhead.Release() // abandoned with the slot
			}
		}()
		res, err := fn(cc)
		ch <- outcome{res: res, err: err}
	}()
	select {
	case o := <-ch:
		cc.end()
		if o.panicked {
			panic(o.value)
		}
		return o.res, o.err
	case <-engine.Quiet(cc).Done(): // the executor's own wait: not counted as the function's
		d.walked = true
		cc.disarm()
		if d.admitted && owner.CompareAndSwap(walkRunning, walkAbandoned) {
			d.admitted = false
		}
		var zero T
		return zero, cc.Err()
	}
}

// The owners of a walk-away attempt's bulkhead slot.
const (
	walkRunning int32 = iota
	walkReturned
	walkAbandoned
)
