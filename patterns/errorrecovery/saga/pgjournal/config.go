package pgjournal

import (
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// Config configures a Journal's leases. A zero Config is the default:
// each zero field means its default, as the field says.
type Config struct {
	// Owner names this replica in the leases it takes, in errors and in
	// the owner column of saga_journal_sagas, such as a host or pod name.
	// The journal adds "#" and a random suffix (see Journal.Owner), so two
	// journals never share an owner id, even with one name or across a
	// restart. Empty means the host name and the process id.
	Owner string
	// LeaseDuration is how long a lease lasts after it was taken or last
	// renewed: how long a saga whose replica died waits before another
	// replica may claim it. Zero means 30 s.
	LeaseDuration time.Duration
	// RenewEvery is how often the journal renews the leases it holds,
	// while it holds any. It must be less than LeaseDuration, with room
	// for a slow database round trip. Zero means a third of LeaseDuration.
	RenewEvery time.Duration
	// ClaimLimit caps how many sagas one Incomplete (so one Recover)
	// claims, so that replicas share a backlog. Zero means no cap.
	ClaimLimit int
	// Clock is the clock leases are measured on. Replicas' clocks must
	// agree to well within LeaseDuration. Nil means engine.RealClock{};
	// tests pass an enginetest.Clock.
	Clock engine.Clock
}

// DefaultConfig returns the defaults: a 30 s lease renewed every 10 s, no
// claim limit, the real clock, an owner id made of the host name and the
// process id.
func DefaultConfig() Config {
	return Config{LeaseDuration: 30 * time.Second, RenewEvery: 10 * time.Second}
}

// Validate reports the first invalid field as an
// *errorrecovery.ConfigError.
func (c *Config) Validate() error {
	bad := func(field string, value any, reason string) error {
		return &er.ConfigError{Config: "pgjournal.Config", Field: field, Value: fmt.Sprint(value), Reason: reason}
	}
	d := c.withDefaults()
	switch {
	case c.LeaseDuration < 0:
		return bad("LeaseDuration", c.LeaseDuration, "must not be negative (zero means 30s)")
	case c.RenewEvery < 0:
		return bad("RenewEvery", c.RenewEvery, "must not be negative (zero means a third of LeaseDuration)")
	case d.RenewEvery >= d.LeaseDuration:
		return bad("RenewEvery", d.RenewEvery, fmt.Sprintf("must be less than LeaseDuration (%v)", d.LeaseDuration))
	case c.ClaimLimit < 0:
		return bad("ClaimLimit", c.ClaimLimit, "must not be negative (zero means no limit)")
	}
	return nil
}

// withDefaults returns c with each zero field set to its default.
func (c Config) withDefaults() Config {
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 30 * time.Second
	}
	if c.RenewEvery == 0 {
		c.RenewEvery = c.LeaseDuration / 3
	}
	if c.Clock == nil {
		c.Clock = engine.RealClock{}
	}
	return c
}
