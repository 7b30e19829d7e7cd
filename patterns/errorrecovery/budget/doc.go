// Package budget provides a retry budget: a shared machine that allows
// retries only while they stay under a share of the recent executions,
// plus a small minimum per second, so that the callers of a dependency
// cannot, together, turn its outage into a retry storm.
//
//	b, err := budget.New(budget.Config{}) // Finagle's: a fifth of the executions of the last 10s, plus 10 a second
//	if err != nil {
//		return err
//	}
//	defer b.Close()
//
//	b.Deposit() // before each execution
//	...
//	if err := b.Withdraw(); err != nil { // before each retry
//		return err // errors.Is(err, budget.ErrExhausted): stop retrying, fall back
//	}
//
// # Semantics
//
// The budget is Finagle's RetryBudget: it holds Ratio of the executions
// recorded in its window, plus MinPerSecond times the window's seconds,
// less the retries spent in the window; a retry is allowed while that is
// at least one. Executions and retries count for Window (10s by
// default), in 10 slices: one recorded now stops counting when its slice
// is ten slices old, so after between nine tenths of Window and Window.
// Ratio is kept to a millionth and the arithmetic is fixed-point, so the
// threshold is exact. failsafe-go's Budget limits something else, the
// share of retries among the executions in flight at once;
// docs/budget.md says why statecraft follows Finagle.
//
// # The machine
//
// A Budget is an engine.Instance of Definition, with two states:
// StateAvailable, and StateExhausted once a retry has been refused, until
// an execution or the ageing of old retries makes room for one (a
// delayed transition on the clock). Withdraw is a step of the machine,
// so the check and the spend are one, except that a retry asked for while
// the budget is Exhausted with no room is refused with no lock; Deposit
// counts the execution with one compare-and-swap and fires only when the
// budget is Exhausted and the execution makes room. The budget can be
// drawn (Definition().Dot(), "statecraft render budget"), watched
// (engine.WithObserver) and changed (engine.WithDefinition).
//
// # Errors
//
// A refused retry gets the budget's *ExhaustedError, which matches
// ErrExhausted and is made once per Budget, so refusing allocates
// nothing. A refused retry should end the retrying, not the call: its
// fallback still applies. An invalid Config is an
// *errorrecovery.ConfigError naming the field.
//
// # Clock
//
// The window runs on the budget's clock, the real one unless
// engine.WithClock gives another; on an enginetest.Clock it is exact to
// the nanosecond. The budget starts no goroutine of its own.
package budget
