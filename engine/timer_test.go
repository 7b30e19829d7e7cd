package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// lightDef is a traffic light: green --5s--> yellow --2s--> red, and red
// waits for "go". "stop" from green leaves early; "ping" is internal.
func lightDef(tb testing.TB) *fsm.Definition[string, string, []string] {
	b := newB("light")
	b.State("green", states.Initial).OnEntry(note("enter green"))
	b.State("yellow", states.Normal)
	b.State("red", states.Normal).OnEntry(note("enter red"))
	b.After("green", 5*time.Second, "yellow")
	b.After("yellow", 2*time.Second, "red")
	b.On("green", "stop", "red")
	b.Internal("green", "ping").Do(note("ping"))
	b.On("red", "go", "green")
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

func TestInstanceTimersArmOnEntryAndFireOnTheClock(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	rec := &enginetest.Recorder{}
	i, err := engine.NewInstance(lightDef(t), nil, engine.WithClock(clk), engine.WithObserver(rec))
	require.NoError(t, err)
	defer i.Close()
	clk.Advance(4999 * time.Millisecond)
	require.Equal(t, "green", i.State(), "state before the 5s timer fell due")
	clk.Advance(time.Millisecond)
	require.Equal(t, "yellow", i.State(), "state at 5s")
	clk.Advance(2 * time.Second)
	enginetest.AssertPath(t, rec, "green", "yellow", "red")
	first := rec.Snapshot()[0]
	assert.True(t, first.Delayed, "the first step is delayed")
	assert.Equal(t, "after 5s", first.Event, "the first step's event")
}

func TestInstanceLeavingAStateDropsItsTimers(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	i, _ := engine.NewInstance(lightDef(t), nil, engine.WithClock(clk))
	defer i.Close()
	if _, err := i.Fire(context.Background(), "stop"); err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, 0, clk.Pending(), "timers pending after leaving green")
	clk.Advance(time.Minute)
	enginetest.AssertState(t, i, "red") // green's timer must not fire
}

func TestInstanceInternalTransitionKeepsTimers(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	i, _ := engine.NewInstance(lightDef(t), nil, engine.WithClock(clk))
	defer i.Close()
	clk.Advance(3 * time.Second)
	i.Fire(context.Background(), "ping")
	clk.Advance(2 * time.Second)
	enginetest.AssertState(t, i, "yellow") // state at 5s after an internal transition at 3s
}

// staleClock lets a test hold a timer's callback and run it after the state
// it was armed for has been left and re-entered.
type staleClock struct {
	*enginetest.Clock
	held []func()
}

func (c *staleClock) AfterFunc(d time.Duration, f func()) engine.Timer {
	c.held = append(c.held, f)
	return c.Clock.AfterFunc(d, func() {})
}

func (c *staleClock) AfterFuncAt(t time.Time, f func()) engine.Timer {
	c.held = append(c.held, f)
	return c.Clock.AfterFuncAt(t, func() {})
}

func TestInstanceStaleTimerIsIgnoredAfterReentry(t *testing.T) {
	clk := &staleClock{Clock: enginetest.NewClock(time.Time{})}
	i, _ := engine.NewInstance(lightDef(t), nil, engine.WithClock(clk))
	defer i.Close()
	first := clk.held[0] // green's 5s timer, first visit
	i.Fire(context.Background(), "stop")
	i.Fire(context.Background(), "go") // green again: a new visit, a new timer
	require.Len(t, clk.held, 2, "timers armed")
	first()                               // the old visit's timer fires late: a Stop that lost the race
	enginetest.AssertState(t, i, "green") // a timer from an earlier visit must not move the machine
	clk.held[1]()
	enginetest.AssertState(t, i, "yellow") // the current visit's timer must still work
}

func TestRunWaitSleepsOnTheClockInTheCallersGoroutine(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	r := engine.NewRunner(lightDef(t), engine.WithClock(clk))
	ctx := context.Background()
	run, _ := r.Start(ctx, nil)
	defer run.Release()
	done := make(chan error)
	go func() { done <- run.Wait(ctx) }()
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1))
	clk.Advance(5 * time.Second)
	require.NoError(t, clk.BlockUntilWaiters(ctx, 1))
	clk.Advance(2 * time.Second)
	require.NoError(t, <-done)
	if run.State() != "red" || clk.Now().Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) != 7*time.Second {
		t.Errorf("state %s at %v, want red at 7s", run.State(), clk.Now())
	}
}

func TestRunWaitStopsWhenTheContextEnds(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	r := engine.NewRunner(lightDef(t), engine.WithClock(clk))
	run, _ := r.Start(context.Background(), nil)
	defer run.Release()
	ctx, cancel := engine.WithTimeout(context.Background(), clk, time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- run.Wait(ctx) }()
	clk.BlockUntilWaiters(context.Background(), 1)
	clk.Advance(time.Second)
	err := <-done
	require.ErrorIs(t, err, engine.ErrNotTransitioned, "Wait")
	require.ErrorIs(t, err, context.DeadlineExceeded, "Wait")
	assert.Equal(t, "green", run.State(), "State()")
	assert.Equal(t, 1, run.Pending(), "Pending(): green's timer")
}

func TestEngineRunsInsideSynctestBubbles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The real clock inside a bubble uses the bubble's fake time.
		i, err := engine.NewInstance(lightDef(t), nil)
		require.NoError(t, err)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		enginetest.AssertState(t, i, "yellow") // state after 5s of bubble time
		i.Close()

		r := engine.NewRunner(lightDef(t))
		run, _ := r.Start(context.Background(), nil)
		start := time.Now()
		require.NoError(t, run.Wait(context.Background()))
		if run.State() != "red" || time.Since(start) != 7*time.Second {
			t.Errorf("run ended in %s after %v, want red after 7s", run.State(), time.Since(start))
		}
		run.Release()
	})
}

func TestSnapshotRoundTripWithPendingTimer(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	def := lightDef(t)
	i, _ := engine.NewInstance(def, nil, engine.WithClock(clk))
	clk.Advance(3 * time.Second)
	snap, err := i.Snapshot()
	i.Close()
	require.NoError(t, err)
	wire, _ := json.Marshal(snap)
	back, err := engine.DecodeSnapshot(wire)
	require.NoError(t, err)
	if len(back.Timers) != 1 || back.State != "green" || back.Fingerprint == "" {
		t.Fatalf("snapshot %+v", back)
	}

	r, err := engine.Restore(def, back, engine.WithClock(clk))
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, []string{"enter green"}, data2(r), "restored data: the snapshot's, and no second entry")
	clk.Advance(1999 * time.Millisecond)
	require.Equal(t, "green", r.State(), "restored timer fired early")
	clk.Advance(time.Millisecond)
	enginetest.AssertState(t, r, "yellow") // the restored timer fires at its absolute deadline
}

func TestRestoreFiresPastDueTimersInOrder(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	def := lightDef(t)
	i, _ := engine.NewInstance(def, nil, engine.WithClock(clk))
	snap, _ := i.Snapshot()
	i.Close()
	clk.Advance(time.Hour) // the process was down past the deadline
	rec := &enginetest.Recorder{}
	r, err := engine.Restore(def, snap, engine.WithClock(clk), engine.WithObserver(rec))
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, "yellow", r.State(), "state: the due timer fires on restore")
	// yellow's own timer is armed from now, not from the old deadline.
	clk.Advance(2 * time.Second)
	enginetest.AssertPath(t, rec, "green", "yellow", "red")
}

func TestRestoreRefusesBadSnapshots(t *testing.T) {
	def := lightDef(t)
	clk := enginetest.NewClock(time.Time{})
	i, _ := engine.NewInstance(def, nil, engine.WithClock(clk))
	good, _ := i.Snapshot()
	i.Close()
	other := newB("light")
	other.State("green", states.Initial)
	other.Internal("green", "x")
	cases := []struct {
		name string
		edit func(s *engine.Snapshot)
		def  *fsm.Definition[string, string, []string]
		want error
	}{
		{"version", func(s *engine.Snapshot) { s.Version = 99 }, def, engine.ErrSnapshotVersion},
		{"fingerprint", func(s *engine.Snapshot) {}, other.MustBuild(), engine.ErrSnapshotMismatch},
		{"machine", func(s *engine.Snapshot) { s.Machine = "door" }, def, engine.ErrSnapshotMismatch},
		{"state", func(s *engine.Snapshot) { s.State = "blue" }, def, engine.ErrSnapshotState},
		{"timer index", func(s *engine.Snapshot) { s.Timers[0].Transition = 42 }, def, engine.ErrSnapshotTimer},
		{"timer of another state", func(s *engine.Snapshot) { s.Timers[0].Transition = 1 }, def, engine.ErrSnapshotTimer},
		{"timer that is an event", func(s *engine.Snapshot) { s.Timers[0].Transition = 2 }, def, engine.ErrSnapshotTimer},
		{"data", func(s *engine.Snapshot) { s.Data = []byte(`{"not":"a list"}`) }, def, engine.ErrSnapshotData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := *good
			s.Timers = append([]engine.SnapshotTimer(nil), good.Timers...)
			tc.edit(&s)
			_, err := engine.Restore(tc.def, &s, engine.WithClock(clk))
			var se *engine.SnapshotError
			assert.ErrorIs(t, err, tc.want, "Restore")
			assert.ErrorAs(t, err, &se, "Restore")
		})
	}
	for _, wire := range []string{``, `{`, `[]`, `{"version":1}x`, `{"version":2}`, `{"version":1,"bogus":1}`} {
		if _, err := engine.DecodeSnapshot([]byte(wire)); err == nil {
			t.Errorf("DecodeSnapshot(%q) accepted", wire)
		}
	}
}

func data2(i *engine.Instance[string, string, []string]) []string { return data(i) }

func FuzzDecodeSnapshot(f *testing.F) {
	def := lightDef(f)
	clk := enginetest.NewClock(time.Time{})
	i, _ := engine.NewInstance(def, nil, engine.WithClock(clk))
	snap, _ := i.Snapshot()
	i.Close()
	wire, _ := json.Marshal(snap)
	f.Add(wire)
	f.Add([]byte(`{"version":1,"machine":"light","state":"red"}`))
	f.Add([]byte(`{"version":1,"timers":[{"transition":-1,"deadline":"2000-01-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := engine.DecodeSnapshot(b)
		if err != nil {
			var se *engine.SnapshotError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SnapshotError", err)
			}
			return
		}
		r, err := engine.Restore(def, s, engine.WithClock(clk))
		if err != nil {
			var se *engine.SnapshotError
			if !errors.As(err, &se) {
				var ae *engine.ActionError
				if !errors.As(err, &ae) {
					t.Fatalf("Restore error %v is neither a *SnapshotError nor from user code", err)
				}
			}
		}
		if r != nil {
			r.Close()
		}
	})
}
