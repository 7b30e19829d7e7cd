// Package bench will compare statecraft side by side with its peers
// (looplab/fsm, qmuntal/stateless, sony/gobreaker, failsafe-go, retry-go)
// on the same machines: a two-state toggle, a circuit breaker closed and
// open, a retry whose first attempt succeeds, and layered policies.
//
// It is a separate Go module so that the peers never become dependencies of
// the main module; a replace directive points it at the statecraft in this
// repository. There are no benchmarks yet. Run them, once they exist, with
//
//	make bench
//
// or "go test -run=NONE -bench=. -benchmem ./..." in this folder.
package bench
