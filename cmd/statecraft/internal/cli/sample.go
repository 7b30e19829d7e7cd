package cli

import (
	"context"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// The sample machine the demo and render commands draw: a door that opens,
// closes by itself after a while, locks only for someone with the key, and
// can be demolished, which ends it. It uses each kind of declaration a
// newcomer meets first: an initial state, a final state, a guard, actions
// and a delayed transition.

type doorState uint8

const (
	closed doorState = iota
	opened
	locked
	demolished
)

var doorStateNames = [...]string{"Closed", "Opened", "Locked", "Demolished"}

func (s doorState) String() string { return doorStateNames[s] }

type doorEvent uint8

const (
	open doorEvent = iota
	shut
	lock
	unlock
	demolish
)

var doorEventNames = [...]string{"open", "close", "lock", "unlock", "demolish"}

func (e doorEvent) String() string { return doorEventNames[e] }

// door is the machine's data.
type door struct {
	hasKey bool // whoever stands at the door holds its key
	opens  int  // how many times it was opened
}

// autoClose is how long the door stays open before it closes by itself.
const autoClose = 30 * time.Second

type doorMachine = states.Machine[doorState, doorEvent, door]

// sampleDoor builds the sample machine. It panics if the definition is
// invalid, which a test rules out.
func sampleDoor() *fsm.Definition[doorState, doorEvent, door] {
	hasKey := transitions.If("has key", func(m doorMachine) bool { return m.Data().hasKey })
	countOpen := states.Do("count", func(_ context.Context, m doorMachine) error {
		m.Data().opens++
		return nil
	})
	chime := states.Do("chime", func(context.Context, doorMachine) error { return nil })

	b := fsm.New[doorState, doorEvent, door]("door")
	b.State(closed, states.Initial)
	b.State(opened, states.Normal).OnEntry(chime)
	b.State(locked, states.Normal)
	b.State(demolished, states.Final)

	b.On(closed, open, opened).Do(countOpen)
	b.On(opened, shut, closed)
	b.After(opened, autoClose, closed)
	b.On(closed, lock, locked).When(hasKey)
	b.On(locked, unlock, closed).When(hasKey)
	b.On(closed, demolish, demolished)
	b.On(locked, demolish, demolished)
	return b.MustBuild()
}
