package inspect

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
)

// Defaults of Options.
const (
	DefaultRecent = 50
	DefaultPoll   = time.Second
	DefaultMinGap = 100 * time.Millisecond
)

// ErrDuplicate is the sentinel of a NameError for a name already
// registered.
var ErrDuplicate = errors.New("name already registered")

// NameError reports a registration refused because of its name.
type NameError struct {
	// Name is the name given to Add, AddMachine or AddWorkflow.
	Name string
	// Err is ErrDuplicate or ErrEmptyName.
	Err error
}

// ErrEmptyName is the sentinel of a NameError for an empty name.
var ErrEmptyName = errors.New("name is empty")

// Error says which name and why.
func (e *NameError) Error() string { return fmt.Sprintf("inspect: %q: %v", e.Name, e.Err) }

// Unwrap returns the sentinel.
func (e *NameError) Unwrap() error { return e.Err }

// Options configure an Inspector. A nil *Options, or a zero field, means
// the default.
type Options struct {
	// Recent is how many transitions are kept per machine, and how many
	// executions per workflow. Zero means DefaultRecent; negative keeps
	// none (counters, states and visit counts are still shown).
	Recent int
	// Poll is how often a live update stream re-reads the registered
	// machines for changes no observer reported (a machine registered
	// without Observe, a counter that moved without a transition). Zero
	// means DefaultPoll; negative means never: updates then follow
	// observed transitions and recorded executions only.
	Poll time.Duration
	// MinGap is the shortest time between two updates sent on one stream,
	// so that a busy machine does not flood the browser. Zero means
	// DefaultMinGap; negative means no gap.
	MinGap time.Duration
	// Clock times Poll and MinGap; nil means the real clock.
	Clock engine.Clock
}

// Inspector is a registry of named machines and workflows, and the
// http.Handler that shows them (ServeHTTP). It is safe for concurrent use
// and must not be copied.
type Inspector struct {
	_      noCopy
	recent int
	poll   time.Duration
	minGap time.Duration
	clock  engine.Clock

	muxOnce sync.Once
	mux     *http.ServeMux // the routes of ServeHTTP, made once

	mu      sync.Mutex
	names   []string            // registration order; guarded by mu
	entries map[string]*entry   // guarded by mu
	changed chan struct{}       // closed and replaced by notify; guarded by mu
	logs    map[string]*stepLog // made by Observe, perhaps before the entry; guarded by mu
}

// noCopy makes go vet's copylocks check report a copied Inspector.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New returns an empty Inspector.
func New(opts *Options) *Inspector {
	var o Options
	if opts != nil {
		o = *opts
	}
	in := &Inspector{
		recent:  pick(o.Recent, DefaultRecent),
		poll:    pick(o.Poll, DefaultPoll),
		minGap:  pick(o.MinGap, DefaultMinGap),
		clock:   o.Clock,
		entries: map[string]*entry{},
		changed: make(chan struct{}),
		logs:    map[string]*stepLog{},
	}
	if in.clock == nil {
		in.clock = engine.RealClock{}
	}
	return in
}

// pick applies the zero-is-default, negative-is-none rule.
func pick[N int | time.Duration](v, def N) N {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Source is what the inspector reads of a registered machine. AddMachine
// makes one from a running machine; Add takes one directly, for a machine
// with no single current state (a cache, whose entries each have one).
type Source struct {
	// Graph is the machine's definition as drawn.
	Graph fsm.Graph
	// State returns the label of the current state; nil means the machine
	// has none to show.
	State func() string
	// Generation returns the machine's generation (the count of its
	// committed transitions, engine.Instance.Generation); nil means none
	// to show.
	Generation func() uint32
	// Counters returns the machine's counters as a struct (a Metrics
	// value) whose exported fields are shown; nil means none.
	Counters func() any
}

// Machine is what AddMachine needs of a running machine: its definition
// and its current state. *engine.Instance, *breaker.Breaker and
// *bulkhead.Bulkhead have both.
type Machine[S, E comparable, D any] interface {
	Definition() *fsm.Definition[S, E, D]
	State() S
}

// AddMachine registers a running machine under name. When m has a method
// Metrics with no arguments that returns a struct, its exported fields are
// the machine's counters; when it has Generation() uint32, or its Metrics
// has a Generation field, that is its generation. Transitions and visit
// counts are shown when the machine was made with in.Observe(name).
func AddMachine[S, E comparable, D any](in *Inspector, name string, m Machine[S, E, D]) error {
	def := m.Definition()
	src := Source{
		Graph: def.Graph(),
		State: func() string {
			l, ok := def.Label(m.State())
			if !ok {
				return fmt.Sprint(m.State())
			}
			return l
		},
	}
	if g, ok := any(m).(interface{ Generation() uint32 }); ok {
		src.Generation = g.Generation
	}
	src.Counters = countersOf(m)
	if c := src.Counters; c != nil && src.Generation == nil {
		t := reflect.TypeOf(c())
		if f, ok := t.FieldByName("Generation"); ok && f.Type.Kind() == reflect.Uint32 {
			src.Generation = func() uint32 {
				return uint32(reflect.ValueOf(c()).FieldByIndex(f.Index).Uint())
			}
		}
	}
	return in.Add(name, src)
}

// Add registers a machine under name, as its Source describes it.
func (in *Inspector) Add(name string, src Source) error {
	return in.add(name, &entry{src: src})
}

func (in *Inspector) add(name string, e *entry) error {
	if name == "" {
		return &NameError{Name: name, Err: ErrEmptyName}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.entries[name]; ok {
		return &NameError{Name: name, Err: ErrDuplicate}
	}
	e.name = name
	e.log = in.logLocked(name)
	in.entries[name] = e
	in.names = append(in.names, name)
	in.notifyLocked()
	return nil
}

// Observe returns the option that lets the inspector see the transitions
// of the machine registered (before or after) under name: pass it to the
// machine's constructor (breaker.New, bulkhead.New, engine.NewInstance).
// The inspector then keeps its recent transitions and counts the visits of
// each edge, and live pages update as soon as it moves.
func (in *Inspector) Observe(name string) engine.Option {
	in.mu.Lock()
	l := in.logLocked(name)
	in.mu.Unlock()
	l.mu.Lock()
	l.observed = true
	l.mu.Unlock()
	return engine.WithObserver(l)
}

// logLocked returns name's step log, making it. in.mu must be held.
func (in *Inspector) logLocked(name string) *stepLog {
	l, ok := in.logs[name]
	if !ok {
		l = &stepLog{in: in, keep: in.recent, visits: map[int]int{}}
		in.logs[name] = l
	}
	return l
}

// notify wakes the live update streams.
func (in *Inspector) notify() {
	in.mu.Lock()
	in.notifyLocked()
	in.mu.Unlock()
}

func (in *Inspector) notifyLocked() {
	close(in.changed)
	in.changed = make(chan struct{})
}

// changes returns a channel closed at the next change.
func (in *Inspector) changes() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.changed
}

// lookup returns the entry registered under name.
func (in *Inspector) lookup(name string) (*entry, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	e, ok := in.entries[name]
	return e, ok
}

// all returns the entries in registration order.
func (in *Inspector) all() []*entry {
	in.mu.Lock()
	defer in.mu.Unlock()
	es := make([]*entry, len(in.names))
	for i, n := range in.names {
		es[i] = in.entries[n]
	}
	return es
}

// entry is one registered machine or workflow.
type entry struct {
	name string
	src  Source    // a machine's; a workflow's Graph and Counters
	log  *stepLog  // a machine's observed steps
	runs *runLog   // a workflow's executions, nil for a machine
	wf   workflowI // nil for a machine
}

// workflowI is what the inspector reads of a registered workflow beyond
// its Source.
type workflowI interface {
	clusters() []string
}

// stepLog is an engine.Observer that keeps a machine's recent steps and
// counts the visits of each edge.
type stepLog struct {
	in   *Inspector
	keep int

	mu     sync.Mutex
	recent []engine.Record // at most keep, oldest first; guarded by mu
	visits map[int]int     // guarded by mu
	steps  uint64          // guarded by mu
	// observed reports that Observe handed the log out; guarded by mu.
	observed bool
}

// attached reports whether Observe handed the log out.
func (l *stepLog) attached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.observed
}

// Observe records r and wakes the live streams.
func (l *stepLog) Observe(r engine.Record) {
	l.mu.Lock()
	l.steps++
	if r.Transition >= 0 && r.Err == nil {
		l.visits[r.Transition]++
	}
	if l.keep > 0 {
		if len(l.recent) == l.keep {
			l.recent = slices.Delete(l.recent, 0, 1)
		}
		r.Guards = slices.Clone(r.Guards)
		l.recent = append(l.recent, r)
	}
	l.mu.Unlock()
	l.in.notify()
}

// read returns copies of the recent steps (newest first) and the visits.
func (l *stepLog) read() (recent []engine.Record, visits map[int]int, steps uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent = slices.Clone(l.recent)
	slices.Reverse(recent)
	return recent, cloneVisits(l.visits), l.steps
}

// cloneVisits copies a visit count map; the copy is never nil.
func cloneVisits(m map[int]int) map[int]int {
	c := maps.Clone(m)
	if c == nil {
		c = map[int]int{}
	}
	return c
}
