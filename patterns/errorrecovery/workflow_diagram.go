package errorrecovery

import (
	"bytes"

	"github.com/statecraft/statecraft/fsm"
)

// Diagram returns the workflow's per-call machine with the shared machines
// it uses drawn as clusters, joined by dashed "uses" edges from the state
// that uses them: the cache, the bulkhead, the breaker, the rate limiter,
// the adaptive limiter and the retry budget. With per-key machines
// (PerKeyConfig), those kept per key are drawn once, their title noting
// what they are kept per and the registry's bounds.
func (w *Workflow[T]) Diagram(opts fsm.DiagramOptions) (fsm.Graph, fsm.DiagramOptions) {
	x := w.x
	if x.cache != nil {
		// Every run of the cache entry machine starts in its initial state.
		def := x.cache.Definition()
		start, _ := def.Label(def.Initial())
		uses := []fsm.Use{{From: stateLookup.String(), To: start, Label: "lookup / store, release"}}
		if x.servesStale() {
			uses = append(uses, fsm.Use{From: stateFallback.String(), To: start, Label: "read"})
		}
		opts.Clusters = append(opts.Clusters, fsm.Cluster{Graph: def.Graph(), Uses: uses})
	}
	if x.bulkhead != nil {
		g := x.bulkhead.Definition().Graph()
		opts.Clusters = append(opts.Clusters, fsm.Cluster{Graph: g,
			Uses: []fsm.Use{{From: stateAdmit.String(), To: g.States[0].Label, Label: "acquire / release"}}})
	}
	if x.breaker != nil {
		g := x.breaker.Definition().Graph()
		opts.Clusters = append(opts.Clusters, fsm.Cluster{Graph: g,
			Uses: []fsm.Use{{From: stateCheckCircuit.String(), To: g.States[0].Label, Label: "allow / done"}}})
	}
	opts.Clusters = x.limiterClusters(opts.Clusters)
	if w.keys != nil {
		opts.Clusters = w.keys.retitle(opts.Clusters)
	}
	return x.def.Graph(), opts
}

// Dot returns the workflow's diagram (see Diagram) as Graphviz dot.
func (w *Workflow[T]) Dot() string {
	g, opts := w.Diagram(fsm.DiagramOptions{})
	var b bytes.Buffer
	if err := fsm.WriteDot(&b, g, opts); err != nil {
		panic(err) // the workflow's own labels always fit its graphs
	}
	return b.String()
}
