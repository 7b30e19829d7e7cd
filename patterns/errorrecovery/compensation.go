package errorrecovery

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// CompensationConfig configures how compensations run: those of a saga
// (package saga, whose Config holds one) and those a workflow's
// COMPENSATE runs (ErrorRecoveryConfig.Compensation). Every field's zero
// value means its default: a zero CompensationConfig runs each
// compensation once, within DefaultCompensationTimeout, in reverse order,
// with no hooks.
type CompensationConfig struct {
	// CompensationActions supplies compensations by name, in the untyped
	// form that a registry of names or a config file can carry. For a
	// saga, a name is a step's, and must belong to a step declared without
	// its own undo. For a workflow, a name is an action's, registered by
	// AddCompensation with a nil undo. Nil means none.
	CompensationActions map[string]CompensationFunc
	// CompensationOrder, for a workflow, names actions in the order their
	// compensations run: the actions registered under the first name
	// first (the latest registered first), then those of the second name,
	// and so on; actions whose names it does not list run after them, in
	// reverse order of registration. Empty (the default) means reverse
	// order of registration. A saga compensates in reverse step order,
	// which its machine spells out, and refuses a CompensationOrder.
	CompensationOrder []string
	// Timeout bounds each compensation (each attempt of it, and its
	// CompensationRetry's backoffs) on the clock of the workflow or saga.
	// A compensation runs with its caller's values but not its
	// cancellation: a caller who gives up still has its effects undone.
	// Zero means DefaultCompensationTimeout (30s); None (any negative
	// value) means none. At most 24h.
	Timeout time.Duration
	// CompensationRetry protects each compensation, typically a
	// workflow of NewRetry (each attempt gets the same idempotency key). Nil
	// calls each compensation once.
	CompensationRetry Protector
	// OnCompensationStart, when set, is called once when a run starts
	// compensating, with the run's id (a workflow's name, for a
	// workflow) and the failure that caused it (saga.ErrInterrupted for a
	// saga's recovery).
	OnCompensationStart func(id string, cause error)
	// OnCompensationComplete, when set, is called once when compensating
	// has ended, with the error the run returns (a *saga.Error for a
	// saga, in state Compensated or CompensationFailed; a
	// *CompensationError for a workflow).
	OnCompensationComplete func(id string, err error)
}

// DefaultCompensationTimeout is the bound on each compensation that a zero
// CompensationConfig.Timeout means. An undo is usually one short call (a
// refund, a release); 30 seconds leaves it room for a retry or two
// without letting a stuck one hold its caller for good.
const DefaultCompensationTimeout = 30 * time.Second

// DefaultCompensationConfig returns the defaults: no compensation
// actions by name, reverse order, a 30s timeout per compensation, no
// compensation retry, no hooks: what a zero CompensationConfig means.
func DefaultCompensationConfig() CompensationConfig {
	return CompensationConfig{Timeout: DefaultCompensationTimeout}
}

// Validate reports the first invalid field as a *ConfigError.
func (c *CompensationConfig) Validate() error {
	const name = "CompensationConfig"
	for step, fn := range c.CompensationActions {
		if fn == nil {
			return configErr(name, "CompensationActions", step, "the compensation is nil")
		}
	}
	for i, n := range c.CompensationOrder {
		switch {
		case n == "":
			return configErr(name, "CompensationOrder", `""`, "a name must not be empty")
		case slices.Index(c.CompensationOrder, n) != i:
			return configErr(name, "CompensationOrder", n, "the name is listed twice")
		}
	}
	if c.Timeout > maxConfigDuration {
		return configErr(name, "Timeout", c.Timeout, "must be at most 24h (zero means 30s, negative none)")
	}
	return nil
}

// timeout returns the bound on each compensation that c.Timeout means:
// DefaultCompensationTimeout for zero, and zero (none) for a negative
// value.
func (c *CompensationConfig) timeout() time.Duration {
	return setup.Or(c.Timeout, DefaultCompensationTimeout, 0)
}

// CompensationFunc is a compensation in untyped form, for
// CompensationConfig.CompensationActions.
type CompensationFunc func(ctx context.Context, c Compensation) error

// Compensation is what an untyped compensation is given: the action
// (a saga's step, or an action a workflow's function registered), its
// idempotency key and, for a saga, its output and the saga's state as
// JSON.
type Compensation struct {
	// Saga is the saga's name and ID the run's id. For a workflow, Saga
	// is the workflow's name and ID is empty.
	Saga, ID string
	// Step is the name of the step (or action) to undo.
	Step string
	// Key is the compensation's idempotency key: for a workflow, the key
	// the action was registered with.
	Key string
	// Output is the step's recorded output; JSON null when the step's
	// outcome was unknown and it was treated as done. Nil for a workflow.
	Output json.RawMessage
	// State is the saga's state. Nil for a workflow.
	State json.RawMessage
}
