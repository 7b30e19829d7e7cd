package errorrecovery

import (
	"context"
	"fmt"

	"github.com/statecraft/statecraft/engine"
)

// The states of the per-call machine that ask the limiters (RATE_LIMIT,
// ADAPTIVE_LIMIT) for each attempt, and the retry budget (BUDGET) for each
// retry. Like the breaker's CheckCircuit, each is a choice state whose
// function returns the event the machine leaves by. A rejection by a
// limiter is not retried: it goes to the fallback, as the breaker's does,
// since retrying a call the limiter has just refused would only ask it
// again; and it gives back what the layers before it took (the breaker's
// permit, dropped without an outcome), so that a rejection consumes no
// other layer's permit. The one exception is the rate permit an adaptive
// rejection follows: a rate permit is spent when given and nobody gives
// it back (package ratelimit).

// takeRate is the RateLimit state: reserve a rate permit due within the
// limiter's MaxWait and before the overall deadline, and sleep on the
// workflow's clock until it is due.
func (x *executor[T]) takeRate(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	r, err := x.rate.ReserveBefore(d.deadline.time())
	if err != nil {
		d.drop()
		d.err = err
		if x.stats.counting() {
			x.stats.rejections.Add(1)
		}
		return eventLimited, nil
	}
	if r.Delay() > 0 {
		d.waited = true
		if err := engine.SleepUntil(x.clock, d.ctx.parent, r.Time()); err != nil {
			// The caller gave up while waiting: no rejection, and the
			// permit is spent all the same.
			d.drop()
			d.err = err
			return eventPermanent, nil
		}
	}
	return eventAllowed, nil
}

// takeLimit is the AdaptiveLimit state: take a permit of the adaptive
// limiter, which the attempt finishes with its outcome and latency.
func (x *executor[T]) takeLimit(ctx context.Context, m callMachine[T]) (callEvent, error) {
	d := m.Data()
	x = d.x // the key's executor with PerKey (see execution.x)
	p, err := x.adaptive.Acquire()
	if err != nil {
		d.drop()
		d.err = err
		if x.stats.counting() {
			x.stats.rejections.Add(1)
		}
		return eventLimited, nil
	}
	d.limit, d.limited = p, true
	return eventAllowed, nil
}

// withdraw asks the retry budget for the next attempt, in the Retry
// state; a refusal settles the execution's error.
func (x *executor[T]) withdraw(d *execution[T]) bool {
	err := x.budget.Withdraw()
	if err == nil {
		return true
	}
	d.final = &BudgetError{Attempts: d.attempt, Last: d.err, Budget: err}
	return false
}

// refused is the action of Retry → Exhausted (or Fallback) when the budget
// refused the next attempt: the attempts are over.
func (x *executor[T]) refused(ctx context.Context, m callMachine[T]) error {
	d := m.Data()
	if x.stats.counting() {
		x.stats.retriesRefused.Add(1)
	}
	if x.retry.OnFailure != nil {
		x.retry.OnFailure(d.final)
	}
	return nil
}

// BudgetError reports that the retry budget (BUDGET) refused another
// attempt after Attempts had failed, which ended the retrying: too many
// retries among the recent executions of every workflow sharing the
// budget. It matches ErrExhausted, since the retries allowed are spent,
// and unwraps to the budget's refusal (errors.Is budget.ErrExhausted) and
// to the last attempt's error. A fallback answers it as it answers an
// *ExhaustedError.
type BudgetError struct {
	// Attempts is the number of attempts made.
	Attempts int
	// Last is the last attempt's error.
	Last error
	// Budget is the budget's refusal, a *budget.ExhaustedError.
	Budget error
}

// Error names the attempts, the budget and the last error.
func (e *BudgetError) Error() string {
	return fmt.Sprintf("errorrecovery: retry refused by the budget after %s (%v), last: %v", attempts(e.Attempts), e.Budget, e.Last)
}

// Unwrap returns the budget's refusal and the last attempt's error.
func (e *BudgetError) Unwrap() []error { return []error{e.Budget, e.Last} }

// Is matches ErrExhausted.
func (e *BudgetError) Is(target error) bool { return target == ErrExhausted }
