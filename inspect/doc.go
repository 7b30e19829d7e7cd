// Package inspect is a live inspector of running machines: an
// [http.Handler] that shows the machines and workflows registered with it,
// their current states, counters and diagrams, the steps they took and the
// path of each recent execution, updated as they move.
//
// An [Inspector] is a registry by name. [AddMachine] registers a shared,
// long-lived machine (an engine.Instance, a circuit breaker, a bulkhead:
// anything with a Definition and a State); [Inspector.Add] registers one
// described by a [Source] (a cache, whose entries each have a state of
// their own); [AddWorkflow] registers a workflow of package errorrecovery,
// or anything else with a Diagram and a Trace, and returns a [Workflow]
// whose Execute records the path each execution took. The inspector sees a
// machine's steps when the machine is made with the option
// [Inspector.Observe] returns for its name:
//
//	in := inspect.New(nil)
//	b, err := breaker.New(cfg, in.Observe("payments"))
//	...
//	err = inspect.AddMachine(in, "payments", b)
//
// The package imports no pattern: it reads what it is given through these
// small interfaces, the definition's [fsm.Graph] and, by reflection, the
// exported fields of a Metrics method's result.
//
// # Mounting
//
// An Inspector is an http.Handler serving paths relative to where it is
// mounted (ServeHTTP lists them); mount it as net/http/pprof is, under a
// prefix that ends in a slash, with the prefix stripped:
//
//	mux.Handle("/debug/statecraft/", http.StripPrefix("/debug/statecraft", in))
//
// The pages link to each other by relative paths, so any prefix works.
// They need no network access: the script and style sheet are embedded,
// and the diagrams are SVG drawn in Go (a layered layout of the graph, no
// Graphviz). The inspector shows state and labels, not the data of
// executions, but it offers no authentication: serve it on an internal
// address only. docs/inspector.md shows the pages.
//
// # Live updates
//
// Each page follows the server-sent events of /events: the [View] as JSON,
// sent at once and again each time it changes. A change is noticed as soon
// as an observed machine takes a step or a workflow records an execution,
// and otherwise by re-reading every Options.Poll; updates are at least
// Options.MinGap apart. /api/view returns the same View once.
//
// # Clock
//
// Poll and MinGap run on Options.Clock, so that tests can drive the
// stream with a manual clock. Times shown are those of the machines'
// records, on their own clocks.
package inspect
