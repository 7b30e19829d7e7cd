package inspect

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// Traced is what AddWorkflow needs of a workflow: its diagram and a way
// to run one execution and get the steps it took. An
// *errorrecovery.Workflow[T] has both.
type Traced[T any] interface {
	Diagram(opts fsm.DiagramOptions) (fsm.Graph, fsm.DiagramOptions)
	Trace(ctx context.Context, fn func(context.Context) (T, error)) (T, []engine.Record, error)
}

// Workflow is a workflow registered with an Inspector. Its Execute runs
// the workflow's and records the execution's path; a caller that traces
// executions itself (with errorrecovery's TraceResult) hands them over
// with Record. It is safe for concurrent use.
type Workflow[T any] struct {
	w   Traced[T]
	in  *Inspector
	log *runLog
}

// AddWorkflow registers w under name and returns the wrapper whose
// executions the inspector shows. When w has a method Metrics with no
// arguments that returns a struct (errorrecovery's WorkflowMetrics), its
// exported fields are the workflow's counters.
func AddWorkflow[T any](in *Inspector, name string, w Traced[T]) (*Workflow[T], error) {
	g, dopts := w.Diagram(fsm.DiagramOptions{})
	e := &entry{
		src:  Source{Graph: g, Counters: countersOf(w)},
		runs: &runLog{keep: in.recent, visits: map[int]int{}},
		wf:   clusterNames(dopts),
	}
	if err := in.add(name, e); err != nil {
		return nil, err
	}
	return &Workflow[T]{w: w, in: in, log: e.runs}, nil
}

// countersOf returns a Counters function reading v's Metrics method, or
// nil when it has none of the right shape.
func countersOf(v any) func() any {
	m := reflect.ValueOf(v).MethodByName("Metrics")
	if !m.IsValid() {
		return nil
	}
	t := m.Type()
	if t.NumIn() != 0 || t.NumOut() != 1 || t.Out(0).Kind() != reflect.Struct {
		return nil
	}
	return func() any { return m.Call(nil)[0].Interface() }
}

// clusterNames lists the shared machines a workflow's diagram draws.
type clusterNames fsm.DiagramOptions

func (c clusterNames) clusters() []string {
	var names []string
	for _, cl := range c.Clusters {
		names = append(names, cl.Graph.Name)
	}
	return names
}

// Execute runs fn through the workflow (its Trace) and records the
// execution.
func (w *Workflow[T]) Execute(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	v, recs, err := w.w.Trace(ctx, fn)
	w.Record(recs, err)
	return v, err
}

// Record records one execution that took the steps recs and ended with
// err (nil for a success). It keeps its own copy of recs.
func (w *Workflow[T]) Record(recs []engine.Record, err error) {
	w.log.add(recs, err)
	w.in.notify()
}

// runLog keeps a workflow's recent executions and the visits of each edge
// of its per-call machine over all of them.
type runLog struct {
	keep int

	mu     sync.Mutex
	recent []run       // at most keep, oldest first; guarded by mu
	visits map[int]int // guarded by mu
	count  uint64      // executions recorded; guarded by mu
}

// run is one recorded execution.
type run struct {
	seq   uint64
	steps []engine.Record
	err   error
}

func (l *runLog) add(recs []engine.Record, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	for _, r := range recs {
		if r.Transition >= 0 && r.Err == nil {
			l.visits[r.Transition]++
		}
	}
	if l.keep <= 0 {
		return
	}
	if len(l.recent) == l.keep {
		l.recent = slices.Delete(l.recent, 0, 1)
	}
	steps := slices.Clone(recs)
	for i := range steps {
		steps[i].Guards = nil // not shown; not kept
	}
	l.recent = append(l.recent, run{seq: l.count, steps: steps, err: err})
}

// read returns the recent executions (newest first), the visits and the
// count of executions recorded.
func (l *runLog) read() (recent []run, visits map[int]int, count uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent = slices.Clone(l.recent)
	slices.Reverse(recent)
	return recent, cloneVisits(l.visits), l.count
}
