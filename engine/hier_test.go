package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

type hmach = states.Machine[string, string, []string]

// hlog returns an action that appends what to the machine's data.
func hlog(what string) states.Action[string, string, []string] {
	return states.Do(what, func(ctx context.Context, m hmach) error {
		*m.Data() = append(*m.Data(), what)
		return nil
	})
}

// hstate declares a state whose entry and exit actions log "enter X" and
// "exit X", as a child of parent unless parent is "".
func hstate(b *fsm.Builder[string, string, []string], id string, kind states.Kind, parent string) *states.Spec[string, string, []string] {
	s := b.State(id, kind).OnEntry(hlog("enter " + id)).OnExit(hlog("exit " + id))
	if parent != "" {
		s.In(parent)
	}
	return s
}

// hierDef is a three-level machine:
//
//	P { A { A1, A2 }, B { B1, B2 } }, Q, F (final)
//
// with transitions between siblings (A1 sib A2), cousins (A2 cousin B2),
// into a composite (A1 intoB B), a self-transition on a parent (A self A),
// parent transitions (P leave Q, P stop F) and a child overriding one of
// them (A1 stop A2).
func hierDef(tb testing.TB) *fsm.Definition[string, string, []string] {
	b := fsm.New[string, string, []string]("hier")
	hstate(b, "P", states.Initial, "")
	hstate(b, "A", states.Initial, "P")
	hstate(b, "A1", states.Initial, "A")
	hstate(b, "A2", states.Normal, "A")
	hstate(b, "B", states.Normal, "P")
	hstate(b, "B1", states.Initial, "B")
	hstate(b, "B2", states.Normal, "B")
	hstate(b, "Q", states.Normal, "")
	b.State("F", states.Final)
	b.On("A1", "sib", "A2")
	b.On("A2", "cousin", "B2")
	b.On("A1", "intoB", "B")
	b.On("A", "self", "A")
	b.On("P", "leave", "Q")
	b.On("P", "stop", "F")
	b.On("A1", "stop", "A2")
	b.On("Q", "back", "P")
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

// hdriver is what the tests need of either driver, so that each runs on
// both.
type hdriver struct {
	fire  func(e string) (engine.Result[string], error)
	state func() string
	isIn  func(s string) bool
	take  func() []string // returns the log and empties it
	close func()
}

func hdrivers(t *testing.T, def *fsm.Definition[string, string, []string], opts ...engine.Option) map[string]hdriver {
	t.Helper()
	ctx := context.Background()
	i, err := engine.NewInstance(def, nil, opts...)
	require.NoError(t, err)
	r, err := engine.NewRunner(def, opts...).Start(ctx, nil)
	require.NoError(t, err)
	return map[string]hdriver{
		"Instance": {
			fire:  func(e string) (engine.Result[string], error) { return i.Fire(ctx, e) },
			state: i.State, isIn: i.IsIn, close: i.Close,
			take: func() (log []string) {
				i.Do(func(_ string, d *[]string) { log, *d = *d, nil })
				return log
			},
		},
		"Run": {
			fire:  func(e string) (engine.Result[string], error) { return r.Fire(ctx, e) },
			state: r.State, isIn: r.IsIn, close: r.Release,
			take: func() (log []string) {
				log, *r.Data() = *r.Data(), nil
				return log
			},
		},
	}
}

func TestHierarchyEntryExitOrder(t *testing.T) {
	tests := []struct {
		name   string
		before []string // fired first, their actions not checked
		event  string
		leaf   string
		want   []string
	}{
		{"siblings", nil, "sib", "A2", []string{"exit A1", "enter A2"}},
		{"cousins", []string{"sib"}, "cousin", "B2", []string{"exit A2", "exit A", "enter B", "enter B2"}},
		{"into a composite enters its initial child", nil, "intoB", "B1", []string{"exit A1", "exit A", "enter B", "enter B1"}},
		{"self-transition on a parent", []string{"sib"}, "self", "A1", []string{"exit A2", "exit A", "enter A", "enter A1"}},
		{"parent transition out of the hierarchy", []string{"intoB"}, "leave", "Q", []string{"exit B1", "exit B", "exit P", "enter Q"}},
		{"into the top composite", []string{"leave"}, "back", "A1", []string{"exit Q", "enter P", "enter A", "enter A1"}},
		{"parent transition from a grandchild", []string{"sib"}, "stop", "F", []string{"exit A2", "exit A", "exit P"}},
		{"a child overrides its parent's transition", nil, "stop", "A2", []string{"exit A1", "enter A2"}},
	}
	def := hierDef(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, d := range hdrivers(t, def) {
				assert.Equal(t, []string{"enter P", "enter A", "enter A1"}, d.take(), "%s: start", name)
				for _, e := range tt.before {
					_, err := d.fire(e)
					require.NoError(t, err, "%s: event %s", name, e)
				}
				d.take()
				res, err := d.fire(tt.event)
				require.NoError(t, err, "%s: event %s", name, tt.event)
				assert.Equal(t, tt.leaf, res.To, name)
				assert.Equal(t, tt.leaf, d.state(), name)
				if diff := cmp.Diff(tt.want, d.take()); diff != "" {
					t.Errorf("%s: actions (-want +got):\n%s", name, diff)
				}
				d.close()
			}
		})
	}
}

func TestHierarchyIsInTheLeafAndItsAncestors(t *testing.T) {
	for name, d := range hdrivers(t, hierDef(t)) {
		_, err := d.fire("cousin")
		require.Error(t, err, "%s: cousin is declared on A2 only", name)
		_, err = d.fire("sib")
		require.NoError(t, err)
		for s, want := range map[string]bool{"P": true, "A": true, "A2": true, "A1": false, "B": false, "B2": false, "Q": false, "nope": false} {
			assert.Equal(t, want, d.isIn(s), "%s: IsIn(%s) in A2", name, s)
		}
		_, err = d.fire("leave")
		require.NoError(t, err)
		assert.True(t, d.isIn("Q"), name)
		assert.False(t, d.isIn("P"), name)
		d.close()
	}
}

func TestHierarchyRecordListsExitedAndEntered(t *testing.T) {
	rec := &enginetest.Recorder{}
	i, err := engine.NewInstance(hierDef(t), nil, engine.WithObserver(rec))
	require.NoError(t, err)
	defer i.Close()
	_, err = i.Fire(context.Background(), "sib")
	require.NoError(t, err)
	_, err = i.Fire(context.Background(), "cousin")
	require.NoError(t, err)
	got := rec.Snapshot()
	require.Len(t, got, 2)
	type step struct {
		From, To        string
		Exited, Entered []string
	}
	var steps []step
	for _, r := range got {
		steps = append(steps, step{r.From, r.To, r.Exited, r.Entered})
	}
	want := []step{
		{"A1", "A2", []string{"A1"}, []string{"A2"}},
		{"A2", "B2", []string{"A2", "A"}, []string{"B", "B2"}},
	}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestHierarchyFlatRecordHasNoExitedOrEntered(t *testing.T) {
	rec := &enginetest.Recorder{}
	i, err := engine.NewInstance(toggleDef(t), 0, engine.WithObserver(rec))
	require.NoError(t, err)
	_, err = i.Fire(context.Background(), toggle)
	require.NoError(t, err)
	require.Len(t, rec.Snapshot(), 1)
	assert.Nil(t, rec.Snapshot()[0].Exited)
	assert.Nil(t, rec.Snapshot()[0].Entered)
}

// choiceDef has a choice state inside a composite; the event it chooses
// is handled by its parent.
func choiceDef(tb testing.TB) *fsm.Definition[string, string, []string] {
	b := fsm.New[string, string, []string]("hchoice")
	hstate(b, "P", states.Initial, "")
	hstate(b, "Idle", states.Initial, "P")
	b.Choice("Pick", states.Chooser("pick", func(ctx context.Context, m hmach) (string, error) {
		return "go", nil
	})).In("P").OnEntry(hlog("enter Pick")).OnExit(hlog("exit Pick"))
	hstate(b, "Q", states.Final, "")
	b.On("Idle", "pick", "Pick")
	b.On("P", "go", "Q")
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

func TestHierarchyChoiceInsideAComposite(t *testing.T) {
	for name, d := range hdrivers(t, choiceDef(t)) {
		d.take()
		res, err := d.fire("pick")
		require.NoError(t, err, name)
		assert.Equal(t, "Q", res.To, name)
		assert.Equal(t, []string{"exit Idle", "enter Pick", "exit Pick", "exit P", "enter Q"}, d.take(), name)
		d.close()
	}
}

func TestHierarchyEntryFailureGoesToAnErrorStateInsideAComposite(t *testing.T) {
	b := fsm.New[string, string, []string]("herror")
	hstate(b, "P", states.Initial, "")
	hstate(b, "Ok", states.Initial, "P")
	hstate(b, "Bad", states.Normal, "P").OnEntry(states.Do("boom", func(ctx context.Context, m hmach) error {
		return errors.New("boom")
	}))
	hstate(b, "Err", states.Normal, "P")
	b.On("Ok", "go", "Bad")
	b.On("P", "reset", "Ok")
	b.ErrorState("Err")
	def, err := b.Build()
	require.NoError(t, err)
	for name, d := range hdrivers(t, def) {
		d.take()
		res, err := d.fire("go")
		var ae *engine.ActionError
		require.ErrorAs(t, err, &ae, name)
		assert.Equal(t, engine.PhaseEntry, ae.Phase, name)
		assert.Equal(t, "Err", res.To, name)
		assert.True(t, d.isIn("P"), name)
		// P stays entered: only Err is entered, nothing exits P.
		assert.Equal(t, []string{"exit Ok", "enter Bad", "enter Err"}, d.take(), name)
		_, err = d.fire("reset")
		require.NoError(t, err, name)
		assert.Equal(t, "Ok", d.state(), name)
		d.close()
	}
}

// timerDef: W { W1, W2 } with a 10s timer on W and a 3s one on W1.
func timerDef(tb testing.TB) *fsm.Definition[string, string, []string] {
	b := fsm.New[string, string, []string]("htimer")
	hstate(b, "W", states.Initial, "")
	hstate(b, "W1", states.Initial, "W")
	hstate(b, "W2", states.Normal, "W")
	hstate(b, "T", states.Normal, "")
	b.After("W", 10*time.Second, "T")
	b.After("W1", 3*time.Second, "W2")
	b.On("W1", "next", "W2")
	b.On("W2", "next", "W1")
	b.On("W", "out", "T")
	b.On("T", "back", "W")
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

func TestHierarchyParentTimerSurvivesChildMoves(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	i, err := engine.NewInstance(timerDef(t), nil, engine.WithClock(clk))
	require.NoError(t, err)
	defer i.Close()
	ctx := context.Background()
	clk.Advance(3 * time.Second) // W1's own timer: W1 -> W2
	require.Equal(t, "W2", i.State())
	clk.Advance(5 * time.Second) // 8s
	_, err = i.Fire(ctx, "next")
	require.NoError(t, err)
	require.Equal(t, "W1", i.State(), "at 8s")
	clk.Advance(time.Second) // 9s: W1 re-entered at 8s, its 3s timer is due at 11s
	require.Equal(t, "W1", i.State(), "at 9s")
	clk.Advance(time.Second) // 10s: W's timer, armed at 0, survived both moves
	assert.Equal(t, "T", i.State(), "at 10s")
	assert.Equal(t, 0, clk.Pending(), "leaving W drops W1's timer too")

	_, err = i.Fire(ctx, "back") // W re-entered at 10s: due at 20s
	require.NoError(t, err)
	_, err = i.Fire(ctx, "out")
	require.NoError(t, err)
	assert.Equal(t, 0, clk.Pending(), "leaving W drops its timer")
	clk.Advance(20 * time.Second)
	assert.Equal(t, "T", i.State())
}

func TestHierarchyRunKeepsParentTimerPending(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	r, err := engine.NewRunner(timerDef(t), engine.WithClock(clk)).Start(context.Background(), nil)
	require.NoError(t, err)
	defer r.Release()
	assert.Equal(t, 2, r.Pending(), "W's and W1's timers")
	_, err = r.Fire(context.Background(), "next")
	require.NoError(t, err)
	assert.Equal(t, 1, r.Pending(), "W's timer survives the move to W2")
	_, err = r.Fire(context.Background(), "next")
	require.NoError(t, err)
	assert.Equal(t, 2, r.Pending(), "W1 re-armed beside W's")
	_, err = r.Fire(context.Background(), "out")
	require.NoError(t, err)
	assert.Equal(t, 0, r.Pending())
}

func TestHierarchySnapshotRoundTripsAParentTimer(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	clk := enginetest.NewClock(t0)
	def := timerDef(t)
	i, err := engine.NewInstance(def, nil, engine.WithClock(clk))
	require.NoError(t, err)
	clk.Advance(time.Second)
	_, err = i.Fire(context.Background(), "next")
	require.NoError(t, err)
	snap, err := i.Snapshot()
	require.NoError(t, err)
	i.Close()
	assert.Equal(t, "W2", snap.State, "the leaf is stored")
	want := []engine.SnapshotTimer{{Transition: 0, Deadline: t0.Add(10 * time.Second)}}
	if diff := cmp.Diff(want, snap.Timers); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}

	clk2 := enginetest.NewClock(t0.Add(5 * time.Second))
	j, err := engine.Restore(def, snap, engine.WithClock(clk2))
	require.NoError(t, err)
	defer j.Close()
	assert.True(t, j.IsIn("W"))
	again, err := j.Snapshot()
	require.NoError(t, err)
	if diff := cmp.Diff(snap, again); diff != "" {
		t.Errorf("restored snapshot (-want +got):\n%s", diff)
	}
	_, err = j.Fire(context.Background(), "next") // W2 -> W1: W's timer stays
	require.NoError(t, err)
	clk2.Advance(5 * time.Second)
	assert.Equal(t, "T", j.State(), "the parent's timer fired on time after the restore")
}

func TestHierarchyRestoreRefusesACompositeState(t *testing.T) {
	i, err := engine.NewInstance(timerDef(t), nil, engine.WithClock(enginetest.NewClock(time.Time{})))
	require.NoError(t, err)
	snap, err := i.Snapshot()
	require.NoError(t, err)
	i.Close()
	snap.State = "W"
	_, err = engine.Restore(timerDef(t), snap)
	assert.ErrorIs(t, err, engine.ErrSnapshotState)
}

func TestHierarchyInstanceRace(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	i, err := engine.NewInstance(timerDef(t), nil, engine.WithClock(clk))
	require.NoError(t, err)
	defer i.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 200 {
				switch (g + k) % 4 {
				case 0:
					i.Fire(context.Background(), "next") //nolint:errcheck // T refuses it
				case 1:
					i.Fire(context.Background(), "back") //nolint:errcheck // W refuses it
				case 2:
					_ = i.IsIn("W") || i.State() == "T"
				case 3:
					clk.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	s := i.State()
	assert.Contains(t, []string{"W1", "W2", "T"}, s)
	assert.Equal(t, s != "T", i.IsIn("W"))
}

func TestHierarchyChildWhoseGuardFailsLetsItsParentTry(t *testing.T) {
	b := fsm.New[string, string, []string]("hguard")
	hstate(b, "P", states.Initial, "")
	hstate(b, "C", states.Initial, "P")
	hstate(b, "X", states.Normal, "")
	hstate(b, "Y", states.Normal, "")
	b.On("C", "go", "X").When(transitions.If("never", func(hmach) bool { return false }))
	b.On("P", "go", "Y")
	b.On("X", "back", "P")
	b.On("Y", "back", "P")
	def, err := b.Build()
	require.NoError(t, err)
	for name, d := range hdrivers(t, def) {
		res, err := d.fire("go")
		require.NoError(t, err, name)
		assert.Equal(t, "Y", res.To, name)
		d.close()
	}
}
