package saga

import (
	"context"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// diagrammer is what draws its per-call machine: an
// *errorrecovery.Workflow.
type diagrammer interface {
	Diagram(opts fsm.DiagramOptions) (fsm.Graph, fsm.DiagramOptions)
}

// Diagram returns the saga's machine with the per-call machine of each
// workflow that protects a step (Step.ProtectedBy) drawn as a cluster,
// joined by a dashed "protected by" edge from the step's state, and the
// workflow of CompensationConfig.CompensationRetry likewise from each
// compensating state: the saga and the machines its actions run through,
// in one diagram. A workflow protecting several steps is drawn once. The
// shared machines a workflow uses (its breaker, bulkhead, cache) are not
// drawn here: the workflow's own Diagram draws them. Pass the result to
// fsm.WriteDot or fsm.WriteMermaid.
func (s *Saga[T]) Diagram(opts fsm.DiagramOptions) (fsm.Graph, fsm.DiagramOptions) {
	var drawn []diagrammer
	use := func(p any, from State) {
		d, ok := p.(diagrammer)
		if !ok {
			return
		}
		i := 0
		for i < len(drawn) && drawn[i] != d {
			i++
		}
		label := "protected by"
		if from.Kind == StateCompensating {
			label = "undo through"
		}
		if i == len(drawn) {
			g, _ := d.Diagram(fsm.DiagramOptions{})
			drawn = append(drawn, d)
			opts.Clusters = append(opts.Clusters, fsm.Cluster{Graph: g})
			i = len(opts.Clusters) - 1
		} else {
			i = len(opts.Clusters) - len(drawn) + i
		}
		c := &opts.Clusters[i]
		c.Uses = append(c.Uses, fsm.Use{From: from.String(), To: c.Graph.States[0].Label, Label: label})
	}
	for i, st := range s.steps {
		if st.protect != nil {
			use(st.protect, sagaFwd(i+1))
		}
	}
	if p := s.cfg.Compensation.CompensationRetry; p != nil {
		for i := len(s.steps) - 1; i >= 0; i-- { // in the order they run
			if s.steps[i].hasUndo() {
				use(p, sagaComp(i+1))
			}
		}
	}
	return s.def.Graph(), opts
}

// Trace is Run that also returns the steps the run took: the saga
// machine's, each followed, when it enters a step protected by a workflow
// (an errorrecovery.TraceProtector), by the steps of that step's protected
// call (each engine.Record names its Machine).
func (s *Saga[T]) Trace(ctx context.Context, id string, state T) (T, []engine.Record, error) {
	var recs []engine.Record
	obs := engine.ObserverFunc(func(rec engine.Record) { recs = append(recs, rec) })
	runner := engine.NewRunner(s.def, append(s.opts[:len(s.opts):len(s.opts)], engine.WithObserver(obs))...)
	nested := make([][]engine.Record, len(s.steps))
	state, err := s.run(ctx, id, state, runner, nested)
	out := make([]engine.Record, 0, len(recs))
	for _, r := range recs {
		out = append(out, r)
		for i := range s.steps {
			if r.Transition >= 0 && r.To == sagaFwd(i+1).String() {
				out = append(out, nested[i]...)
			}
		}
	}
	return state, out, err
}
