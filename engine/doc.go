// Package engine runs the machines that package fsm defines.
//
// # Instance and Run
//
// Two drivers run a definition. An [Instance] is shared and long-lived (a
// circuit breaker, a bulkhead): safe from many goroutines, each event
// processed to completion before the next, its state and generation
// published in one atomic word that State reads without a lock. A [Run] is
// single-owner and short-lived (one call through a retry policy): no lock,
// a reused buffer for raised events, delayed transitions waited on in the
// owner's goroutine by [Run.Wait], and no allocation per execution once its
// [Runner] is warm.
//
// Fire returns the caller's own [Result]: the transition its event took,
// or a typed error saying why none was. Events that actions raise through
// states.Machine.Raise are processed after the current step and before the
// next external event, within a bound on steps per Fire ([WithMaxSteps]),
// so a raise loop is an error, not a hang.
//
// # Order inside a transition
//
// Guards are tried in declaration order and the first that holds wins. Then
// the transition's actions run, then the source's exit actions, then the
// caller's context is checked, then the new state is committed, then the
// target's entry actions run, its delayed transitions are armed, and if it
// is a choice state its choice function runs and the machine leaves by the
// event it returns. An error before the commit leaves the machine where it
// was; an error after it is reported with the target committed. A panic in
// user code becomes a [*PanicError] inside an [*ActionError]; the machine
// keeps working. Instance.Fire documents each case.
//
// A definition built with fsm.Builder.CommitRegardless skips the check of
// the caller's context: a step once begun commits, with the chain of choice
// states it leads to, whatever the context does. Machines whose steps are
// bookkeeping (a bulkhead's counts, one call's permits) use it so that a
// caller who gives up cannot strand them halfway.
//
// # Time and timers
//
// Time comes from a [Clock]: the real one by default, enginetest.Clock in
// tests, which moves only when told to. A delayed transition's timer is
// armed when its state is entered and dropped when the state is left; each
// is numbered when armed, so a timer that fires after its state was left
// (and perhaps entered again) is ignored.
//
// # Hierarchical states
//
// In a machine whose states have parents, the drivers stand in a leaf:
// State returns it and IsIn reports the leaf and its ancestors. A
// transition exits the active states up to the innermost state containing
// its source and target (innermost first) and enters down to its target
// and the target's initial leaf (outermost first); a timer on a composite
// state survives moves between its children. Records list the states exited
// and entered. The lookups are compiled into the definition's tables, so a
// flat machine runs exactly the code it ran before. docs/hierarchy.md has
// the rules. [WithDeadline] and
// [WithTimeout] make contexts whose deadline runs on a Clock. The drivers
// start no goroutines of their own and wait only on channels, so they work
// inside testing/synctest bubbles.
//
// # Observation and snapshots
//
// An [Observer] receives a [Record] per step, after the driver's lock is
// released and in step order. Records, timestamps and guard outcomes are
// made only when an observer is attached. [Instance.Snapshot] captures a
// machine between steps, with its pending timers as absolute deadlines;
// [Restore] refuses snapshots of other definitions or versions and fires
// timers that fell due while the machine was down.
//
// # Performance
//
// States and events are interned when a definition is built, so firing
// reads tables indexed by small integers, never maps keyed by the user's
// types (integer-kind events need no hashing at all). A transition that
// runs no user code and touches no timer (no guard, no actions, no exit
// actions or timers on its source, no entry actions, choice function or
// timers on its target) commits on an Instance with a single
// compare-and-swap of the state word and no lock; every other step takes
// the mutex. docs/performance.md has the figures.
package engine
