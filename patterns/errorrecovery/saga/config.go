package saga

import (
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
)

// Config configures a saga: how it records its progress, how long its
// forward steps may take, and how its compensations run. Start from
// DefaultConfig. Every field's zero value means its default
// (DefaultConfig's).
type Config struct {
	// SaveState makes the saga durable: before each side effect (a step's
	// action or a compensation) it appends to Journal what it is about to
	// do, and after it what happened, so that Recover can finish the saga
	// after a crash. It requires Journal. False (the default, since there
	// is no journal to default to) records nothing.
	SaveState bool
	// Journal is where a saga with SaveState records its progress: a
	// MemoryJournal in tests, a sqlitejournal.Journal for durability
	// across processes, a pgjournal.Journal for replicas sharing one
	// database. It must be set if and only if SaveState is.
	Journal Journal
	// Timeout bounds the forward steps of one run on the saga's clock: a
	// step that is running when it passes sees its context end, no step
	// starts after it, and the steps that took effect are compensated.
	// Compensations are not bounded by it. Zero means the default, 300s;
	// errorrecovery.None (any negative value) means none. At most 7 days
	// (168h): a saga's steps may wait on people or on batch jobs, so its
	// bound is longer than a workflow's 24h.
	Timeout time.Duration
	// Compensation says how the compensations run: their retry, the
	// timeout of each (30s by default), the hooks around them, and
	// untyped compensations by step name. Its CompensationOrder must be
	// empty: a saga undoes its steps in reverse order.
	Compensation errorrecovery.CompensationConfig
}

// DefaultConfig returns the defaults, what a zero Config means: a 300 s
// saga timeout, no journal, no compensation retry.
func DefaultConfig() Config {
	return Config{Timeout: 300 * time.Second, Compensation: errorrecovery.DefaultCompensationConfig()}
}

// maxTimeout bounds Config.Timeout.
const maxTimeout = 7 * 24 * time.Hour

// Validate reports the first invalid field as an
// *errorrecovery.ConfigError.
func (c *Config) Validate() error {
	const name = "saga.Config"
	switch {
	case c.Timeout > maxTimeout:
		return configErr(name, "Timeout", c.Timeout, "must be at most 168h (7 days; zero means 300s)")
	case c.SaveState && c.Journal == nil:
		return configErr(name, "Journal", "nil", "SaveState needs a Journal")
	case !c.SaveState && c.Journal != nil:
		return configErr(name, "SaveState", false, "a Journal is set: set SaveState to use it")
	case len(c.Compensation.CompensationOrder) > 0:
		return configErr("CompensationConfig", "CompensationOrder", c.Compensation.CompensationOrder,
			"a saga compensates in reverse step order, as its machine spells out; the order is for a workflow's COMPENSATE")
	}
	return c.Compensation.Validate()
}

// timeout returns the run's bound of c's Timeout, or zero for none.
func (c *Config) timeout() time.Duration {
	return setup.Or(c.Timeout, DefaultConfig().Timeout, 0)
}

// configErr makes the *errorrecovery.ConfigError for an invalid value.
func configErr(config, field string, value any, reason string) *errorrecovery.ConfigError {
	return setup.Err(config, field, value, reason)
}
