package errorrecovery

import (
	"context"
	"encoding/json"
	"time"
)

// CompensationConfig configures a saga (the COMPENSATE strategy): how it
// records its progress, how long its steps may take, and what happens
// around its compensations. Start from DefaultCompensationConfig. Zero
// means zero or none, as each field says.
//
// The original library's use_sagas has no field: every COMPENSATE is a
// saga here, with its compensations run in reverse step order (the
// original ran compensation_actions in list order).
type CompensationConfig struct {
	// CompensationActions supplies compensations by step name, for steps
	// declared with a nil undo in NewSagaStep, in the untyped form that a
	// registry of names or a config file can carry. A name must belong to a
	// step without its own undo. Nil means none.
	CompensationActions map[string]CompensationFunc
	// SaveState makes the saga durable: before each side effect (a step's
	// action or a compensation) it appends to Journal what it is about to
	// do, and after it what happened, so that Recover can finish the saga
	// after a crash. It requires Journal. False (the default, since there
	// is no journal to default to) records nothing.
	SaveState bool
	// Journal is where a saga with SaveState records its progress: an
	// errorrecovery.MemoryJournal in tests, a sqlitejournal.Journal for
	// durability across processes. It must be set if and only if SaveState
	// is.
	Journal Journal
	// SagaTimeout bounds the forward steps of one run on the saga's
	// clock: a step that is running when it passes sees its context end,
	// no step starts after it, and the steps that took effect are
	// compensated. Compensations are not bounded by it. Zero means none.
	// At most 7 days (168h): a saga's steps may wait on people or on
	// batch jobs, so its bound is longer than a workflow's 24h.
	SagaTimeout time.Duration
	// CompensationRetry protects each compensation, typically a
	// *RetryExecutor (each attempt gets the same idempotency key). Nil
	// calls each compensation once.
	CompensationRetry Protector
	// OnCompensationStart, when set, is called once when a run starts
	// compensating, with the saga's id and the failure that caused it
	// (ErrSagaInterrupted for a recovery).
	OnCompensationStart func(id string, cause error)
	// OnCompensationComplete, when set, is called once when compensating
	// has ended, in state Compensated or CompensationFailed, with the
	// error the run returns.
	OnCompensationComplete func(id string, result *SagaError)
}

// DefaultCompensationConfig returns the original library's defaults that
// apply here: a 300 s saga timeout, no journal, no compensation retry.
func DefaultCompensationConfig() CompensationConfig {
	return CompensationConfig{SagaTimeout: 300 * time.Second}
}

// maxSagaTimeout bounds CompensationConfig.SagaTimeout.
const maxSagaTimeout = 7 * 24 * time.Hour

// Validate reports the first invalid field as a *ConfigError.
func (c *CompensationConfig) Validate() error {
	const name = "CompensationConfig"
	switch {
	case c.SagaTimeout < 0:
		return configErr(name, "SagaTimeout", c.SagaTimeout, "must not be negative (zero means none)")
	case c.SagaTimeout > maxSagaTimeout:
		return configErr(name, "SagaTimeout", c.SagaTimeout, "must be at most 168h (7 days; zero means none)")
	case c.SaveState && c.Journal == nil:
		return configErr(name, "Journal", "nil", "SaveState needs a Journal")
	case !c.SaveState && c.Journal != nil:
		return configErr(name, "SaveState", false, "a Journal is set: set SaveState to use it")
	}
	for step, fn := range c.CompensationActions {
		if fn == nil {
			return configErr(name, "CompensationActions", step, "the compensation is nil")
		}
	}
	return nil
}

// CompensationFunc is a compensation in untyped form, for
// CompensationConfig.CompensationActions.
type CompensationFunc func(ctx context.Context, c Compensation) error

// Compensation is what an untyped compensation is given: the step, its
// idempotency key, and its output and the saga's state as JSON.
type Compensation struct {
	// Saga is the saga's name and ID the run's id.
	Saga, ID string
	// Step is the name of the step to undo.
	Step string
	// Key is the compensation's idempotency key.
	Key string
	// Output is the step's recorded output; JSON null when the step's
	// outcome was unknown and it was treated as done.
	Output json.RawMessage
	// State is the saga's state.
	State json.RawMessage
}
