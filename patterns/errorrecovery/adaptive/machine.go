package adaptive

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/enum"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// State is a state of the limiter machine: what its last window did to
// the limit. A Limiter reports it with its State method, from one atomic
// load.
type State uint8

// The states. A limiter starts in StateProbing, measuring its first
// baseline at its initial limit.
const (
	StateProbing    State = iota // the limit is held at half for a window, to measure the baseline latency
	StateSteady                  // the dependency's queue is within bounds, or the calls do not reach the limit: the limit holds
	StateGrowing                 // no queue at the dependency while calls reach the limit: the limit rises
	StateBackingOff              // the dependency is queueing more than it should: the limit falls
)

var stateNames = []string{"Probing", "Steady", "Growing", "BackingOff"}

// String returns the state's name, as diagrams and traces print it.
func (s State) String() string { return enum.StringOr(stateNames, s, "State(?)") }

// Event is an event of the limiter machine.
type Event uint8

// The events.
const (
	EventWindow Event = iota // a window of latency samples closed; its Window is the step's argument
)

var eventNames = []string{"window"}

// String returns the event's name.
func (e Event) String() string { return enum.StringOr(eventNames, e, "Event(?)") }

// Window is what a window of samples measured, the argument of each
// EventWindow step (engine.ArgOf[Window] in a custom guard or action).
type Window struct {
	// Samples is the number of calls that ended in the window.
	Samples int
	// Mean and Min are their mean and shortest latency.
	Mean, Min time.Duration
	// Peak is the most calls in flight that any of them saw when it was
	// admitted, itself included.
	Peak int
}

// Data is the limiter machine's data: its bounds, its estimate of the
// limit and its baseline latency. Only the actions of Definition change
// it, under the Instance's lock; the accessors let guards of a custom
// definition, and observers, read it.
type Data struct {
	floor, ceiling float64
	smoothing      float64
	probeEvery     int // windows between probes; <= 0: none

	limit    float64       // the estimate; in Probing, the limit to go back to
	baseline time.Duration // the shortest latency of the dependency, 0 until measured
	windows  int           // windows since the last probe

	pub *atomic.Int64 // the limit in force, read by Acquire
}

// Limit is the limit estimate, before rounding; in Probing, the limit the
// probe returns to.
func (d *Data) Limit() float64 { return d.limit }

// Baseline is the latency of the dependency with no queue, as last
// measured, or 0 before the first window.
func (d *Data) Baseline() time.Duration { return d.baseline }

// MinLimit is the floor.
func (d *Data) MinLimit() int { return int(d.floor) }

// MaxLimit is the ceiling.
func (d *Data) MaxLimit() int { return int(d.ceiling) }

// Queue estimates the calls waiting at the dependency during window w:
// of the calls in flight, the share of w's mean latency that is not the
// baseline (Vegas's rule: limit × (1 − baseline/latency)).
func (d *Data) Queue(w *Window) float64 {
	if d.baseline <= 0 || w.Mean <= d.baseline {
		return 0
	}
	return d.limit * (1 - float64(d.baseline)/float64(w.Mean))
}

// thresholds returns the queue the limiter tolerates, alpha to beta: they
// grow with the logarithm of the limit, so a large limit tolerates a
// longer queue, and a limit of a few calls a queue of at least 2.
func thresholds(limit float64) (alpha, beta float64) {
	alpha = max(2, 3*math.Log10(limit))
	return alpha, 2 * alpha
}

// target is the limit that leaves the dependency a queue midway between
// the thresholds: the calls not queueing (limit − queue) plus that queue.
func (d *Data) target(w *Window) float64 {
	alpha, beta := thresholds(d.limit)
	return d.limit - d.Queue(w) + (alpha+beta)/2
}

// moveTo moves the estimate the Smoothing share of the way to t, within
// the floor and the ceiling, and publishes it.
func (d *Data) moveTo(t float64) {
	d.limit = min(max(d.limit+d.smoothing*(t-d.limit), d.floor), d.ceiling)
	d.publish(d.limit)
}

func (d *Data) publish(limit float64) { d.pub.Store(int64(math.Round(limit))) }

// lower lowers the baseline to w's shortest latency if it is shorter.
func (d *Data) lower(w *Window) {
	if w.Min > 0 && (d.baseline == 0 || w.Min < d.baseline) {
		d.baseline = w.Min
	}
}

// errMisuse reports a limiter action run without a Window.
var errMisuse = errors.New("errorrecovery: adaptive limiter action used out of place")

// machine is what the guards and actions see of the running machine.
type machine = states.Machine[State, Event, Data]

// window returns the step's Window.
func window(m machine) (*Window, error) {
	w, ok := engine.ArgOf[Window](m)
	if !ok || w.Samples == 0 {
		return nil, errMisuse
	}
	return w, nil
}

// The guards, on the window and the data; each false without a Window.
var (
	ifProbeDue = transitions.If("probe due, not backing off above the floor", func(m machine) bool {
		d := m.Data()
		return d.probeEvery > 0 && d.windows+1 >= d.probeEvery &&
			(m.State() != StateBackingOff || d.limit <= d.floor)
	})
	ifQueueOverBeta = transitions.If("queue > beta", func(m machine) bool {
		w, err := window(m)
		if err != nil {
			return false
		}
		d := m.Data()
		_, beta := thresholds(d.limit)
		return d.Queue(w) > beta
	})
	ifRoomToGrow = transitions.If("queue < alpha, calls at the limit, below the ceiling", func(m machine) bool {
		w, err := window(m)
		if err != nil {
			return false
		}
		d := m.Data()
		alpha, _ := thresholds(d.limit)
		return d.Queue(w) < alpha && float64(w.Peak)*2 >= d.limit && d.limit < d.ceiling
	})
)

// The actions. Each checks its Window before changing anything.
var (
	actStartProbe = states.Do("halve limit", func(_ context.Context, m machine) error {
		if _, err := window(m); err != nil {
			return err
		}
		d := m.Data()
		d.windows = 0
		d.publish(max(d.floor, d.limit/2))
		return nil
	})
	actTakeBaseline = states.Do("take baseline, restore limit", func(_ context.Context, m machine) error {
		w, err := window(m)
		if err != nil {
			return err
		}
		d := m.Data()
		d.baseline = w.Min
		d.publish(d.limit)
		return nil
	})
	actDecrease = states.Do("decrease limit", func(_ context.Context, m machine) error {
		return adjust(m)
	})
	actIncrease = states.Do("increase limit", func(_ context.Context, m machine) error {
		return adjust(m)
	})
	actHold = states.Do("hold limit", func(_ context.Context, m machine) error {
		w, err := window(m)
		if err != nil {
			return err
		}
		d := m.Data()
		d.windows++
		d.lower(w)
		return nil
	})
)

// adjust moves the limit towards the window's target, then lowers the
// baseline if the window was faster.
func adjust(m machine) error {
	w, err := window(m)
	if err != nil {
		return err
	}
	d := m.Data()
	d.windows++
	d.moveTo(d.target(w))
	d.lower(w)
	return nil
}

var definition = sync.OnceValue(buildDefinition)

// Definition returns the limiter machine that every Limiter runs unless
// New is given another with engine.WithDefinition. Its bounds are in its
// data, so one definition serves every limiter.
//
// Each closed window of latency samples is an EventWindow step. From
// Probing it takes the window's shortest latency as the baseline and
// restores the limit. From the other states, the first guard that holds
// wins: a probe is due every ProbeEvery windows (halve the limit for one
// window, so that the dependency's queue drains), but not while backing
// off, when the queue has not drained yet, unless the limit is at the
// floor and can back off no more; the
// estimated queue at the dependency is over beta (decrease the limit
// towards the target, the calls not queueing plus a queue midway between
// alpha and beta); it is under alpha while calls reach at least half the
// limit (increase towards the same target); otherwise the limit holds.
func Definition() *fsm.Definition[State, Event, Data] {
	return definition()
}

func buildDefinition() *fsm.Definition[State, Event, Data] {
	b := fsm.New[State, Event, Data]("adaptive limiter")
	b.CommitRegardless() // steps change the limit and are never stopped halfway
	b.State(StateProbing, states.Initial)
	b.State(StateSteady, states.Normal)
	b.State(StateGrowing, states.Normal)
	b.State(StateBackingOff, states.Normal)

	b.On(StateProbing, EventWindow, StateSteady).Do(actTakeBaseline)
	to := func(from, to State) *transitions.Spec[State, Event, Data] {
		if from == to {
			return b.Internal(from, EventWindow)
		}
		return b.On(from, EventWindow, to)
	}
	for _, s := range []State{StateSteady, StateGrowing, StateBackingOff} {
		to(s, StateProbing).When(ifProbeDue).Do(actStartProbe)
		to(s, StateBackingOff).When(ifQueueOverBeta).Do(actDecrease)
		to(s, StateGrowing).When(ifRoomToGrow).Do(actIncrease)
		to(s, StateSteady).Do(actHold)
	}
	return b.MustBuild()
}
