package saga

import "sync/atomic"

// Metrics are a saga's counters since it was made: its runs, their steps
// and compensations, and the recoveries Recover ran of it. Each is
// counted where the machine does the thing, with an atomic, so reading
// them takes no lock and a run allocates nothing for them.
type Metrics struct {
	// Runs counts calls of Run that started a run (Map's "attempts", as
	// the original library counted executions); Succeeded those that ended
	// in Done ("successes"); Failed those that returned an error
	// ("failures"). A run that panicked is in neither of the last two.
	Runs, Succeeded, Failed int64
	// RolledBack counts runs and recoveries that began compensating
	// (Map's "compensations": the original counted the executions that
	// compensated, not each compensation).
	RolledBack int64
	// StepsRun counts the steps started: each step's action called once
	// per run, through its Protector when it has one (which may call it
	// several times, or reject it without calling it); StepsFailed those
	// that failed (the run then compensates).
	StepsRun, StepsFailed int64
	// CompensationsRun counts the compensations called, in runs and
	// recoveries, once per step undone whatever retries
	// CompensationRetry made; CompensationsFailed those that failed and
	// stay owed. A resolve hook that fails is in neither: no
	// compensation was called.
	CompensationsRun, CompensationsFailed int64
	// Recoveries counts the sagas of this name Recover tried to finish;
	// RecoveriesFailed those it left incomplete (Recovery.Err not nil).
	Recoveries, RecoveriesFailed int64
}

// Map returns the metrics as a map keyed by snake-case names: the
// original library's "attempts" (Runs), "successes", "failures" and
// "compensations" (RolledBack), and "steps_run", "steps_failed",
// "compensations_run", "compensations_failed", "recoveries" and
// "recoveries_failed". It has no "fallbacks": a saga has none.
func (m Metrics) Map() map[string]any {
	return map[string]any{
		"attempts": m.Runs, "successes": m.Succeeded, "failures": m.Failed, "compensations": m.RolledBack,
		"steps_run": m.StepsRun, "steps_failed": m.StepsFailed,
		"compensations_run": m.CompensationsRun, "compensations_failed": m.CompensationsFailed,
		"recoveries": m.Recoveries, "recoveries_failed": m.RecoveriesFailed,
	}
}

// sagaStats holds a saga's counters, one atomic per field of Metrics.
type sagaStats struct {
	runs, succeeded, failed, rolledBack atomic.Int64
	stepsRun, stepsFailed               atomic.Int64
	undosRun, undosFailed               atomic.Int64
	recoveries, recoveriesFailed        atomic.Int64
}

// Metrics returns the saga's counters.
func (s *Saga[T]) Metrics() Metrics {
	c := &s.stats
	return Metrics{
		Runs: c.runs.Load(), Succeeded: c.succeeded.Load(), Failed: c.failed.Load(), RolledBack: c.rolledBack.Load(),
		StepsRun: c.stepsRun.Load(), StepsFailed: c.stepsFailed.Load(),
		CompensationsRun: c.undosRun.Load(), CompensationsFailed: c.undosFailed.Load(),
		Recoveries: c.recoveries.Load(), RecoveriesFailed: c.recoveriesFailed.Load(),
	}
}

// ended counts the outcome of a run that returned err.
func (c *sagaStats) ended(err error) {
	if err != nil {
		c.failed.Add(1)
	} else {
		c.succeeded.Add(1)
	}
}
