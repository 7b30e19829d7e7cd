// Package bench compares statecraft side by side with its peers on the same
// work, on the same machine, in the same run:
//
//   - one transition of a two-state toggle, bare and with a guard and an
//     action: engine.Instance.Fire and engine.Run.Fire against
//     looplab/fsm's FSM.Event and qmuntal/stateless's StateMachine.Fire
//     (immediate and queued firing modes);
//   - a circuit breaker, closed (success) and open (rejection), in one
//     goroutine and in parallel: breaker.Breaker against
//     sony/gobreaker v2 and failsafe-go (its executor, and its bare
//     TryAcquirePermit/RecordSuccess);
//   - a retry whose first attempt succeeds, and one that fails twice and
//     then succeeds with zero delays: errorrecovery.NewRetry (row RetryExecutor) against
//     failsafe-go, cenkalti/backoff v5 and avast/retry-go (v4's DoWithData
//     and v5's reused Retrier);
//   - fallback+retry+breaker, and five layers (bulkhead, deadline, retry,
//     breaker, fallback), also with a function that asks for ctx.Done(), so
//     that a real timer is armed: errorrecovery.Workflow against
//     failsafe-go;
//   - how cost grows: with the number of states, with goroutines sharing a
//     breaker or a bulkhead, with the width of a breaker's time buckets and
//     the size of its count window.
//
// Every benchmark is named Benchmark<Work>[/<parameter>]/<library>-<API>,
// such as BenchmarkToggle/stateless-FireQueued, so that a row of results
// says exactly what was called. The rows of one benchmark do the same
// work; where a peer's API cannot express it exactly, the benchmark's
// comment says what differs. Each row checks its result (no error, the
// state it should be in, the number of calls made), so that a row that
// silently did less work would fail instead of looking fast.
//
// It is a separate Go module so that the peers never become dependencies
// of the main module; a replace directive points it at the statecraft in
// this repository. Run it with
//
//	make bench-compare
//
// from the repository root, which writes docs/performance.md (see
// cmd/report), or with "go test -run=NONE -bench=. -benchmem" in this
// folder. "go test" alone runs the checks in allocs_test.go: the
// allocation counts statecraft promises for its rows.
package bench
