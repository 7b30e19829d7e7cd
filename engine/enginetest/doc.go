// Package enginetest provides support for testing machines run by package
// engine, in the spirit of net/http/httptest: a manual Clock, a Recorder of
// the steps a machine takes, assertions on the states it went through
// (AssertPath, AssertVisited, AssertState), and TestClock, a conformance
// check for any engine.Clock.
//
// # Assertions
//
// The assertions are written to sit among testify's: each takes a
// TestingT (a *testing.T will do), reports a failure through Errorf and
// lets the test go on, and returns whether it held, so a test can stop
// with require.True when what follows depends on it. A failure message
// names the assertion and the machine, and shows a cmp.Diff (-want +got).
// A test of a door that closes itself after 30 seconds:
//
//	func TestDoorClosesItself(t *testing.T) {
//		clock := enginetest.NewClock(time.Time{})
//		rec := &enginetest.Recorder{}
//		door, err := engine.NewInstance(doorDef, struct{}{},
//			engine.WithClock(clock), engine.WithObserver(rec))
//		require.NoError(t, err)
//		defer door.Close()
//
//		_, err = door.Fire(t.Context(), "open")
//		require.NoError(t, err)
//		clock.Advance(30 * time.Second) // runs the timer, in this goroutine
//
//		enginetest.AssertState(t, door, "Closed")
//		enginetest.AssertPath(t, rec, "Closed", "Open", "Closed")
//		assert.Equal(t, "after 30s", rec.Records[1].Event)
//	}
//
// AssertPath checks every step; AssertVisited checks that the path went
// through some states in order, whatever came between, for a path whose
// length the test does not pin (the number of retries, say).
//
// # Waiting on the manual clock
//
// The time of a Clock moves only when a test calls Advance or AdvanceToNext.
// A simulation that runs several executions on one Clock advances it only when
// every execution is waiting on it, which BlockUntilWaiters tells. The
// Clock counts two kinds of waiters.
//
// A goroutine blocked in the Clock's Sleep counts as one while it has:
//
//   - a duration greater than zero (Sleep with d <= 0 returns at once),
//   - a context that is not yet done, and
//   - a deadline that Advance has not yet reached.
//
// A context whose deadline runs on the Clock counts as one from the first
// time code asks for its Done channel until the channel is closed (the
// deadline passed, or the context was cancelled or its parent ended). Such
// contexts are those of engine.WithTimeout and engine.WithDeadline on the
// Clock, and the contexts patterns/errorrecovery gives a function for an
// attempt with a deadline (GlobalTimeout, AttemptTimeout). Code asks for
// Done to block on it, and no goroutine can be seen blocked on a channel,
// so the asking is what is counted (engine.DoneCounter):
//
//   - a context counts once, however many goroutines wait on it;
//   - it counts from the ask, whether or not the asker then blocks: a
//     select with a default case, a context derived from it by package
//     context (which asks its parent for Done), and net/http (which asks
//     for the request's) count too, until the context is done. Check with
//     Err instead, and cancel a context made for a wait once the wait is
//     over;
//   - statecraft's own waits and links never count a context: Sleep, a
//     backoff or a bulkhead queue asleep on the Clock counts as that
//     sleeper alone, deriving one context from another does not ask the
//     parent, and BlockUntilWaiters does not count the context it is
//     given to give up by (they go through engine.Quiet).
//
// A goroutine does not count as waiting when it is:
//
//   - blocked on anything else: a channel, a mutex, the Done channel of a
//     context whose deadline does not run on this Clock (context.WithTimeout
//     runs on wall time), a real timer, another Clock;
//   - woken but not yet returned from Sleep: it is runnable, and it stops
//     counting the moment Advance reaches its deadline or its context is
//     done, before it has been scheduled again.
//
// A pending AfterFunc call is not a waiter: it is a timer, counted by
// Pending together with the sleepers. Drivers of package engine wait
// through their Clock's Sleep, so an execution blocked in a backoff or a
// queue timeout counts as waiting; the function of an execution with a
// deadline counts once it blocks on its context.
package enginetest
