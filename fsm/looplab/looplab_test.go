package looplab_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	lfsm "github.com/looplab/fsm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/fsm/looplab"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// door is looplab's README machine.
var door = lfsm.Events{
	{Name: "open", Src: []string{"closed"}, Dst: "open"},
	{Name: "close", Src: []string{"open"}, Dst: "closed"},
}

// order is a machine with several sources per event, a self-loop and two
// states with no way out.
var order = lfsm.Events{
	{Name: "pay", Src: []string{"new"}, Dst: "paid"},
	{Name: "ship", Src: []string{"paid"}, Dst: "shipped"},
	{Name: "cancel", Src: []string{"new", "paid"}, Dst: "cancelled"},
	{Name: "remind", Src: []string{"new"}, Dst: "new"},
	{Name: "deliver", Src: []string{"shipped"}, Dst: "delivered"},
}

func mustImport(t *testing.T, name, initial string, events lfsm.Events, opts ...looplab.Option) (*looplab.Definition, []*fsm.ValidationError) {
	t.Helper()
	def, warnings, err := looplab.Import(name, initial, events, opts...)
	require.NoError(t, err, "Import")
	return def, warnings
}

func TestImportDoor(t *testing.T) {
	def, warnings := mustImport(t, "door", "closed", door)
	assert.Empty(t, warnings, "warnings")
	if def.Name() != "door" || def.Initial() != "closed" {
		t.Errorf("Name() = %q, Initial() = %q", def.Name(), def.Initial())
	}
	assert.Equal(t, []string{"closed", "open"}, def.States(), "States()")
	assert.Empty(t, def.Finals(), "Finals(): the door always opens or closes")
	assert.Len(t, def.Transitions(), 2, "transitions")
	for state, want := range map[string][]string{"closed": {"open"}, "open": {"close"}, "ajar": nil} {
		if got := def.Accepts(state); !slices.Equal(got, want) {
			t.Errorf("Accepts(%q) = %v, want %v", state, got, want)
		}
	}
}

func TestImportOneTransitionPerSourceAndInfersFinals(t *testing.T) {
	def, warnings := mustImport(t, "order", "new", order)
	assert.Empty(t, warnings, "warnings")
	assert.Equal(t, []string{"new", "paid", "shipped", "cancelled", "delivered"}, def.States(), "States()")
	assert.Equal(t, []string{"cancelled", "delivered"}, def.Finals(), "Finals()")
	type tr struct{ from, event, to string }
	var got []tr
	for _, s := range def.Transitions() {
		got = append(got, tr{s.From, s.Event, s.To})
	}
	want := []tr{
		{"new", "pay", "paid"},
		{"paid", "ship", "shipped"},
		{"new", "cancel", "cancelled"},
		{"paid", "cancel", "cancelled"},
		{"new", "remind", "new"},
		{"shipped", "deliver", "delivered"},
	}
	assert.Equal(t, want, got, "Transitions()")
	if !def.Transitions()[4].Internal {
		t.Error("the self-loop remind is not internal")
	}
	assert.Equal(t, []string{"pay", "cancel", "remind"}, def.Accepts("new"), "Accepts(new)")
}

func TestImportKeepsNamesWithQuotesAndSpaces(t *testing.T) {
	const (
		quoted = `"quoted" state`
		back   = `back\slash`
		event  = "open the door"
	)
	events := lfsm.Events{
		{Name: event, Src: []string{quoted}, Dst: "wide open"},
		{Name: `say "bye"`, Src: []string{"wide open"}, Dst: back},
	}
	def, _ := mustImport(t, "odd names", quoted, events)
	assert.Equal(t, []string{back}, def.Finals(), "Finals()")
	if got, ok := def.Label(quoted); got != quoted || !ok {
		t.Errorf("Label(%q) = %q, %v", quoted, got, ok)
	}
	g := def.Graph()
	var labels []string
	for _, s := range g.States {
		labels = append(labels, s.Label)
	}
	assert.Equal(t, []string{quoted, "wide open", back}, labels, "graph states")
	if len(g.Edges) != 2 || g.Edges[0].Label() != event || g.Edges[1].Label() != `say "bye"` {
		t.Errorf("graph edges %+v", g.Edges)
	}
	if g.States[g.Edges[0].From].Label != quoted || g.States[g.Edges[0].To].Label != "wide open" {
		t.Errorf("edge 0 joins %q and %q", g.States[g.Edges[0].From].Label, g.States[g.Edges[0].To].Label)
	}
}

func TestImportWarnsOfUnreachableState(t *testing.T) {
	events := append(lfsm.Events{
		{Name: "wake", Src: []string{"limbo"}, Dst: "closed"},
	}, door...)
	def, warnings := mustImport(t, "door", "closed", events)
	require.Len(t, warnings, 1, "warnings")
	require.ErrorIs(t, warnings[0], fsm.ErrUnreachable, "warnings")
	require.Equal(t, "limbo", warnings[0].State, "warnings")
	if dw := def.Warnings(); len(dw) != 1 || dw[0] != warnings[0] {
		t.Errorf("Definition.Warnings() = %v, want the same warning", dw)
	}
	if got := def.Accepts("limbo"); !slices.Equal(got, []string{"wake"}) {
		t.Errorf("Accepts(limbo) = %v, want [wake]", got)
	}

	_, _, err := looplab.Import("door", "closed", events, looplab.Strict())
	var ve *fsm.ValidationError
	if !errors.As(err, &ve) || !errors.Is(ve, fsm.ErrUnreachable) || ve.State != "limbo" {
		t.Errorf("Strict: error = %v, want limbo unreachable", err)
	}
}

func TestImportRedeclaredEventLaterWins(t *testing.T) {
	events := lfsm.Events{
		{Name: "open", Src: []string{"closed"}, Dst: "open"},
		{Name: "close", Src: []string{"open"}, Dst: "closed"},
		{Name: "open", Src: []string{"closed", "open"}, Dst: "wide open"},
		{Name: "close", Src: []string{"wide open"}, Dst: "closed"},
	}
	def, warnings := mustImport(t, "door", "closed", events)
	// Dropping closed --open--> open leaves open unreachable, as it is in
	// looplab.
	require.Len(t, warnings, 2, "warnings")
	if w := warnings[0]; !errors.Is(w, looplab.ErrRedeclared) || w.State != "closed" || w.Event != "open" {
		t.Errorf("warning 0 = %v, want open redeclared from closed", w)
	}
	if w := warnings[1]; !errors.Is(w, fsm.ErrUnreachable) || w.State != "open" {
		t.Errorf("warning 1 = %v, want open unreachable", w)
	}
	if c := outOf(def, "closed", "open"); len(c) != 1 || c[0].To != "wide open" {
		t.Errorf("closed --open--> %v, want wide open only", c)
	}
	assert.Len(t, def.Transitions(), 4, "transitions (the earlier open from closed dropped)")
	agreesWithLooplab(t, "closed", events, def)

	_, _, err := looplab.Import("door", "closed", events, looplab.Strict())
	assert.ErrorIs(t, err, looplab.ErrRedeclared, "Strict: error")
}

func TestImportRefuses(t *testing.T) {
	tests := []struct {
		name    string
		initial string
		events  lfsm.Events
		want    error
	}{
		{"empty event name", "a", lfsm.Events{{Name: "", Src: []string{"a"}, Dst: "b"}}, looplab.ErrEmptyName},
		{"empty state name", "a", lfsm.Events{{Name: "go", Src: []string{"a"}, Dst: ""}}, looplab.ErrEmptyName},
		{"empty initial", "", door, looplab.ErrEmptyName},
		{"initial with no way out", "idle", nil, fsm.ErrDeadEnd},
		{"initial left by no event", "closed", lfsm.Events{{Name: "go", Src: []string{"open"}, Dst: "closed"}}, fsm.ErrDeadEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, warnings, err := looplab.Import("m", tt.initial, tt.events)
			assert.ErrorIs(t, err, tt.want)
			var be *fsm.BuildError
			if !errors.As(err, &be) || be.Machine != "m" {
				t.Errorf("error %T is not a *fsm.BuildError for m", err)
			}
			if def != nil || warnings != nil {
				t.Error("a definition or warnings came back with the error")
			}
		})
	}
}

// TestImportAgreesWithLooplab checks every (state, event) pair against a
// real looplab machine: looplab's Can agrees with Accepts, and firing the
// event reaches the state the definition's transition names.
func TestImportAgreesWithLooplab(t *testing.T) {
	machines := []struct {
		name, initial string
		events        lfsm.Events
	}{
		{"door", "closed", door},
		{"order", "new", order},
		{"unreachable", "closed", append(lfsm.Events{{Name: "wake", Src: []string{"limbo"}, Dst: "open"}}, door...)},
		{"spaces", `"quoted" state`, lfsm.Events{
			{Name: "open the door", Src: []string{`"quoted" state`}, Dst: "open door"},
			{Name: "close it", Src: []string{"open door", `"quoted" state`}, Dst: `"quoted" state`},
		}},
	}
	for _, m := range machines {
		t.Run(m.name, func(t *testing.T) {
			def, _ := mustImport(t, m.name, m.initial, m.events)
			agreesWithLooplab(t, m.initial, m.events, def)
		})
	}
}

// outOf returns the transitions out of state s on event e, in declaration
// order.
func outOf(def *looplab.Definition, s, e string) []transitions.Spec[string, string, struct{}] {
	var out []transitions.Spec[string, string, struct{}]
	for _, t := range def.Transitions() {
		if t.From == s && t.Event == e && !t.Delayed {
			out = append(out, t)
		}
	}
	return out
}

func agreesWithLooplab(t *testing.T, initial string, events lfsm.Events, def *looplab.Definition) {
	t.Helper()
	names := append(def.Events(), "no such event")
	for _, s := range def.States() {
		accepts := def.Accepts(s)
		for _, e := range names {
			f := lfsm.NewFSM(initial, events, nil)
			f.SetState(s)
			can := f.Can(e)
			if want := slices.Contains(accepts, e); can != want {
				t.Errorf("state %q, event %q: looplab Can = %v, Accepts contains it = %v", s, e, can, want)
			}
			if !can {
				continue
			}
			c := outOf(def, s, e)
			if len(c) != 1 {
				t.Errorf("state %q, event %q: %d candidates, want 1", s, e, len(c))
				continue
			}
			err := f.Event(context.Background(), e)
			var none lfsm.NoTransitionError
			if err != nil && !errors.As(err, &none) {
				t.Errorf("state %q, event %q: looplab Event: %v", s, e, err)
			}
			if to := c[0].To; f.Current() != to {
				t.Errorf("state %q, event %q: looplab went to %q, definition to %q", s, e, f.Current(), to)
			}
			if (err != nil) != c[0].Internal {
				t.Errorf("state %q, event %q: looplab NoTransitionError %v, internal %v", s, e, err != nil, c[0].Internal)
			}
		}
	}
	// Every state looplab knows is declared, and no other.
	known := map[string]bool{initial: true}
	for _, e := range events {
		for _, src := range e.Src {
			known[src] = true
		}
		known[e.Dst] = true
	}
	assert.Len(t, def.States(), len(known), "states declared, looplab knows")
	for s := range known {
		if _, ok := def.Label(s); !ok {
			t.Errorf("state %q is not declared", s)
		}
	}
	for _, s := range def.Finals() {
		assert.Empty(t, def.Accepts(s), "final %q accepts", s)
		for _, sp := range def.StateSpecs() {
			if sp.ID == s && sp.Kind != states.Final {
				t.Errorf("final %q has kind %v", s, sp.Kind)
			}
		}
	}
}

func ExampleImport() {
	def, warnings, err := looplab.Import("door", "closed", lfsm.Events{
		{Name: "open", Src: []string{"closed"}, Dst: "open"},
		{Name: "close", Src: []string{"open"}, Dst: "closed"},
		{Name: "break", Src: []string{"closed", "open"}, Dst: "broken"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("warnings:", len(warnings))
	for _, s := range def.States() {
		fmt.Println(s, def.Accepts(s))
	}
	fmt.Println("finals:", def.Finals())
	// Output:
	// warnings: 0
	// closed [open break]
	// open [close break]
	// broken []
	// finals: [broken]
}
