// Package enginetest provides support for testing machines run by package
// engine, in the spirit of net/http/httptest: a manual Clock, a Recorder of
// the steps a machine takes, AssertPath to compare the states it went
// through, and TestClock, a conformance check for any engine.Clock.
//
// # Waiting on the manual clock
//
// The time of a Clock moves only when a test calls Advance or AdvanceToNext.
// A simulation that runs several executions on one Clock advances it only when
// every execution is waiting on it, which BlockUntilWaiters tells. A goroutine
// counts as waiting on a Clock while it is blocked in that Clock's Sleep with:
//
//   - a duration greater than zero (Sleep with d <= 0 returns at once),
//   - a context that is not yet done, and
//   - a deadline that Advance has not yet reached.
//
// A goroutine does not count as waiting when it is:
//
//   - blocked on anything else: a channel, a mutex, the Done channel of a
//     context (even one made by engine.WithTimeout on this Clock), a real
//     timer, another Clock;
//   - woken but not yet returned from Sleep: it is runnable, and it stops
//     counting the moment Advance reaches its deadline or its context is
//     done, before it has been scheduled again.
//
// A pending AfterFunc call is not a waiter: it is a timer, counted by
// Pending together with the waiters. Drivers of package engine wait through
// their Clock's Sleep, so an execution blocked in a backoff or a queue
// timeout counts as waiting.
package enginetest
