// Door builds a small door machine with fsm.New and prints it: first as a
// Graphviz dot diagram, then a listing of its states and transitions as dot
// comments, so the whole output can go straight to Graphviz:
//
//	go run ./examples/door
//	go run ./examples/door | dot -Tsvg > door.svg
//
// The door starts closed. It opens (counting how often) and closes again,
// by hand or by itself 30 seconds after it was opened; someone with the key
// can lock and unlock it; demolishing it ends the machine.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// State is a state of the door.
type State uint8

// The door's states.
const (
	Closed     State = iota // initial
	Opened                  // closes by itself after AutoClose
	Locked                  // only someone with the key unlocks it
	Demolished              // final
)

// String returns the state's name, which is its label in diagrams.
func (s State) String() string {
	return [...]string{"Closed", "Opened", "Locked", "Demolished"}[s]
}

// Event is something that happens to the door.
type Event uint8

// The door's events.
const (
	Open Event = iota
	Close
	Lock
	Unlock
	Demolish
)

// String returns the event's name, which labels its transitions.
func (e Event) String() string {
	return [...]string{"open", "close", "lock", "unlock", "demolish"}[e]
}

// Door is the machine's data.
type Door struct {
	HasKey bool // whoever stands at the door holds its key
	Opens  int  // how many times the door was opened
}

// AutoClose is how long the door stays open before it closes by itself.
const AutoClose = 30 * time.Second

// Machine is the running door as actions and guards see it.
type Machine = states.Machine[State, Event, Door]

// NewDoor builds and validates the door machine.
func NewDoor() (*fsm.Definition[State, Event, Door], error) {
	// Guards and actions are named: the names are what diagrams show.
	hasKey := transitions.If("has key", func(m Machine) bool { return m.Data().HasKey })
	count := states.Do("count", func(_ context.Context, m Machine) error {
		m.Data().Opens++
		return nil
	})
	chime := states.Do("chime", func(context.Context, Machine) error { return nil })

	b := fsm.New[State, Event, Door]("door")
	b.State(Closed, states.Initial)
	b.State(Opened, states.Normal).OnEntry(chime)
	b.State(Locked, states.Normal)
	b.State(Demolished, states.Final)

	b.On(Closed, Open, Opened).Do(count)
	b.On(Opened, Close, Closed)
	b.After(Opened, AutoClose, Closed) // a delayed transition: a timer armed on entry
	b.On(Closed, Lock, Locked).When(hasKey)
	b.On(Locked, Unlock, Closed).When(hasKey)
	b.On(Closed, Demolish, Demolished)
	b.On(Locked, Demolish, Demolished)

	// Build checks the whole machine at once and reports every defect.
	return b.Build()
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "door:", err)
		os.Exit(1)
	}
}

// run prints the door machine's diagram and listing to w.
func run(w io.Writer) error {
	def, err := NewDoor()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(def.Dot())
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	b.WriteString("\n")
	writeListing(&b, def)
	_, err = io.WriteString(w, b.String())
	return err
}

// writeListing lists the machine's states and transitions, each line a dot
// comment.
func writeListing(b *strings.Builder, def *fsm.Definition[State, Event, Door]) {
	fmt.Fprintf(b, "// machine %q: %d states, %d transitions\n", def.Name(), len(def.States()), len(def.Transitions()))
	b.WriteString("// states:\n")
	for _, s := range def.StateSpecs() {
		label, _ := def.Label(s.ID)
		fmt.Fprintf(b, "//   %-10s %s", label, s.Kind)
		if len(s.Entry) > 0 {
			fmt.Fprintf(b, ", entry: %s", actionNames(s.Entry))
		}
		if evs := def.Accepts(s.ID); len(evs) > 0 {
			fmt.Fprintf(b, ", accepts: %v", evs)
		}
		b.WriteByte('\n')
	}
	b.WriteString("// transitions:\n")
	g := def.Graph()
	for _, e := range g.Edges {
		fmt.Fprintf(b, "//   %s -> %s: %s\n", g.States[e.From].Label, g.States[e.To].Label, e.Label())
	}
}

func actionNames(as []states.Action[State, Event, Door]) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}
