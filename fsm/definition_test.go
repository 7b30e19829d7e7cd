package fsm_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/compiled"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// The tests in this file use string states and events so that labels are
// the values themselves.
type (
	defBuilder = fsm.Builder[string, string, struct{}]
	defMachine = states.Machine[string, string, struct{}]
)

func defAction(name string) states.Action[string, string, struct{}] {
	return states.Do(name, func(context.Context, defMachine) error { return nil })
}

func defGuard(name string) transitions.Guard[string, string, struct{}] {
	return transitions.If(name, func(defMachine) bool { return true })
}

func defChooser(name string) states.Choose[string, string, struct{}] {
	return states.Chooser(name, func(context.Context, defMachine) (string, error) { return "go", nil })
}

// defDoor declares the smallest valid machine: a (initial) --go--> b (final).
func defDoor(b *defBuilder) {
	b.State("a", states.Initial)
	b.State("b", states.Final)
	b.On("a", "go", "b")
}

// defProblem is one defect a test expects, by sentinel and labels.
type defProblem struct {
	err          error
	state, event string
}

func TestBuildReportsEachValidationError(t *testing.T) {
	var noFn transitions.GuardFunc[string, string, struct{}]
	var noAction states.ActionFunc[string, string, struct{}]
	tests := []struct {
		name  string
		setup func(b *defBuilder)
		want  []defProblem
	}{
		{
			name: "no initial",
			setup: func(b *defBuilder) {
				b.State("a", states.Normal)
				b.State("b", states.Final)
				b.On("a", "go", "b")
			},
			want: []defProblem{{fsm.ErrNoInitial, "", ""}},
		},
		{
			name: "multiple initial",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Initial)
				b.On("c", "go", "b")
			},
			// The second initial state is not the initial one, so nothing
			// reaches it.
			want: []defProblem{{fsm.ErrMultipleInitial, "c", ""}, {fsm.ErrUnreachable, "c", ""}},
		},
		{
			name: "duplicate state",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("b", states.Normal)
			},
			want: []defProblem{{fsm.ErrDuplicateState, "b", ""}},
		},
		{
			name: "duplicate label",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Final).Labelled("b")
				b.On("a", "other", "c")
			},
			want: []defProblem{{fsm.ErrDuplicateLabel, "b", ""}},
		},
		{
			name: "unknown target",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "stop", "nowhere")
			},
			want: []defProblem{{fsm.ErrUnknownState, "a", "stop"}},
		},
		{
			name: "unknown source",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("nowhere", "go", "b")
			},
			want: []defProblem{{fsm.ErrUnknownState, "nowhere", "go"}},
		},
		{
			name: "unreachable",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("island", states.Normal)
				b.On("island", "go", "b")
			},
			want: []defProblem{{fsm.ErrUnreachable, "island", ""}},
		},
		{
			name: "dead end",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("stuck", states.Normal)
				b.On("a", "jam", "stuck")
			},
			want: []defProblem{{fsm.ErrDeadEnd, "stuck", ""}},
		},
		{
			name: "final with transition",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("b", "back", "a")
			},
			want: []defProblem{{fsm.ErrFinalHasTransition, "b", "back"}},
		},
		{
			name: "guard with empty name",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "try", "b").When(defGuard(""))
			},
			want: []defProblem{{fsm.ErrUnnamedGuard, "a", "try"}},
		},
		{
			name: "guard with nil function",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "try", "b").When(transitions.If("ok", noFn))
			},
			want: []defProblem{{fsm.ErrUnnamedGuard, "a", "try"}},
		},
		{
			name: "And with no operands",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "try", "b").When(transitions.And[string, string, struct{}]())
			},
			want: []defProblem{{fsm.ErrUnnamedGuard, "a", "try"}},
		},
		{
			name: "Not of an unnamed guard",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "try", "b").When(transitions.Not(defGuard("")))
			},
			want: []defProblem{{fsm.ErrUnnamedGuard, "a", "try"}},
		},
		{
			name: "transition action with empty name",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "try", "b").Do(defAction(""))
			},
			want: []defProblem{{fsm.ErrUnnamedAction, "a", "try"}},
		},
		{
			name: "transition action with nil function",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "try", "b").Do(states.Do("log", noAction))
			},
			want: []defProblem{{fsm.ErrUnnamedAction, "a", "try"}},
		},
		{
			name: "unnamed entry action",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Normal).OnEntry(defAction(""))
				b.On("a", "to c", "c")
				b.On("c", "go", "b")
			},
			want: []defProblem{{fsm.ErrUnnamedAction, "c", ""}},
		},
		{
			name: "unnamed exit action",
			setup: func(b *defBuilder) {
				b.State("a", states.Initial).OnExit(defAction("ok"), states.Do("bye", noAction))
				b.State("b", states.Final)
				b.On("a", "go", "b")
			},
			want: []defProblem{{fsm.ErrUnnamedAction, "a", ""}},
		},
		{
			name: "two unguarded transitions",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Final)
				b.On("a", "go", "c")
			},
			want: []defProblem{{fsm.ErrGuardOrder, "a", "go"}},
		},
		{
			name: "unguarded before guarded",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Final)
				b.On("a", "go", "c").When(defGuard("late"))
			},
			want: []defProblem{{fsm.ErrGuardOrder, "a", "go"}},
		},
		{
			name: "choice state without a function",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.Choice("c", states.Choose[string, string, struct{}]{Name: "pick"})
				b.On("a", "decide", "c")
				b.On("c", "go", "b")
			},
			want: []defProblem{{fsm.ErrChoice, "c", ""}},
		},
		{
			name: "choice state without a name",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.Choice("c", defChooser(""))
				b.On("a", "decide", "c")
				b.On("c", "go", "b")
			},
			want: []defProblem{{fsm.ErrChoice, "c", ""}},
		},
		{
			name: "choice function on a normal state",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Normal).Choose = defChooser("pick")
				b.On("a", "decide", "c")
				b.On("c", "go", "b")
			},
			want: []defProblem{{fsm.ErrChoice, "c", ""}},
		},
		{
			name: "unknown kind",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.State("c", states.Kind(9))
				b.On("a", "odd", "c")
				b.On("c", "go", "b")
			},
			want: []defProblem{{fsm.ErrChoice, "c", ""}},
		},
		{
			name: "internal transition changing state",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.On("a", "poke", "b").AsInternal()
			},
			want: []defProblem{{fsm.ErrInternalTarget, "a", "poke"}},
		},
		{
			name: "internal delayed transition",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.After("a", time.Second, "a").AsInternal()
			},
			want: []defProblem{{fsm.ErrInternalTarget, "a", "after 1s"}},
		},
		{
			name: "negative delay",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.After("a", -time.Second, "b")
			},
			want: []defProblem{{fsm.ErrBadDelay, "a", "after -1s"}},
		},
		{
			name: "unnamed delay function",
			setup: func(b *defBuilder) {
				defDoor(b)
				b.AfterFunc("a", "", func(defMachine) time.Duration { return 0 }, "b")
			},
			want: []defProblem{{fsm.ErrBadDelay, "a", "after "}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fsm.New[string, string, struct{}]("m")
			tt.setup(b)
			def, err := b.Build()
			require.Error(t, err, "Build() succeeded, want %d problems", len(tt.want))
			assert.Nil(t, def, "Build() returned a definition along with an error")
			checkProblems(t, err, tt.want)
		})
	}
}

// checkProblems checks that err is a *fsm.BuildError listing exactly want,
// in order, and that errors.Is and errors.As see through it.
func checkProblems(t *testing.T, err error, want []defProblem) {
	t.Helper()
	var be *fsm.BuildError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "m", be.Machine, "BuildError.Machine")
	var first *fsm.ValidationError
	require.ErrorAs(t, err, &first)
	if len(want) > 0 {
		assert.ErrorIs(t, first, want[0].err, "errors.As finds the first problem")
	}
	for _, w := range want {
		assert.ErrorIs(t, err, w.err)
	}
	type problem struct {
		Err          error
		State, Event string
	}
	var got, wantP []problem
	for _, p := range be.Problems {
		got = append(got, problem{p, p.State, p.Event}) // p.Is matches its Err
		assert.NotEmpty(t, p.Error(), "a problem's message")
	}
	for _, w := range want {
		wantP = append(wantP, problem{w.err, w.state, w.event})
	}
	if diff := cmp.Diff(wantP, got, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestBuildReportsEveryDefectAtOnce(t *testing.T) {
	b := fsm.New[string, string, struct{}]("m")
	b.State("a", states.Initial)
	b.State("b", states.Final)
	b.State("a", states.Normal)                              // duplicate state
	b.State("stuck", states.Normal)                          // dead end
	b.State("island", states.Normal)                         // unreachable
	b.On("a", "go", "b")                                     // the else comes first...
	b.On("a", "go", "stuck").When(defGuard(""))              // ...and this guard is unnamed
	b.On("a", "lost", "nowhere")                             // unknown target
	b.On("island", "go", "b").Do(defAction("")).AsInternal() // unnamed action, internal changing state
	b.On("b", "again", "a")                                  // final with a transition
	b.After("a", -time.Millisecond, "b")                     // negative delay
	_, err := b.Build()
	checkProblems(t, err, []defProblem{
		{fsm.ErrDuplicateState, "a", ""},
		{fsm.ErrUnnamedGuard, "a", "go"},
		{fsm.ErrUnknownState, "a", "lost"},
		{fsm.ErrUnnamedAction, "island", "go"},
		{fsm.ErrInternalTarget, "island", "go"},
		{fsm.ErrFinalHasTransition, "b", "again"},
		{fsm.ErrBadDelay, "a", "after -1ms"},
		{fsm.ErrGuardOrder, "a", "go"},
		{fsm.ErrUnreachable, "island", ""},
		{fsm.ErrDeadEnd, "stuck", ""},
	})
}

func TestBuildAcceptsUnguardedTransitionLast(t *testing.T) {
	b := fsm.New[string, string, struct{}]("m")
	defDoor(b)
	b.State("c", states.Final)
	b.State("d", states.Final)
	b.On("a", "go", "c").When(defGuard("first"))
	b.On("a", "go", "d").When(transitions.Not(defGuard("first")))
	if _, err := b.Build(); err == nil {
		t.Fatal("unguarded transition first: Build() succeeded")
	}

	b = fsm.New[string, string, struct{}]("m")
	b.State("a", states.Initial)
	b.State("b", states.Final)
	b.State("c", states.Final)
	b.State("d", states.Final)
	b.On("a", "go", "c").When(defGuard("first"))
	b.On("a", "go", "d").When(defGuard("second"))
	b.On("a", "go", "b") // the else
	if _, err := b.Build(); err != nil {
		t.Fatalf("unguarded transition last: %v", err)
	}
}

func TestCandidatesKeepDeclarationOrder(t *testing.T) {
	b := fsm.New[string, string, struct{}]("m")
	b.State("a", states.Initial)
	b.State("b", states.Final)
	b.State("c", states.Final)
	b.State("d", states.Final)
	b.On("a", "go", "c").When(defGuard("first"))  // decl 0
	b.On("a", "stop", "b")                        // decl 1
	b.After("a", time.Second, "b")                // decl 2
	b.On("a", "go", "d").When(defGuard("second")) // decl 3
	b.On("a", "go", "b")                          // decl 4: the else
	def, err := b.Build()
	require.NoError(t, err)
	m := compiled.Of[string, string, struct{}](def)
	s, e := m.StateIndex("a"), m.EventIndex("go")
	if s < 0 || e < 0 {
		t.Fatalf("StateIndex(a) = %d, EventIndex(go) = %d", s, e)
	}
	cands := m.Candidates(s, e)
	type cand struct {
		decl  int
		to    string
		guard string
	}
	var got []cand
	for _, c := range cands {
		got = append(got, cand{c.Decl, m.State(c.To).ID, c.GuardName})
		if c.From != s || c.Event != e {
			t.Errorf("candidate %d: From %d Event %d, want %d %d", c.Decl, c.From, c.Event, s, e)
		}
	}
	want := []cand{{0, "c", "first"}, {3, "d", "second"}, {4, "b", ""}}
	assert.Equal(t, want, got, "Candidates(a, go)")
	assert.Nil(t, cands[2].Guard, "the else has a compiled guard")
	if got := m.Candidates(s, m.EventIndex("stop")); len(got) != 1 || got[0].Decl != 1 {
		t.Errorf("Candidates(a, stop) = %v, want decl 1 only", got)
	}
	assert.Empty(t, m.Candidates(m.StateIndex("b"), e), "Candidates(b, go) edges")
	// The delayed transition is no event's candidate; its state lists it.
	delayed := m.State(s).Delayed
	if len(delayed) != 1 || m.Edge(int(delayed[0])).Decl != 2 || m.Edge(int(delayed[0])).Event != -1 {
		t.Errorf("Delayed of a = %v, want the edge of decl 2 with event -1", delayed)
	}
	if d := m.DeclEdge(2); d.After != time.Second {
		t.Errorf("DeclEdge(2).After = %v, want 1s", d.After)
	}
	for decl := range def.Transitions() {
		assert.Equal(t, decl, m.DeclEdge(decl).Decl, "DeclEdge().Decl")
	}
}

func TestAllowUnreachableTurnsUnreachableIntoWarnings(t *testing.T) {
	setup := func(b *defBuilder) {
		defDoor(b)
		b.State("island", states.Normal)
		b.State("atoll", states.Final)
		b.On("island", "go", "atoll")
	}
	b := fsm.New[string, string, struct{}]("m")
	setup(b)
	if _, err := b.Build(); !errors.Is(err, fsm.ErrUnreachable) {
		t.Fatalf("without AllowUnreachable: Build() error = %v, want ErrUnreachable", err)
	}

	b = fsm.New[string, string, struct{}]("m")
	setup(b)
	def, err := b.AllowUnreachable().Build()
	require.NoError(t, err, "with AllowUnreachable")
	var got []string
	for _, w := range def.Warnings() {
		assert.ErrorIs(t, w, fsm.ErrUnreachable, "warning is not ErrUnreachable")
		got = append(got, w.State)
	}
	assert.Equal(t, []string{"island", "atoll"}, got, "Warnings() name")
	// Other defects stay errors.
	b = fsm.New[string, string, struct{}]("m")
	setup(b)
	b.State("stuck", states.Normal)
	if _, err := b.AllowUnreachable().Build(); !errors.Is(err, fsm.ErrDeadEnd) || errors.Is(err, fsm.ErrUnreachable) {
		t.Errorf("with AllowUnreachable and a dead end: error = %v, want ErrDeadEnd only", err)
	}
}

func TestWarningsEmptyForValidMachine(t *testing.T) {
	b := fsm.New[string, string, struct{}]("m")
	defDoor(b)
	assert.Empty(t, b.MustBuild().Warnings(), "Warnings()")
}

func TestMustBuildPanicsWithBuildError(t *testing.T) {
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, fsm.ErrNoInitial) {
			t.Errorf("MustBuild panicked with %v, want a BuildError with ErrNoInitial", r)
		}
	}()
	fsm.New[string, string, struct{}]("m").MustBuild()
}

// defTurnstile is a small machine used by the introspection tests.
func defTurnstile() *defBuilder {
	b := fsm.New[string, string, struct{}]("turnstile")
	b.State("locked", states.Initial)
	b.State("unlocked", states.Normal).Labelled("Unlocked!")
	b.State("broken", states.Final)
	b.State("gone", states.Final)
	b.On("locked", "coin", "unlocked").When(defGuard("valid coin"))
	b.On("locked", "coin", "locked")
	b.On("locked", "kick", "broken")
	b.On("unlocked", "push", "locked").Do(defAction("count"))
	b.On("unlocked", "coin", "unlocked").AsInternal()
	b.Timeout("unlocked", 5*time.Second, "locked")
	b.On("unlocked", "remove", "gone")
	return b
}

func TestDefinitionIntrospection(t *testing.T) {
	def := defTurnstile().MustBuild()
	m := compiled.Of[string, string, struct{}](def) // the tables the drivers read
	assert.Equal(t, "turnstile", def.Name(), "Name()")
	assert.Equal(t, "locked", def.Initial(), "Initial()")
	assert.Equal(t, []string{"locked", "unlocked", "broken", "gone"}, def.States(), "States()")
	assert.Equal(t, []string{"broken", "gone"}, def.Finals(), "Finals()")
	assert.Equal(t, []string{"coin", "kick", "push", "remove"}, def.Events(), "Events()")
	ts := def.Transitions()
	require.Len(t, ts, 7)
	require.Len(t, m.Edges, 7)
	if ts[0].Guard.Name() != "valid coin" || ts[3].Actions[0].Name != "count" || !ts[4].Internal || !ts[5].Delayed || ts[6].To != "gone" {
		t.Errorf("Transitions() not in declaration order: %+v", ts)
	}
	ts[0].To = "changed"
	assert.Equal(t, "unlocked", def.Transitions()[0].To, "changing Transitions()'s result changed the definition")
	if got := def.StateSpecs(); len(got) != 4 || got[1].Label != "Unlocked!" {
		t.Errorf("StateSpecs() = %+v", got)
	}

	accepts := []struct {
		state string
		want  []string
	}{
		{"locked", []string{"coin", "kick"}},
		{"unlocked", []string{"coin", "push", "remove"}}, // the timeout is no event
		{"broken", nil},
		{"gone", nil},
		{"unknown", nil},
	}
	for _, a := range accepts {
		if got := def.Accepts(a.state); !slices.Equal(got, a.want) {
			t.Errorf("Accepts(%q) = %v, want %v", a.state, got, a.want)
		}
	}

	labels := []struct {
		state string
		want  string
		ok    bool
	}{
		{"locked", "locked", true},
		{"unlocked", "Unlocked!", true},
		{"unknown", "", false},
	}
	for _, l := range labels {
		if got, ok := def.Label(l.state); got != l.want || ok != l.ok {
			t.Errorf("Label(%q) = %q, %v, want %q, %v", l.state, got, ok, l.want, l.ok)
		}
	}

	if len(m.States) != 4 || len(m.Events) != 4 || m.Initial != m.StateIndex("locked") {
		t.Errorf("%d states, %d events, initial %d", len(m.States), len(m.Events), m.Initial)
	}
	for i := range len(m.Events) {
		if m.EventLabels[i] != m.Events[i] || m.EventIndex(m.Events[i]) != i {
			t.Errorf("event %d: label %q, value %q", i, m.EventLabels[i], m.Events[i])
		}
	}
	for i := range len(m.States) {
		assert.Equal(t, i, m.StateIndex(m.State(i).ID), "state does not round-trip")
	}
	if m.StateIndex("unknown") != -1 || m.EventIndex("unknown") != -1 {
		t.Error("unknown state or event has an index")
	}
}

func TestEdgePlainOnlyWhenNoUserCodeRuns(t *testing.T) {
	b := fsm.New[string, string, struct{}]("m")
	b.State("a", states.Initial)
	b.State("plain", states.Normal)
	b.State("entry", states.Normal).OnEntry(defAction("hello"))
	b.State("exit", states.Normal).OnExit(defAction("bye"))
	b.State("timed", states.Normal)
	b.Choice("choice", defChooser("pick"))
	b.State("z", states.Final)
	b.On("a", "plain", "plain")                       // 0
	b.On("a", "guarded", "plain").When(defGuard("g")) // 1
	b.On("a", "action", "plain").Do(defAction("act")) // 2
	b.On("a", "entry", "entry")                       // 3
	b.On("a", "exit", "exit")                         // 4: entering a state with exit actions runs none
	b.On("a", "timed", "timed")                       // 5
	b.On("a", "choice", "choice")                     // 6
	b.On("a", "self", "a")                            // 7
	b.On("a", "internal", "a").AsInternal()           // 8
	b.On("plain", "go", "z")                          // 9
	b.On("entry", "go", "z")                          // 10
	b.On("exit", "go", "z")                           // 11: leaves a state with exit actions
	b.After("timed", time.Second, "z")                // 12
	b.On("choice", "go", "z")                         // 13
	b.On("timed", "back", "a")                        // 14
	want := []bool{true, false, false, false, true, false, false, true, false, true, true, false, false, true, false}
	def := b.MustBuild()
	m := compiled.Of[string, string, struct{}](def)
	for decl, w := range want {
		if got := m.DeclEdge(decl).Plain; got != w {
			t.Errorf("transition %d (%s --%s--> %s): Plain = %v, want %v", decl,
				def.Transitions()[decl].From, def.Graph().Edges[decl].Trigger, def.Transitions()[decl].To, got, w)
		}
	}
}

func TestFingerprintFollowsStructure(t *testing.T) {
	build := func(guard, target string, fn func(defMachine) bool) uint64 {
		b := fsm.New[string, string, struct{}]("m")
		b.State("a", states.Initial)
		b.State("b", states.Final)
		b.State("c", states.Final)
		b.On("a", "go", target).When(transitions.If(guard, fn))
		b.On("a", "go", "b")
		b.On("a", "other", "c")
		return b.MustBuild().Fingerprint()
	}
	yes := func(defMachine) bool { return true }
	no := func(defMachine) bool { return false }
	base := build("ok", "c", yes)
	if base == 0 {
		t.Error("Fingerprint() = 0")
	}
	assert.Equal(t, base, build("ok", "c", yes), "identical builds: fingerprints differ")
	assert.Equal(t, base, build("ok", "c", no), "only the guard's code changed: fingerprint")
	if got := build("fine", "c", yes); got == base {
		t.Error("guard renamed: fingerprint unchanged")
	}
	if got := build("ok", "b", yes); got == base {
		t.Error("edge retargeted: fingerprint unchanged")
	}

	other := func(mod func(b *defBuilder)) uint64 {
		b := fsm.New[string, string, struct{}]("m")
		defDoor(b)
		mod(b)
		return b.MustBuild().Fingerprint()
	}
	door := other(func(*defBuilder) {})
	changes := map[string]func(b *defBuilder){
		"added edge":  func(b *defBuilder) { b.On("a", "also", "b") },
		"added state": func(b *defBuilder) { b.State("c", states.Final); b.On("a", "c", "c") },
		"internal":    func(b *defBuilder) { b.On("a", "poke", "a").AsInternal() },
		"delay":       func(b *defBuilder) { b.After("a", time.Second, "b") },
	}
	for name, mod := range changes {
		if got := other(mod); got == door {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
	b := fsm.New[string, string, struct{}]("renamed")
	defDoor(b)
	if b.MustBuild().Fingerprint() == door {
		t.Error("machine renamed: fingerprint unchanged")
	}
	b = fsm.New[string, string, struct{}]("m")
	b.State("a", states.Initial)
	b.State("b", states.Final).Labelled("B")
	b.On("a", "go", "b")
	if b.MustBuild().Fingerprint() == door {
		t.Error("state relabelled: fingerprint unchanged")
	}
}
