package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

func ExampleNew() {
	type Order struct{ Items int }
	type machine = states.Machine[string, string, Order]

	// Guards and actions are named: the names are what diagrams and traces show.
	notEmpty := transitions.If("not empty", func(m machine) bool { return m.Data().Items > 0 })
	reserveStock := states.Do("reserve stock", func(ctx context.Context, m machine) error { return nil })
	chargeCard := states.Do("charge card", func(ctx context.Context, m machine) error { return nil })
	sendReceipt := states.Do("send receipt", func(ctx context.Context, m machine) error { return nil })

	b := fsm.New[string, string, Order]("order")
	b.State("Cart", states.Initial)
	b.State("Paying", states.Normal)
	b.State("Paid", states.Normal).OnEntry(sendReceipt)
	b.State("Shipped", states.Final)
	b.State("Cancelled", states.Final)

	b.On("Cart", "checkout", "Paying").When(notEmpty).Do(reserveStock)
	b.On("Cart", "cancel", "Cancelled")
	b.On("Paying", "pay", "Paid").Do(chargeCard)
	b.Timeout("Paying", 15*time.Minute, "Cancelled") // unpaid orders lapse
	b.On("Paid", "ship", "Shipped")

	def, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	g := def.Graph()
	for _, e := range g.Edges {
		fmt.Printf("%s -> %s: %s\n", g.States[e.From].Label, g.States[e.To].Label, e.Label())
	}
	fmt.Println("Cart accepts", def.Accepts("Cart"))
	fmt.Println("finals", def.Finals())
	// Output:
	// Cart -> Paying: checkout [not empty] / reserve stock
	// Cart -> Cancelled: cancel
	// Paying -> Paid: pay / charge card
	// Paying -> Cancelled: after 15m0s
	// Paid -> Shipped: ship
	// Cart accepts [checkout cancel]
	// finals [Shipped Cancelled]
}

// Build checks the whole machine and reports every defect at once, each a
// *fsm.ValidationError that matches one of the package's sentinels.
func ExampleBuilder_Build() {
	b := fsm.New[string, string, struct{}]("lamp")
	b.State("Off", states.Initial)
	b.State("On", states.Normal)
	b.State("Broken", states.Final) // nothing leads here
	b.On("Off", "flip", "On")
	b.On("On", "flip", "Of") // a typo

	_, err := b.Build()
	fmt.Println(err)

	// Ask for one kind of defect with errors.Is, or go through them all.
	fmt.Println("unreachable:", errors.Is(err, fsm.ErrUnreachable))
	var be *fsm.BuildError
	if errors.As(err, &be) {
		for _, p := range be.Problems {
			fmt.Printf("%v: state %q, event %q\n", p.Err, p.State, p.Event)
		}
	}
	// Output:
	// fsm: machine "lamp" is invalid:
	// 	state "On", event "flip": transition names an undeclared state: target "Of" is not declared
	// 	state "Broken": state is unreachable from the initial state
	// 	state "On": non-final state has no way out: declare a transition out of it or make it final
	// unreachable: true
	// transition names an undeclared state: state "On", event "flip"
	// state is unreachable from the initial state: state "Broken", event ""
	// non-final state has no way out: state "On", event ""
}

func ExampleDefinition_Dot() {
	b := fsm.New[string, string, struct{}]("switch")
	b.State("Off", states.Initial)
	b.State("On", states.Normal)
	b.On("Off", "press", "On")
	b.On("On", "press", "Off")
	b.After("On", time.Minute, "Off")

	fmt.Print(b.MustBuild().Dot())
	// Output:
	// digraph "switch" {
	// 	rankdir=LR;
	// 	node [shape=box, style=rounded, fontname="Helvetica", fontsize=12];
	// 	edge [fontname="Helvetica", fontsize=10];
	// 	init [shape=point, width=0.15];
	// 	s0 [label="Off"];
	// 	s1 [label="On"];
	// 	init -> s0;
	// 	s0 -> s1 [label="press"];
	// 	s1 -> s0 [label="press"];
	// 	s1 -> s0 [label="after 1m0s", style=dotted];
	// }
}

// A choice state runs its function on entry and leaves by the event it
// returns; Mermaid draws it as a diamond with its label in a note.
func ExampleDefinition_Mermaid() {
	type machine = states.Machine[string, string, struct{}]
	chargeCard := states.Chooser("charge card", func(ctx context.Context, m machine) (string, error) {
		return "approved", nil
	})

	b := fsm.New[string, string, struct{}]("payment")
	b.State("Unpaid", states.Initial)
	b.Choice("Charging", chargeCard)
	b.State("Paid", states.Final)
	b.On("Unpaid", "pay", "Charging")
	b.On("Charging", "approved", "Paid")
	b.On("Charging", "declined", "Unpaid")

	fmt.Print(b.MustBuild().Mermaid())
	// Output:
	// stateDiagram-v2
	//     direction LR
	//     state "Unpaid" as s0
	//     state s1 <<choice>>
	//     note right of s1 : Charging<br>choose / charge card
	//     state "Paid" as s2
	//     [*] --> s0
	//     s0 --> s1 : pay
	//     s1 --> s2 : approved
	//     s1 --> s0 : declined
	//     s2 --> [*]
}

// WriteMermaid adds to the definition what only a running machine knows:
// here the state it is in and how often each transition was taken.
func ExampleWriteMermaid() {
	b := fsm.New[string, string, struct{}]("switch")
	b.State("Off", states.Initial)
	b.State("On", states.Normal)
	b.On("Off", "press", "On")
	b.On("On", "press", "Off")
	def := b.MustBuild()

	err := fsm.WriteMermaid(os.Stdout, def.Graph(), fsm.DiagramOptions{
		Highlight: "On",
		Visits:    map[int]int{0: 3, 1: 2}, // by declaration index
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// stateDiagram-v2
	//     direction LR
	//     state "Off" as s0
	//     state "On" as s1
	//     [*] --> s0
	//     s0 --> s1 : press ×3
	//     s1 --> s0 : press ×2
	//     classDef current fill:#ffd54f,stroke:#333,stroke-width:2px
	//     class s1 current
}
