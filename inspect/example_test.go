package inspect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/states"
)

// A breaker made with the inspector's observer and registered under a
// name, the inspector mounted under /debug/statecraft/ as net/http/pprof
// is, and its JSON view read after the breaker opened.
func Example() {
	in := inspect.New(nil)
	b, err := breaker.New(breaker.Config{}, in.Observe("payments"))
	if err != nil {
		panic(err)
	}
	defer b.Close()
	if err := inspect.AddMachine(in, "payments", b); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/statecraft/", http.StripPrefix("/debug/statecraft", in))

	b.ForceOpen()

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/statecraft/api/view", nil))
	var v inspect.View
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		panic(err)
	}
	m := v.Machines[0]
	fmt.Println(m.Name, m.State, *m.Generation, m.Recent[0].From, "->", m.Recent[0].To)
	// Output: payments Open 1 Closed -> Open
}

// A machine of one's own, run by an engine.Instance.
func ExampleAddMachine() {
	b := fsm.New[string, string, struct{}]("switch")
	b.State("Off", states.Initial)
	b.State("On", states.Normal)
	b.On("Off", "flip", "On")
	b.On("On", "flip", "Off")
	def, err := b.Build()
	if err != nil {
		panic(err)
	}
	in := inspect.New(nil)
	sw, err := engine.NewInstance(def, struct{}{}, in.Observe("hall light"))
	if err != nil {
		panic(err)
	}
	defer sw.Close()
	if err := inspect.AddMachine(in, "hall light", sw); err != nil {
		panic(err)
	}
	for range 3 {
		if _, err := sw.Fire(context.Background(), "flip"); err != nil {
			panic(err)
		}
	}
	m := in.View().Machines[0]
	fmt.Println(m.State, m.Steps, m.Visits)
	// Output: On 3 map[0:2 1:1]
}
