package config

import (
	"fmt"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// The sections of the limits of the per-call machine: rate_limit
// (RATE_LIMIT), budget (BUDGET) and adaptive_limit (ADAPTIVE_LIMIT); and
// hedge (HEDGE), the attempts it starts beside a slow one. As in every
// section, a 0 means the default and a negative value "none".

type rateLimitFile struct {
	Permits *int    `yaml:"permits"`
	Period  *string `yaml:"period"`
	Mode    *string `yaml:"mode"`
	Burst   *int    `yaml:"burst"`
	MaxWait *string `yaml:"max_wait"`
}

type budgetFile struct {
	Ratio        *float64 `yaml:"ratio"`
	MinPerSecond *int     `yaml:"min_per_second"`
	Window       *string  `yaml:"window"`
}

type adaptiveLimitFile struct {
	InitialLimit *int     `yaml:"initial_limit"`
	MinLimit     *int     `yaml:"min_limit"`
	MaxLimit     *int     `yaml:"max_limit"`
	Smoothing    *float64 `yaml:"smoothing"`
	Window       *string  `yaml:"window"`
	MinSamples   *int     `yaml:"min_samples"`
	ProbeEvery   *int     `yaml:"probe_every"`
}

type hedgeFile struct {
	Delay     *string `yaml:"delay"`
	MaxHedges *int    `yaml:"max_hedges"`
}

// hedge reads the hedge section.
func hedge(p *parsing, f *hedgeFile) *errorrecovery.HedgeConfig {
	c := errorrecovery.DefaultHedgeConfig()
	if f != nil {
		p.duration("hedge.delay", f.Delay, &c.Delay)
		set(&c.MaxHedges, f.MaxHedges)
	}
	p.validate(c.Validate())
	return &c
}

// rateLimit reads the rate_limit section.
func rateLimit(p *parsing, f *rateLimitFile) *ratelimit.Config {
	c := ratelimit.DefaultConfig()
	if f != nil {
		set(&c.Permits, f.Permits)
		p.duration("rate_limit.period", f.Period, &c.Period)
		if f.Mode != nil {
			switch strings.ToLower(*f.Mode) {
			case "smooth":
				c.Mode = ratelimit.ModeSmooth
			case "bursty":
				c.Mode, c.Burst = ratelimit.ModeBursty, 0 // a window's permits are its burst
			default:
				p.configErr(&errorrecovery.ConfigError{Config: "ratelimit.Config", Field: "Mode", Value: fmt.Sprintf("%q", *f.Mode),
					Reason: "must be smooth or bursty"})
			}
		}
		set(&c.Burst, f.Burst)
		p.duration("rate_limit.max_wait", f.MaxWait, &c.MaxWait)
	}
	p.validate(c.Validate())
	return &c
}

// retryBudget reads the budget section.
func retryBudget(p *parsing, f *budgetFile) *budget.Config {
	c := budget.DefaultConfig()
	if f != nil {
		set(&c.Ratio, f.Ratio)
		set(&c.MinPerSecond, f.MinPerSecond)
		p.duration("budget.window", f.Window, &c.Window)
	}
	p.validate(c.Validate())
	return &c
}

// adaptiveLimit reads the adaptive_limit section.
func adaptiveLimit(p *parsing, f *adaptiveLimitFile) *adaptive.Config {
	c := adaptive.DefaultConfig()
	if f != nil {
		set(&c.InitialLimit, f.InitialLimit)
		set(&c.MinLimit, f.MinLimit)
		set(&c.MaxLimit, f.MaxLimit)
		set(&c.Smoothing, f.Smoothing)
		p.duration("adaptive_limit.window", f.Window, &c.Window)
		set(&c.MinSamples, f.MinSamples)
		set(&c.ProbeEvery, f.ProbeEvery)
		if f.InitialLimit == nil && (f.MinLimit != nil || f.MaxLimit != nil) {
			// The default initial limit, 20, within the bounds given.
			c.InitialLimit = 0
		}
	}
	p.validate(c.Validate())
	return &c
}
