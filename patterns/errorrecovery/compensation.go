package errorrecovery

import (
	"context"
	"encoding/json"
)

// CompensationConfig configures how compensations run: those of a saga
// (package saga, whose Config holds one) and, to come, those a workflow's
// COMPENSATE registers. Every field's zero value means its default
// (none): a zero CompensationConfig runs each compensation once, with no
// hooks. Compensations run in reverse step order.
type CompensationConfig struct {
	// CompensationActions supplies compensations by step name, for steps
	// declared with a nil undo in saga.NewStep, in the untyped form that a
	// registry of names or a config file can carry. A name must belong to a
	// step without its own undo. Nil means none.
	CompensationActions map[string]CompensationFunc
	// CompensationRetry protects each compensation, typically a
	// workflow of NewRetry (each attempt gets the same idempotency key). Nil
	// calls each compensation once.
	CompensationRetry Protector
	// OnCompensationStart, when set, is called once when a run starts
	// compensating, with the run's id and the failure that caused it
	// (saga.ErrInterrupted for a saga's recovery).
	OnCompensationStart func(id string, cause error)
	// OnCompensationComplete, when set, is called once when compensating
	// has ended, with the error the run returns (a *saga.Error for a
	// saga, in state Compensated or CompensationFailed).
	OnCompensationComplete func(id string, err error)
}

// DefaultCompensationConfig returns the defaults: no compensation
// actions by name, no compensation retry, no hooks: what a zero
// CompensationConfig means.
func DefaultCompensationConfig() CompensationConfig {
	return CompensationConfig{}
}

// Validate reports the first invalid field as a *ConfigError.
func (c *CompensationConfig) Validate() error {
	const name = "CompensationConfig"
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
