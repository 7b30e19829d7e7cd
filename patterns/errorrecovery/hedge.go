package errorrecovery

import "time"

// HedgeConfig configures HEDGE: when an attempt has given no answer after
// Delay, another attempt of the same round starts beside it, up to
// MaxHedges more, and the first acceptable answer wins; the others'
// contexts are cancelled and their results discarded. An answer is
// acceptable when retrying would not follow it: a success, or an error
// the retry classification calls permanent (RetryConfig.RetryOn,
// PermanentOn, RetryOnResult and the workflow's error lists). A
// retryable failure waits for the attempts still running; a round whose
// attempts all failed is one failed attempt, which RETRY may retry.
// docs/hedge.md gives the reasons.
//
// Every field's zero value means its default (DefaultHedgeConfig's).
type HedgeConfig struct {
	// Delay is how long an attempt (and then each hedge) runs with no
	// acceptable answer before the next hedge starts, on the workflow's
	// clock. Zero means the default, 2s (Polly's); None (any negative
	// value) means no delay: every hedge starts at once, beside the first
	// attempt. At most 24h.
	Delay time.Duration
	// MaxHedges is the number of attempts a round may start beside its
	// first. Zero means the default, 1 (failsafe-go's and Polly's); at
	// most 100.
	MaxHedges int
}

// DefaultHedgeConfig returns a delay of 2s and one hedge: what a zero
// HedgeConfig means.
func DefaultHedgeConfig() HedgeConfig {
	return HedgeConfig{Delay: 2 * time.Second, MaxHedges: 1}
}

// maxHedges bounds HedgeConfig.MaxHedges: each hedge is a goroutine and a
// call of the dependency.
const maxHedges = 100

// Validate reports the first invalid field as a *ConfigError.
func (c *HedgeConfig) Validate() error {
	const name = "HedgeConfig"
	switch {
	case c.Delay > maxConfigDuration:
		return configErr(name, "Delay", c.Delay, "must be at most 24h (zero means 2s, a negative value no delay)")
	case c.MaxHedges < 0:
		return configErr(name, "MaxHedges", c.MaxHedges, "must not be negative (zero means 1)")
	case c.MaxHedges > maxHedges:
		return configErr(name, "MaxHedges", c.MaxHedges, "must be at most 100 (zero means 1)")
	}
	return nil
}

// setHedge sets x's HEDGE from cfg, when named or given: its config
// resolved, and MaxTotalAttempts, which hedges count against.
func (x *executor[T]) setHedge(cfg *ErrorRecoveryConfig[T]) error {
	if !cfg.names(StrategyHedge) && cfg.Hedge == nil {
		return nil
	}
	hc := DefaultHedgeConfig()
	if cfg.Hedge != nil {
		hc = *cfg.Hedge
	}
	if err := hc.Validate(); err != nil {
		return err
	}
	hc = hc.resolved()
	x.hedge, x.maxCalls = &hc, cfg.MaxTotalAttempts
	return nil
}

// resolved returns c with zero fields replaced by their defaults and a
// delay of None by zero.
func (c HedgeConfig) resolved() HedgeConfig {
	d := DefaultHedgeConfig()
	if c.Delay == 0 {
		c.Delay = d.Delay
	}
	c.Delay = max(c.Delay, 0)
	if c.MaxHedges == 0 {
		c.MaxHedges = d.MaxHedges
	}
	return c
}
