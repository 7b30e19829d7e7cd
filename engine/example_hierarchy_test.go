package engine_test

import (
	"context"
	"fmt"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// A call machine with composite states: "cancel" is declared once on
// Executing and applies in each of its children, and the actions show the
// UML order of exits (innermost first) and entries (outermost first).
func ExampleInstance_IsIn() {
	type machine = states.Machine[string, string, struct{}]
	say := func(what string) states.Action[string, string, struct{}] {
		return states.Do(what, func(ctx context.Context, m machine) error {
			fmt.Println(" ", what)
			return nil
		})
	}
	state := func(b *fsm.Builder[string, string, struct{}], id string, kind states.Kind) *states.Spec[string, string, struct{}] {
		return b.State(id, kind).OnEntry(say("enter " + id)).OnExit(say("exit " + id))
	}

	b := fsm.New[string, string, struct{}]("call")
	state(b, "Executing", states.Initial)
	state(b, "Attempt", states.Initial).In("Executing")
	state(b, "Backoff", states.Normal).In("Executing")
	state(b, "Recovering", states.Normal)
	state(b, "Fallback", states.Initial).In("Recovering")
	b.State("Done", states.Final)
	b.On("Attempt", "fail", "Backoff")
	b.On("Backoff", "retry", "Attempt")
	b.On("Executing", "cancel", "Recovering")
	b.On("Recovering", "done", "Done")
	def := b.MustBuild()

	fmt.Println("start:")
	i, _ := engine.NewInstance(def, struct{}{})
	defer i.Close()
	for _, e := range []string{"fail", "cancel"} {
		fmt.Println(e + ":")
		i.Fire(context.Background(), e)
	}
	fmt.Println("state:", i.State())
	fmt.Println("in Recovering:", i.IsIn("Recovering"), "in Executing:", i.IsIn("Executing"))
	// Output:
	// start:
	//   enter Executing
	//   enter Attempt
	// fail:
	//   exit Attempt
	//   enter Backoff
	// cancel:
	//   exit Backoff
	//   exit Executing
	//   enter Recovering
	//   enter Fallback
	// state: Fallback
	// in Recovering: true in Executing: false
}
