package engine_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

type tstate int
type tevent int

const (
	off tstate = iota
	on
)

const toggle tevent = 0

func (s tstate) String() string { return "s" + strconv.Itoa(int(s)) }

func toggleDef(tb testing.TB) *fsm.Definition[tstate, tevent, int] {
	b := fsm.New[tstate, tevent, int]("toggle")
	b.State(off, states.Initial)
	b.State(on, states.Normal)
	b.On(off, toggle, on)
	b.On(on, toggle, off)
	d, err := b.Build()
	require.NoError(tb, err)
	return d
}

func BenchmarkInstanceFireToggle(b *testing.B) {
	inst, _ := engine.NewInstance(toggleDef(b), 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		inst.Fire(ctx, toggle)
	}
}

func BenchmarkInstanceFireToggleString(b *testing.B) {
	bd := fsm.New[string, string, int]("toggle")
	bd.State("off", states.Initial)
	bd.State("on", states.Normal)
	bd.On("off", "toggle", "on")
	bd.On("on", "toggle", "off")
	inst, _ := engine.NewInstance(bd.MustBuild(), 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		inst.Fire(ctx, "toggle")
	}
}

func BenchmarkInstanceFireGuardAction(b *testing.B) {
	bd := fsm.New[tstate, tevent, int]("toggle")
	bd.State(off, states.Initial)
	bd.State(on, states.Normal)
	g := transitions.If("always", func(m states.Machine[tstate, tevent, int]) bool { return true })
	a := states.Do("count", func(ctx context.Context, m states.Machine[tstate, tevent, int]) error { *m.Data()++; return nil })
	bd.On(off, toggle, on).When(g).Do(a)
	bd.On(on, toggle, off).When(g).Do(a)
	inst, _ := engine.NewInstance(bd.MustBuild(), 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		inst.Fire(ctx, toggle)
	}
}

func BenchmarkInstanceFireToggleParallel(b *testing.B) {
	inst, _ := engine.NewInstance(toggleDef(b), 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			inst.Fire(ctx, toggle)
		}
	})
}

func BenchmarkRunTransition(b *testing.B) {
	r := engine.NewRunner(toggleDef(b))
	ctx := context.Background()
	run, _ := r.Start(ctx, 0)
	defer run.Release()
	b.ReportAllocs()
	for b.Loop() {
		run.Fire(ctx, toggle)
	}
}

func BenchmarkRunExecution(b *testing.B) {
	r := engine.NewRunner(toggleDef(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		run, _ := r.Start(ctx, 0)
		run.Fire(ctx, toggle)
		run.Fire(ctx, toggle)
		run.Release()
	}
}

func ringDef(tb testing.TB, n int) *fsm.Definition[tstate, tevent, int] {
	b := fsm.New[tstate, tevent, int]("ring")
	for i := range n {
		k := states.Normal
		if i == 0 {
			k = states.Initial
		}
		b.State(tstate(i), k)
		b.On(tstate(i), toggle, tstate((i+1)%n))
	}
	return b.MustBuild()
}

func BenchmarkInstanceFireStates(b *testing.B) {
	for _, n := range []int{2, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			inst, _ := engine.NewInstance(ringDef(b, n), 0)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				inst.Fire(ctx, toggle)
			}
		})
	}
}
