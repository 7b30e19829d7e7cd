package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

const validateAbout = `validate checks a workflow config file (YAML or JSON) against the schema
in docs/cli.md and builds the workflow it describes, as NewWorkflow would.
It prints "FILE: ok" and the strategies that take part when the file is
valid (exit status 0); otherwise it prints each problem to standard error
as FILE:LINE:COLUMN: KEY: PROBLEM (exit status 1).`

// runValidate implements "statecraft validate".
func runValidate(args []string, env *Env) int {
	fs := newFlagSet("validate -f CONFIG", validateAbout)
	file := fs.String("f", "", "the config `file` to check (required)")
	if code, ok := parseWithConfig(fs, args, env, file); !ok {
		return code
	}
	cfg, err := config.ReadFile[any](*file)
	if err != nil {
		if es, ok := errors.AsType[config.Errors](err); ok {
			fmt.Fprintln(env.Stderr, es.Error())
			fmt.Fprintf(env.Stderr, "statecraft validate: %s: %s\n", *file, plural(len(es), "problem"))
			return ExitFail
		}
		return fail(env, "validate", err)
	}
	return write(env, fmt.Sprintf("%s: ok (%s)\n", *file, strings.Join(strategyNames(cfg), ", ")))
}

// strategyNames lists the strategies that take part in cfg, in layer
// order, outermost first.
func strategyNames(cfg errorrecovery.ErrorRecoveryConfig[any]) []string {
	names := func(s errorrecovery.Strategy) bool {
		if cfg.Primary == s {
			return true
		}
		for _, t := range cfg.Secondary {
			if t == s {
				return true
			}
		}
		return false
	}
	var out []string
	for _, s := range []struct {
		s     errorrecovery.Strategy
		given bool
	}{
		{errorrecovery.StrategyCache, cfg.Cache != nil},
		{errorrecovery.StrategyBulkhead, cfg.Bulkhead != nil},
		{errorrecovery.StrategyDeadline, cfg.Deadline != nil || cfg.GlobalTimeout > 0},
		{errorrecovery.StrategyHedge, cfg.Hedge != nil},
		{errorrecovery.StrategyRetry, cfg.Retry != nil},
		{errorrecovery.StrategyBudget, cfg.Budget != nil},
		{errorrecovery.StrategyCircuitBreaker, cfg.Breaker != nil},
		{errorrecovery.StrategyRateLimit, cfg.RateLimit != nil},
		{errorrecovery.StrategyAdaptiveLimit, cfg.AdaptiveLimit != nil},
		{errorrecovery.StrategyFallback, cfg.Fallback != nil},
	} {
		if s.given || names(s.s) {
			out = append(out, s.s.String())
		}
	}
	if len(out) == 0 {
		// An empty config is the default one, RETRY.
		out = append(out, errorrecovery.StrategyRetry.String())
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// readConfig reads a config file for simulate, reporting its problems as
// validate does. config.ReadFile keeps the limits of config files.
func readConfig(env *Env, cmd, file string) (errorrecovery.ErrorRecoveryConfig[any], bool) {
	cfg, err := config.ReadFile[any](file)
	return cfg, configOK(env, cmd, file, err)
}

func parseConfig(env *Env, cmd, name string, data []byte) (errorrecovery.ErrorRecoveryConfig[any], bool) {
	cfg, err := config.Parse[any](name, data)
	return cfg, configOK(env, cmd, name, err)
}

// configOK reports err, an error of config.ReadFile or Parse, and
// whether there was none.
func configOK(env *Env, cmd, name string, err error) bool {
	if err != nil {
		if es, ok := errors.AsType[config.Errors](err); ok {
			fmt.Fprintln(env.Stderr, es.Error())
			fmt.Fprintf(env.Stderr, "statecraft %s: %s: %s\n", cmd, name, plural(len(es), "problem"))
		} else {
			fail(env, cmd, err)
		}
		return false
	}
	return true
}
