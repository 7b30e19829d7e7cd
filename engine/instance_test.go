package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// A small vocabulary for test machines: string states and events keep the
// failure messages readable.
type (
	mach = states.Machine[string, string, []string]
	bld  = fsm.Builder[string, string, []string]
)

func newB(name string) *bld { return fsm.New[string, string, []string](name) }

// note returns an action that appends its name to the machine's data.
func note(name string) states.Action[string, string, []string] {
	return states.Do(name, func(ctx context.Context, m mach) error {
		*m.Data() = append(*m.Data(), name)
		return nil
	})
}

func failing(name string, err error) states.Action[string, string, []string] {
	return states.Do(name, func(ctx context.Context, m mach) error { return err })
}

func panicking(name string) states.Action[string, string, []string] {
	return states.Do(name, func(ctx context.Context, m mach) error { panic("boom in " + name) })
}

func mustInstance(t *testing.T, b *bld, opts ...engine.Option) *engine.Instance[string, string, []string] {
	t.Helper()
	d, err := b.Build()
	require.NoError(t, err)
	i, err := engine.NewInstance(d, nil, opts...)
	require.NoError(t, err)
	return i
}

func data(i *engine.Instance[string, string, []string]) []string {
	var out []string
	i.Do(func(_ string, d *[]string) { out = append(out, *d...) })
	return out
}

func TestFireReturnsTheCallersTransition(t *testing.T) {
	b := newB("door")
	b.State("closed", states.Initial)
	b.State("open", states.Normal)
	b.On("closed", "open", "open")
	b.On("open", "close", "closed")
	i := mustInstance(t, b)

	res, err := i.Fire(context.Background(), "open")
	require.NoError(t, err)
	assert.Equal(t, engine.Result[string]{From: "closed", To: "open", Transition: 0}, res)
	enginetest.AssertState(t, i, "open")
	assert.Equal(t, uint32(1), i.Generation(), "Generation()")
}

func TestFireUnhandledLeavesStateAlone(t *testing.T) {
	b := newB("door")
	b.State("closed", states.Initial)
	b.State("open", states.Normal)
	b.On("closed", "open", "open").When(transitions.If("never", func(mach) bool { return false }))
	b.On("open", "close", "closed")
	i := mustInstance(t, b)

	for _, tc := range []struct {
		event   string
		guarded bool
	}{{"close", false}, {"open", true}, {"no such event", false}} {
		_, err := i.Fire(context.Background(), tc.event)
		var ue *engine.UnhandledError
		require.ErrorAs(t, err, &ue, "Fire(%q)", tc.event)
		require.ErrorIs(t, err, engine.ErrUnhandled, "Fire(%q)", tc.event)
		want := engine.UnhandledError{Machine: ue.Machine, State: "closed", Event: tc.event, Guarded: tc.guarded}
		if diff := cmp.Diff(want, *ue, cmpopts.IgnoreFields(engine.UnhandledError{}, "Final")); diff != "" {
			t.Errorf("Fire(%q) (-want +got):\n%s", tc.event, diff)
		}
	}
	enginetest.AssertState(t, i, "closed") // after unhandled events
	assert.Equal(t, uint32(0), i.Generation(), "Generation() after unhandled events")
}

func TestGuardsFirstMatchInDeclarationOrderWithElseLast(t *testing.T) {
	level := 0
	b := newB("grade")
	b.State("start", states.Initial)
	for _, s := range []string{"high", "mid", "low"} {
		b.State(s, states.Normal)
		b.On(s, "reset", "start")
	}
	b.On("start", "grade", "high").When(transitions.If("level>=2", func(mach) bool { return level >= 2 }))
	b.On("start", "grade", "mid").When(transitions.If("level>=1", func(mach) bool { return level >= 1 }))
	b.On("start", "grade", "low")
	i := mustInstance(t, b)
	for lvl, want := range []string{"low", "mid", "high"} {
		level = lvl
		res, err := i.Fire(context.Background(), "grade")
		if err != nil || res.To != want {
			t.Errorf("level %d: got %v, %v; want %s", lvl, res.To, err, want)
		}
		i.Fire(context.Background(), "reset")
	}
}

func TestPhaseOrderIsGuardActionExitCommitEntry(t *testing.T) {
	b := newB("order")
	var seen []string
	b.State("a", states.Initial).OnExit(states.Do("exit a", func(ctx context.Context, m mach) error {
		seen = append(seen, "exit a in "+m.State())
		return nil
	}))
	b.State("b", states.Normal).OnEntry(states.Do("enter b", func(ctx context.Context, m mach) error {
		seen = append(seen, "enter b in "+m.State())
		return nil
	}))
	b.On("b", "back", "a")
	b.On("a", "go", "b").
		When(transitions.If("guard", func(m mach) bool { seen = append(seen, "guard in "+m.State()); return true })).
		Do(states.Do("act", func(ctx context.Context, m mach) error {
			ev, ok := m.Event()
			seen = append(seen, fmt.Sprintf("action on %s %v in %s", ev, ok, m.State()))
			return nil
		}))
	i := mustInstance(t, b)
	if _, err := i.Fire(context.Background(), "go"); err != nil {
		t.Fatal(err)
	}
	want := []string{"guard in a", "action on go true in a", "exit a in a", "enter b in b"}
	assert.Equal(t, want, seen, "order")
}

// TestErrorInEachPhase shows, for each phase, the error returned and the
// state the instance is left in, and that the instance keeps working.
func TestErrorInEachPhase(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name      string
		build     func(b *hookBuilder)
		phase     engine.Phase
		wantState string
		panics    bool
	}{
		{"guard panics", func(b *hookBuilder) {
			b.On("a", "go", "b").When(transitions.If("bad guard", func(mach) bool { panic("guard boom") }))
		}, engine.PhaseGuard, "a", true},
		{"action fails", func(b *hookBuilder) { b.On("a", "go", "b").Do(failing("act", errBoom)) }, engine.PhaseAction, "a", false},
		{"action panics", func(b *hookBuilder) { b.On("a", "go", "b").Do(panicking("act")) }, engine.PhaseAction, "a", true},
		{"exit fails", func(b *hookBuilder) {
			b.On("a", "go", "b")
			b.StateSpecsHook("a", func(s *states.Spec[string, string, []string]) { s.OnExit(failing("leave", errBoom)) })
		}, engine.PhaseExit, "a", false},
		{"entry fails", func(b *hookBuilder) {
			b.On("a", "go", "b")
			b.StateSpecsHook("b", func(s *states.Spec[string, string, []string]) { s.OnEntry(failing("arrive", errBoom)) })
		}, engine.PhaseEntry, "b", false},
		{"entry panics", func(b *hookBuilder) {
			b.On("a", "go", "b")
			b.StateSpecsHook("b", func(s *states.Spec[string, string, []string]) { s.OnEntry(panicking("arrive")) })
		}, engine.PhaseEntry, "b", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newHookBuilder()
			tc.build(b)
			i := mustInstance(t, b.bld)
			_, err := i.Fire(context.Background(), "go")
			var ae *engine.ActionError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.phase, ae.Phase, "Phase")
			assert.Equal(t, tc.wantState, ae.State, "State")
			assert.Equal(t, "go", ae.Event, "Event")
			var pe *engine.PanicError
			assert.Equal(t, tc.panics, errors.As(err, &pe), "errors.As(*PanicError)")
			if pe != nil {
				assert.NotEmpty(t, pe.Stack, "PanicError.Stack")
			}
			if !tc.panics {
				assert.ErrorIs(t, err, errBoom, "the action's error, wrapped")
			}
			enginetest.AssertState(t, i, tc.wantState)
			// Not wedged: the escape hatch still works from either state.
			_, err = i.Fire(context.Background(), "reset")
			assert.NoError(t, err, "Fire after failure")
			enginetest.AssertState(t, i, "a") // after reset
		})
	}
}

// hookBuilder declares states a and b (with a "reset" back to a) and lets a
// case decorate either state's spec after the fact.
type hookBuilder struct {
	bld   *bld
	specs map[string]*states.Spec[string, string, []string]
}

func newHookBuilder() *hookBuilder {
	h := &hookBuilder{bld: newB("phases"), specs: map[string]*states.Spec[string, string, []string]{}}
	h.specs["a"] = h.bld.State("a", states.Initial)
	h.specs["b"] = h.bld.State("b", states.Normal)
	h.bld.On("b", "reset", "a")
	h.bld.Internal("a", "reset")
	return h
}

func (h *hookBuilder) On(from, ev, to string) *transitions.Spec[string, string, []string] {
	return h.bld.On(from, ev, to)
}

func (h *hookBuilder) StateSpecsHook(s string, f func(*states.Spec[string, string, []string])) {
	f(h.specs[s])
}

func TestCancelledContextIsCheckedBeforeCommit(t *testing.T) {
	for _, plain := range []bool{true, false} {
		b := newB("ctx")
		b.State("a", states.Initial)
		b.State("b", states.Normal)
		tr := b.On("a", "go", "b")
		if !plain {
			tr.Do(note("act"))
		}
		b.On("b", "back", "a")
		i := mustInstance(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := i.Fire(ctx, "go")
		var nt *engine.NotTransitionedError
		require.ErrorAs(t, err, &nt, "plain=%v", plain)
		require.ErrorIs(t, err, engine.ErrNotTransitioned, "plain=%v", plain)
		require.ErrorIs(t, err, context.Canceled, "plain=%v", plain)
		if i.State() != "a" || i.Generation() != 0 {
			t.Errorf("plain=%v: state %q gen %d, want a 0", plain, i.State(), i.Generation())
		}
		if _, err := i.Fire(context.Background(), "go"); err != nil || i.State() != "b" {
			t.Errorf("plain=%v: instance wedged after cancelled Fire: %v", plain, err)
		}
	}
}

func TestRaisedEventsRunInOrderAfterTheCurrentStep(t *testing.T) {
	b := newB("raise")
	b.State("idle", states.Initial)
	b.State("one", states.Normal).OnEntry(note("enter one"))
	b.State("two", states.Normal).OnEntry(note("enter two"))
	b.State("three", states.Normal).OnEntry(note("enter three"))
	b.On("idle", "start", "one").Do(states.Do("raise both", func(ctx context.Context, m mach) error {
		m.Raise("next")
		m.Raise("last")
		*m.Data() = append(*m.Data(), "raised")
		return nil
	}))
	b.On("one", "next", "two")
	b.On("two", "last", "three")
	b.On("three", "start", "idle")
	i := mustInstance(t, b)
	res, err := i.Fire(context.Background(), "start")
	require.NoError(t, err)
	assert.Equal(t, "one", res.To, "caller's result To (its own transition)")
	enginetest.AssertState(t, i, "three")
	assert.Equal(t, []string{"raised", "enter one", "enter two", "enter three"}, data(i), "order")
}

func TestRaiseLoopHitsTheStepLimit(t *testing.T) {
	b := newB("loop")
	b.State("a", states.Initial)
	b.Internal("a", "ping").Do(states.Do("ping again", func(ctx context.Context, m mach) error {
		m.Raise("ping")
		return nil
	}))
	i := mustInstance(t, b, engine.WithMaxSteps(10))
	_, err := i.Fire(context.Background(), "ping")
	var sl *engine.StepLimitError
	require.ErrorAs(t, err, &sl)
	require.ErrorIs(t, err, engine.ErrStepLimit)
	require.Equal(t, 10, sl.Limit, "StepLimitError.Limit")
	// The queue was emptied: the next Fire is a single step again.
	_, err = i.Fire(context.Background(), "unknown")
	assert.ErrorIs(t, err, engine.ErrUnhandled, "after the loop")
}

func TestEventsRaisedByAFailedStepAreDropped(t *testing.T) {
	b := newB("drop")
	b.State("a", states.Initial)
	b.State("b", states.Normal)
	b.On("a", "go", "b").Do(states.Do("raise then fail", func(ctx context.Context, m mach) error {
		m.Raise("go")
		return errors.New("no")
	}))
	b.On("b", "go", "a")
	i := mustInstance(t, b)
	i.Fire(context.Background(), "go")
	enginetest.AssertState(t, i, "a") // the raised event must not run
}

func TestChoiceStateLeavesAtOnceByTheReturnedEvent(t *testing.T) {
	b := newB("choice")
	b.State("idle", states.Initial)
	b.Choice("check", states.Chooser("even?", func(ctx context.Context, m mach) (string, error) {
		*m.Data() = append(*m.Data(), "checked in "+m.State())
		if len(*m.Data())%2 == 1 {
			return "odd", nil
		}
		return "even", nil
	}))
	b.State("odd", states.Normal)
	b.State("even", states.Normal)
	b.On("idle", "go", "check")
	b.On("check", "odd", "odd")
	b.On("check", "even", "even")
	b.On("odd", "go", "check")
	b.On("even", "go", "check")
	i := mustInstance(t, b)
	for _, want := range []string{"odd", "even", "odd"} {
		res, err := i.Fire(context.Background(), "go")
		require.NoError(t, err, "Fire(go) = %+v", res)
		require.Equal(t, want, res.To, "Fire(go) = %+v", res)
		require.Equal(t, want, i.State(), "Fire(go) = %+v", res)
	}
}

func TestChoiceErrorCommitsTheChoiceState(t *testing.T) {
	b := newB("choice")
	b.State("idle", states.Initial)
	b.Choice("check", states.Chooser("fails", func(ctx context.Context, m mach) (string, error) {
		return "", errors.New("cannot decide")
	}))
	b.On("idle", "go", "check")
	b.On("check", "retry", "idle")
	i := mustInstance(t, b)
	_, err := i.Fire(context.Background(), "go")
	var ae *engine.ActionError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, engine.PhaseChoice, ae.Phase)
	require.Equal(t, "check", ae.State)
	if _, err := i.Fire(context.Background(), "retry"); err != nil || i.State() != "idle" {
		t.Errorf("cannot leave the choice state after its error: %v", err)
	}
}

func TestConcurrentFiresEachGetTheirOwnResult(t *testing.T) {
	const goroutines, per = 8, 500
	b := fsm.New[int, string, int]("counter")
	b.State(0, states.Initial)
	b.State(1, states.Normal)
	b.On(0, "flip", 1)
	b.On(1, "flip", 0)
	b.Internal(0, "count").Do(states.Do("inc", func(ctx context.Context, m states.Machine[int, string, int]) error {
		*m.Data()++
		return nil
	}))
	b.Internal(1, "count").Do(states.Do("inc", func(ctx context.Context, m states.Machine[int, string, int]) error {
		*m.Data()++
		return nil
	}))
	i, err := engine.NewInstance(b.MustBuild(), 0)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	flipsTo := map[int]int{}
	for g := range goroutines {
		wg.Go(func() {
			for k := range per {
				ev := "flip"
				if (g+k)%2 == 0 {
					ev = "count"
				}
				res, err := i.Fire(context.Background(), ev)
				if err != nil {
					t.Error(err)
					return
				}
				if ev == "flip" {
					if res.From == res.To {
						t.Errorf("flip result %+v did not change state", res)
					}
					mu.Lock()
					flipsTo[res.To]++
					mu.Unlock()
				} else if res.From != res.To {
					t.Errorf("internal result %+v changed state", res)
				}
			}
		})
	}
	wg.Wait()
	flips := flipsTo[0] + flipsTo[1]
	assert.Equal(t, goroutines*per/2, flips, "flips seen")
	// Flips alternate 0→1, 1→0, so the counts differ by at most one.
	if d := flipsTo[1] - flipsTo[0]; d != 0 && d != 1 {
		t.Errorf("flips to 1: %d, to 0: %d; each caller must see its own step", flipsTo[1], flipsTo[0])
	}
	assert.Equal(t, flips, int(i.Generation()), "Generation")
	var counted int
	i.Do(func(_ int, d *int) { counted = *d })
	assert.Equal(t, goroutines*per/2, counted, "counted internal events")
}

// TestDefinitionDrivesBehaviour edits one guard and one edge of an
// otherwise identical definition and shows the engine follows.
func TestDefinitionDrivesBehaviour(t *testing.T) {
	build := func(threshold int, target string) *engine.Instance[string, string, []string] {
		b := newB("gate")
		b.State("closed", states.Initial)
		b.State("open", states.Normal)
		b.State("jammed", states.Normal)
		b.On("closed", "push", target).When(transitions.If(fmt.Sprintf("pushes>=%d", threshold), func(m mach) bool {
			*m.Data() = append(*m.Data(), "push")
			return len(*m.Data()) >= threshold
		}))
		b.On("closed", "key", "open")
		b.On("closed", "kick", "jammed")
		b.On("open", "reset", "closed")
		b.On("jammed", "reset", "closed")
		return mustInstance(t, b)
	}
	push := func(i *engine.Instance[string, string, []string], n int) string {
		for range n {
			i.Fire(context.Background(), "push")
		}
		return i.State()
	}
	assert.Equal(t, "closed", push(build(2, "open"), 1), "threshold 2, one push")
	assert.Equal(t, "open", push(build(1, "open"), 1), "threshold 1, one push")
	assert.Equal(t, "jammed", push(build(1, "jammed"), 1), "edge to jammed")
}

func TestObserverSeesEveryStepInOrder(t *testing.T) {
	var recs []engine.Record
	b := newB("obs")
	b.State("a", states.Initial)
	b.State("b", states.Normal)
	b.On("a", "go", "b").When(transitions.If("ok", func(mach) bool { return true })).Do(states.Do("raise", func(ctx context.Context, m mach) error {
		m.Raise("back")
		return nil
	}))
	b.On("b", "back", "a")
	i := mustInstance(t, b, engine.WithObserver(engine.ObserverFunc(func(r engine.Record) { recs = append(recs, r) })))
	i.Fire(context.Background(), "go")
	i.Fire(context.Background(), "nope")
	require.Len(t, recs, 3, "records")
	want := []engine.Record{
		{Machine: "obs", From: "a", Event: "go", Guards: []engine.GuardOutcome{{Transition: 0, Guard: "ok", Held: true}}, Transition: 0, To: "b"},
		{Machine: "obs", From: "b", Event: "back", Raised: true, Transition: 1, To: "a"},
		{Machine: "obs", From: "a", Event: "nope", Transition: -1, To: "a", Err: engine.ErrUnhandled},
	}
	if diff := cmp.Diff(want, recs, cmpopts.IgnoreFields(engine.Record{}, "Time", "Duration"), cmpopts.EquateErrors()); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

var alwaysGuard = transitions.If("always", func(mach) bool { return true })

func TestEntryErrorsRouteToTheDeclaredErrorState(t *testing.T) {
	for _, declared := range []bool{false, true} {
		b := newB("errors")
		b.State("idle", states.Initial)
		b.State("working", states.Normal).OnEntry(failing("start work", errors.New("no power")))
		b.Choice("deciding", states.Chooser("decide", func(ctx context.Context, m mach) (string, error) {
			return "", errors.New("undecided")
		}))
		b.State("broken", states.Normal).OnEntry(note("enter broken"))
		b.On("idle", "work", "working")
		b.On("idle", "decide", "deciding")
		b.On("working", "stop", "idle")
		b.On("deciding", "stop", "idle")
		b.On("broken", "repair", "idle")
		if declared {
			b.ErrorState("broken")
		} else {
			b.On("idle", "break", "broken")
		}
		i := mustInstance(t, b)
		for ev, target := range map[string]string{"work": "working", "decide": "deciding"} {
			res, err := i.Fire(context.Background(), ev)
			var ae *engine.ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("declared=%v %s: error %v", declared, ev, err)
			}
			want := target
			if declared {
				want = "broken"
			}
			if i.State() != want || res.To != want {
				t.Errorf("declared=%v %s: state %s, result to %s; want %s", declared, ev, i.State(), res.To, want)
			}
			if declared {
				i.Fire(context.Background(), "repair")
			} else {
				i.Fire(context.Background(), "stop")
			}
		}
		if declared {
			assert.Equal(t, []string{"enter broken", "enter broken"}, data(i), "the error state's entry actions")
		}
	}
}
