package inspect

import (
	"fmt"
	"reflect"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// View is what the inspector shows at one moment, as its JSON endpoint
// (api/view) and its live update stream (events) send it. The field names
// and their JSON keys are stable.
type View struct {
	Machines  []MachineView  `json:"machines"`
	Workflows []WorkflowView `json:"workflows"`
}

// MachineView is one registered machine.
type MachineView struct {
	// Name is the name it was registered under; Machine its definition's.
	Name    string `json:"name"`
	Machine string `json:"machine"`
	// State is the label of its current state, "" when it has none.
	State string `json:"state"`
	// Generation is its generation, when it has one to show.
	Generation *uint32 `json:"generation,omitempty"`
	// Counters are its counters, in field order.
	Counters []Counter `json:"counters"`
	// Observed reports that its steps are recorded (Observe); Steps
	// counts them.
	Observed bool   `json:"observed"`
	Steps    uint64 `json:"steps"`
	// Visits counts the observed visits of each edge, by its index in
	// the definition's transitions.
	Visits map[int]int `json:"visits"`
	// Recent are its recent steps, newest first.
	Recent []Step `json:"recent"`
}

// WorkflowView is one registered workflow.
type WorkflowView struct {
	// Name is the name it was registered under; Machine its per-call
	// machine's.
	Name    string `json:"name"`
	Machine string `json:"machine"`
	// Counters are its counters, in field order.
	Counters []Counter `json:"counters"`
	// Executions counts the executions recorded.
	Executions uint64 `json:"executions"`
	// Visits counts the visits of each edge of the per-call machine over
	// every execution recorded.
	Visits map[int]int `json:"visits"`
	// Uses names the shared machines its diagram draws beside it.
	Uses []string `json:"uses"`
	// Recent are its recent executions, newest first.
	Recent []Execution `json:"recent"`
}

// Counter is one counter of a machine or workflow: a field of its
// Metrics, with its value as text (durations as time.Duration prints
// them).
type Counter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Step is one step of a machine, as engine.Record describes it.
type Step struct {
	Time       time.Time `json:"time"`
	From       string    `json:"from"`
	Event      string    `json:"event"`
	To         string    `json:"to"`
	Transition int       `json:"transition"`
	Error      string    `json:"error,omitempty"`
}

// Execution is one recorded execution of a workflow.
type Execution struct {
	// Seq numbers the workflow's executions from 1, in the order
	// recorded.
	Seq uint64 `json:"seq"`
	// Start is the time of its first step; Duration runs to the end of
	// its last, on the workflow's clock.
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	// Outcome is "ok" or "error"; Error the error's text.
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// Path lists the states it went through, its first step's From and
	// then each step's To.
	Path  []string `json:"path"`
	Steps []Step   `json:"steps"`
}

// View returns what the inspector shows now.
func (in *Inspector) View() View {
	v := View{Machines: []MachineView{}, Workflows: []WorkflowView{}}
	for _, e := range in.all() {
		if e.runs != nil {
			v.Workflows = append(v.Workflows, e.workflowView())
		} else {
			v.Machines = append(v.Machines, e.machineView())
		}
	}
	return v
}

// viewOf returns the View of the one entry named, or false.
func (in *Inspector) viewOf(name string) (View, bool) {
	e, ok := in.lookup(name)
	if !ok {
		return View{}, false
	}
	v := View{Machines: []MachineView{}, Workflows: []WorkflowView{}}
	if e.runs != nil {
		v.Workflows = append(v.Workflows, e.workflowView())
	} else {
		v.Machines = append(v.Machines, e.machineView())
	}
	return v, true
}

func (e *entry) machineView() MachineView {
	mv := MachineView{Name: e.name, Machine: e.src.Graph.Name, Counters: counters(e.src.Counters)}
	if e.src.State != nil {
		mv.State = e.src.State()
	}
	if e.src.Generation != nil {
		g := e.src.Generation()
		mv.Generation = &g
	}
	recent, visits, steps := e.log.read()
	mv.Observed, mv.Steps, mv.Visits = e.log.attached(), steps, visits
	mv.Recent = make([]Step, len(recent))
	for i, r := range recent {
		mv.Recent[i] = stepOf(r)
	}
	return mv
}

func (e *entry) workflowView() WorkflowView {
	wv := WorkflowView{Name: e.name, Machine: e.src.Graph.Name, Counters: counters(e.src.Counters), Uses: e.wf.clusters()}
	if wv.Uses == nil {
		wv.Uses = []string{}
	}
	recent, visits, count := e.runs.read()
	wv.Executions, wv.Visits = count, visits
	wv.Recent = make([]Execution, len(recent))
	for i, r := range recent {
		x := Execution{Seq: r.seq, Outcome: "ok", Path: []string{}, Steps: make([]Step, len(r.steps))}
		if r.err != nil {
			x.Outcome, x.Error = "error", r.err.Error()
		}
		for j, s := range r.steps {
			if j == 0 {
				x.Start = s.Time
				x.Path = append(x.Path, s.From)
			}
			if s.Transition >= 0 {
				x.Path = append(x.Path, s.To)
			}
			x.Steps[j] = stepOf(s)
			if end := s.Time.Add(s.Duration).Sub(x.Start); end > x.Duration {
				x.Duration = end
			}
		}
		wv.Recent[i] = x
	}
	return wv
}

// counters flattens the struct f returns into its exported fields, in
// order: numbers, booleans, strings, durations and anything with a String
// method; an array field gives one counter per element ("TimeIn[0]").
func counters(f func() any) []Counter {
	cs := []Counter{}
	if f == nil {
		return cs
	}
	v := reflect.ValueOf(f())
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Array {
			for j := range fv.Len() {
				cs = append(cs, Counter{Name: fmt.Sprintf("%s[%d]", sf.Name, j), Value: format(fv.Index(j))})
			}
			continue
		}
		if s := format(fv); s != "" {
			cs = append(cs, Counter{Name: sf.Name, Value: s})
		}
	}
	return cs
}

// format prints one counter's value, or "" for a kind not shown (maps,
// slices, funcs, pointers).
func format(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Bool, reflect.String:
		return fmt.Sprint(v.Interface())
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("%.3g", v.Float())
	}
	return ""
}

// stepOf is the Step of a record.
func stepOf(r engine.Record) Step {
	s := Step{Time: r.Time, From: r.From, Event: r.Event, To: r.To, Transition: r.Transition}
	if r.Err != nil {
		s.Error = r.Err.Error()
	}
	return s
}
