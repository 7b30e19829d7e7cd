package bench

import (
	"context"
	"strconv"
	"testing"

	looplab "github.com/looplab/fsm"
	"github.com/qmuntal/stateless"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

// The machines of this file: integer-kind states and events for statecraft
// and stateless (whose any-typed states hold small integers without
// allocating), strings for looplab/fsm, which knows no other kind.
type tstate int
type tevent int

const (
	off tstate = iota
	on
)

const flip tevent = 0

func (s tstate) String() string { return "s" + strconv.Itoa(int(s)) }
func (e tevent) String() string { return "e" + strconv.Itoa(int(e)) }

// toggleDef is off <-> on on flip. With guarded set, each transition has a
// guard that reads the data and an action that increments it.
func toggleDef(guarded bool) *fsm.Definition[tstate, tevent, int] {
	b := fsm.New[tstate, tevent, int]("toggle")
	b.State(off, states.Initial)
	b.State(on, states.Normal)
	if !guarded {
		b.On(off, flip, on)
		b.On(on, flip, off)
		return b.MustBuild()
	}
	g := transitions.If("non-negative", func(m states.Machine[tstate, tevent, int]) bool { return *m.Data() >= 0 })
	a := states.Do("count", func(_ context.Context, m states.Machine[tstate, tevent, int]) error { *m.Data()++; return nil })
	b.On(off, flip, on).When(g).Do(a)
	b.On(on, flip, off).When(g).Do(a)
	return b.MustBuild()
}

// toggleLooplab is the toggle for looplab/fsm. With guarded set, a
// before_flip callback cancels the event unless the counter is
// non-negative, and an after_flip callback increments it.
func toggleLooplab(guarded bool, count *int) *looplab.FSM {
	events := looplab.Events{
		{Name: "flip", Src: []string{"off"}, Dst: "on"},
		{Name: "flip", Src: []string{"on"}, Dst: "off"},
	}
	cbs := looplab.Callbacks{}
	if guarded {
		cbs["before_flip"] = func(_ context.Context, e *looplab.Event) {
			if *count < 0 {
				e.Cancel()
			}
		}
		cbs["after_flip"] = func(context.Context, *looplab.Event) { *count++ }
	}
	return looplab.NewFSM("off", events, cbs)
}

// toggleStateless is the toggle for qmuntal/stateless. With guarded set,
// each Permit has a guard reading the counter and each state an entry
// action incrementing it.
func toggleStateless(mode stateless.FiringMode, guarded bool, count *int) *stateless.StateMachine {
	sm := stateless.NewStateMachineWithMode(off, mode)
	if !guarded {
		sm.Configure(off).Permit(flip, on)
		sm.Configure(on).Permit(flip, off)
		return sm
	}
	g := func(context.Context, ...any) bool { return *count >= 0 }
	a := func(context.Context, ...any) error { *count++; return nil }
	sm.Configure(off).Permit(flip, on, g).OnEntry(a)
	sm.Configure(on).Permit(flip, off, g).OnEntry(a)
	return sm
}

// BenchmarkToggle is one transition of a two-state machine with nothing
// attached: no guard, no action, no observer.
//
// statecraft-Instance-string uses string states and events, as looplab/fsm
// must; the other statecraft rows and stateless use integer kinds.
func BenchmarkToggle(b *testing.B) {
	benchToggle(b, false)
}

// BenchmarkToggleGuardAction is one transition whose guard reads the
// machine's data (a counter) and whose action increments it.
func BenchmarkToggleGuardAction(b *testing.B) {
	benchToggle(b, true)
}

func benchToggle(b *testing.B, guarded bool) {
	ctx := context.Background()
	b.Run("statecraft-Instance", func(b *testing.B) {
		inst, err := engine.NewInstance(toggleDef(guarded), 0)
		require.NoError(b, err)
		n := 0
		for b.Loop() {
			if _, err := inst.Fire(ctx, flip); err != nil {
				b.Fatal(err)
			}
			n++
		}
		wantToggled(b, n, inst.State() == on)
		if guarded {
			inst.Do(func(_ tstate, d *int) { wantCount(b, *d, n) })
		}
	})
	if !guarded {
		b.Run("statecraft-Instance-string", func(b *testing.B) {
			bd := fsm.New[string, string, int]("toggle")
			bd.State("off", states.Initial)
			bd.State("on", states.Normal)
			bd.On("off", "flip", "on")
			bd.On("on", "flip", "off")
			inst, err := engine.NewInstance(bd.MustBuild(), 0)
			require.NoError(b, err)
			n := 0
			for b.Loop() {
				if _, err := inst.Fire(ctx, "flip"); err != nil {
					b.Fatal(err)
				}
				n++
			}
			wantToggled(b, n, inst.State() == "on")
		})
	}
	b.Run("statecraft-Run", func(b *testing.B) {
		run, err := engine.NewRunner(toggleDef(guarded)).Start(ctx, 0)
		require.NoError(b, err)
		defer run.Release()
		n := 0
		for b.Loop() {
			if _, err := run.Fire(ctx, flip); err != nil {
				b.Fatal(err)
			}
			n++
		}
		wantToggled(b, n, run.State() == on)
		if guarded {
			wantCount(b, *run.Data(), n)
		}
	})
	b.Run("looplab-Event", func(b *testing.B) {
		count := 0
		f := toggleLooplab(guarded, &count)
		n := 0
		for b.Loop() {
			if err := f.Event(ctx, "flip"); err != nil {
				b.Fatal(err)
			}
			n++
		}
		wantToggled(b, n, f.Current() == "on")
		if guarded {
			wantCount(b, count, n)
		}
	})
	for _, mode := range []struct {
		name string
		mode stateless.FiringMode
	}{{"stateless-Fire", stateless.FiringImmediate}, {"stateless-FireQueued", stateless.FiringQueued}} {
		b.Run(mode.name, func(b *testing.B) {
			count := 0
			sm := toggleStateless(mode.mode, guarded, &count)
			n := 0
			for b.Loop() {
				if err := sm.Fire(flip); err != nil {
					b.Fatal(err)
				}
				n++
			}
			wantToggled(b, n, sm.MustState() == on)
			if guarded {
				wantCount(b, count, n)
			}
		})
	}
}

// wantToggled checks that a toggle fired n times is where n flips leave
// it: in on exactly when n is odd.
func wantToggled(b *testing.B, n int, isOn bool) {
	b.Helper()
	require.Equal(b, n%2 == 1, isOn, "after %d flips, the toggle is on", n)
}

// wantCount checks that an action ran once per transition.
func wantCount(b *testing.B, got, want int) {
	b.Helper()
	require.Equal(b, want, got, "times the action ran in %d transitions", want)
}

// BenchmarkStates is one transition of a ring of n states (state i goes to
// i+1 on next, the last back to the first), to show that the cost of a
// transition does not grow with the machine: every library looks the
// current state up in O(1) (statecraft by dense index, looplab/fsm and
// stateless in maps). stateless fires in its immediate mode, as in
// BenchmarkToggle (its NewStateMachine would make a queued one); its any
// values hold states from 256 up by allocating.
func BenchmarkStates(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 100, 1000} {
		b.Run("states="+strconv.Itoa(n), func(b *testing.B) {
			b.Run("statecraft-Instance", func(b *testing.B) {
				inst, err := engine.NewInstance(ringDef(n), 0)
				require.NoError(b, err)
				k := 0
				for b.Loop() {
					if _, err := inst.Fire(ctx, flip); err != nil {
						b.Fatal(err)
					}
					k++
				}
				wantRing(b, n, k, int(inst.State()))
			})
			b.Run("statecraft-Run", func(b *testing.B) {
				run, err := engine.NewRunner(ringDef(n)).Start(ctx, 0)
				require.NoError(b, err)
				defer run.Release()
				k := 0
				for b.Loop() {
					if _, err := run.Fire(ctx, flip); err != nil {
						b.Fatal(err)
					}
					k++
				}
				wantRing(b, n, k, int(run.State()))
			})
			b.Run("looplab-Event", func(b *testing.B) {
				events := make(looplab.Events, n)
				for i := range n {
					events[i] = looplab.EventDesc{Name: "next", Src: []string{ringName(i)}, Dst: ringName((i + 1) % n)}
				}
				f := looplab.NewFSM(ringName(0), events, looplab.Callbacks{})
				k := 0
				for b.Loop() {
					if err := f.Event(ctx, "next"); err != nil {
						b.Fatal(err)
					}
					k++
				}
				wantRing(b, n, k, ringIndex(b, f.Current()))
			})
			b.Run("stateless-Fire", func(b *testing.B) {
				sm := stateless.NewStateMachineWithMode(tstate(0), stateless.FiringImmediate)
				for i := range n {
					sm.Configure(tstate(i)).Permit(flip, tstate((i+1)%n))
				}
				k := 0
				for b.Loop() {
					if err := sm.Fire(flip); err != nil {
						b.Fatal(err)
					}
					k++
				}
				wantRing(b, n, k, int(sm.MustState().(tstate)))
			})
		})
	}
}

func ringDef(n int) *fsm.Definition[tstate, tevent, int] {
	b := fsm.New[tstate, tevent, int]("ring")
	for i := range n {
		k := states.Normal
		if i == 0 {
			k = states.Initial
		}
		b.State(tstate(i), k)
		b.On(tstate(i), flip, tstate((i+1)%n))
	}
	return b.MustBuild()
}

func ringName(i int) string { return "s" + strconv.Itoa(i) }

func ringIndex(b *testing.B, name string) int {
	i, err := strconv.Atoi(name[1:])
	require.NoError(b, err)
	return i
}

// wantRing checks that k steps round a ring of n states end in state k
// mod n.
func wantRing(b *testing.B, n, k, at int) {
	b.Helper()
	require.Equal(b, k%n, at, "after %d steps round %d states, the machine's state", k, n)
}
