package cli

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// scheduleStream is the PCG stream the schedule's draws come from, the one
// the simulation's jitter uses (sim.Run).
const scheduleStream = 3

// renderSchedule prints the backoff schedule of the retry of the built-in
// machine name ("retry" or "workflow") or of the config file: what
// Workflow.Schedule lists, with the random formulas drawing from seed.
func renderSchedule(env *Env, name, file string, seed uint64) int {
	var (
		source string
		data   []byte
	)
	switch name {
	case "retry":
		w, err := errorrecovery.NewRetry(errorrecovery.DefaultRetryConfig[any]())
		if err != nil {
			return fail(env, "render", err)
		}
		def := errorrecovery.DefaultRetryConfig[any]()
		return writeSchedule(env, "DefaultRetryConfig", &def, w, seed)
	case "workflow":
		source, data = demoConfigName, demoConfig
	case "":
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return fail(env, "render", err)
		}
		source = file
	}
	cfg, ok := parseConfig(env, "render", source, data)
	if !ok {
		return ExitFail
	}
	w, err := errorrecovery.NewWorkflow(cfg)
	if err != nil {
		return fail(env, "render", err)
	}
	if b := w.Breaker(); b != nil {
		defer b.Close()
	}
	var retry *errorrecovery.RetryConfig[any]
	if slices.Contains(strategyNames(cfg), errorrecovery.StrategyRetry.String()) {
		retry = cfg.Retry
		if retry == nil {
			def := errorrecovery.DefaultRetryConfig[any]()
			retry = &def
		}
	}
	return writeSchedule(env, source, retry, w, seed)
}

// writeSchedule prints w's schedule under a header naming source and
// retry's settings (nil when RETRY does not take part).
func writeSchedule(env *Env, source string, retry *errorrecovery.RetryConfig[any], w *errorrecovery.Workflow[any], seed uint64) int {
	var b strings.Builder
	if retry == nil {
		fmt.Fprintf(&b, "# %s: RETRY does not take part: one attempt, no backoff\n", source)
		return write(env, b.String())
	}
	r, err := retry.Resolve()
	if err != nil {
		return fail(env, "render", err)
	}
	delays := w.Schedule(rand.New(rand.NewPCG(seed, scheduleStream)).Float64)
	fmt.Fprintf(&b, "# %s: %s, %s\n", source, r.Backoff, plural(len(delays)+1, "attempt"))
	fmt.Fprintf(&b, "# %s\n", retrySettings(r, seed))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "after attempt\tdelay\ttotal")
	var total time.Duration
	for i, d := range delays {
		total += d
		fmt.Fprintf(tw, "%d\t%v\t%v\n", i+1, d, total)
	}
	tw.Flush()
	return write(env, b.String())
}

// retrySettings names the settings of r, resolved, that its formula
// reads, and the seed when it draws.
func retrySettings(r errorrecovery.RetryConfig[any], seed uint64) string {
	if r.InitialDelay < 0 {
		return "initial delay none: every retry at once"
	}
	parts := []string{"initial delay " + r.InitialDelay.String()}
	switch r.Backoff {
	case errorrecovery.BackoffExponential, errorrecovery.BackoffJitter, errorrecovery.BackoffFullJitter, errorrecovery.BackoffEqualJitter:
		parts = append(parts, "multiplier "+strconv.FormatFloat(r.Multiplier, 'g', -1, 64))
	}
	if r.Backoff == errorrecovery.BackoffJitter {
		if r.JitterRange < 0 {
			parts = append(parts, "no jitter")
		} else {
			parts = append(parts, "jitter range "+strconv.FormatFloat(r.JitterRange, 'g', -1, 64))
		}
	}
	if r.MaxDelay < 0 {
		parts = append(parts, "no max delay")
	} else {
		parts = append(parts, "max delay "+r.MaxDelay.String())
	}
	s := strings.Join(parts, ", ")
	switch r.Backoff {
	case errorrecovery.BackoffJitter, errorrecovery.BackoffFullJitter, errorrecovery.BackoffEqualJitter, errorrecovery.BackoffDecorrelated:
		if r.Backoff != errorrecovery.BackoffJitter || r.JitterRange >= 0 {
			s += "; drawn from seed " + strconv.FormatUint(seed, 10)
		}
	}
	return s
}

// scheduleUsage checks the flags given with --schedule: it prints text,
// so --format and --highlight do not apply, and only the built-in
// machines with a retry, or a config file, have a schedule.
func scheduleUsage(name string, explicit map[string]bool) string {
	for _, f := range []string{"format", "highlight"} {
		if explicit[f] {
			return fmt.Sprintf("--schedule prints the backoff delays as text: --%s does not apply", f)
		}
	}
	if name != "" && name != "retry" && name != "workflow" {
		return fmt.Sprintf("--schedule lists a retry's delays: %q has none (give retry, workflow or -f CONFIG)", name)
	}
	return ""
}
