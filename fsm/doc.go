// Package fsm builds statecraft machine definitions and draws them.
//
// A definition is declared with a Builder, typed by its states S, its
// events E and the data D its actions see:
//
//	b := fsm.New[State, Event, *Door]("door")
//	b.State(Closed, states.Initial)
//	b.State(Opened, states.Normal).OnEntry(chime)
//	b.On(Closed, Open, Opened).When(hasKey)
//	b.After(Opened, 30*time.Second, Closed)
//	def, err := b.Build()
//
// Build checks the machine as a whole and reports every defect at once as
// a *BuildError of *ValidationErrors, each naming the state and event and
// matching one of the sentinels (ErrNoInitial, ErrUnreachable, …) with
// errors.Is. A built Definition is immutable and safe to share: package
// engine runs any number of machines from it.
//
// A state may be a child of another (states.Spec.In): the parent is then a
// composite state, entered through its initial child, whose transitions and
// timers apply in every descendant that does not handle the event itself.
// Entry and exit actions run in UML order. docs/hierarchy.md has the rules.
//
// States and events are interned to dense indices when the definition is
// built, so the engine looks a transition up in a table: an integer-kind
// event type costs no hashing at all.
//
// Dot and Mermaid print a definition as Graphviz dot or a Mermaid state
// diagram; WriteDot and WriteMermaid take DiagramOptions to add a
// highlighted state, visit counts from a trace, and shared machines drawn
// as clusters. The output is deterministic and every label is escaped.
//
// Besides the builder and the diagrams, Definition offers introspection
// (States, Transitions, Accepts, Graph). The tables the engine fires from
// (states, events and transitions by index) are not part of the API: they
// live in an internal package that only this module's drivers read.
package fsm
