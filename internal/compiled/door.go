package compiled

// of is the function Of calls, installed by package fsm (Register).
var of func(def any) any

// Register installs the function Of uses to reach the Machine inside a
// definition: given a *fsm.Definition[S, E, D], it returns its
// *Machine[S, E, D]. Package fsm calls it from an init function, so it is
// set before any package importing fsm can call Of; nothing else may call
// it.
//
// This hook is how the Machine stays off fsm.Definition's exported API: a
// definition has no method that hands its tables out, and so users have
// no way to reach them, while fsm still owns building them.
func Register(f func(def any) any) { of = f }

// Of returns the Machine of def, which must be a non-nil
// *fsm.Definition[S, E, D] of the same S, E and D; anything else panics.
// Drivers call it once, when they are made, and keep the result: it costs
// an interface conversion and two type assertions.
func Of[S, E comparable, D any](def any) *Machine[S, E, D] {
	return of(def).(*Machine[S, E, D])
}
