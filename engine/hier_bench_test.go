package engine_test

import (
	"context"
	"testing"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/states"
)

// cousinsDef is P { A { A1 }, B { B1 } } with t moving between the
// cousins A1 and B1 (declared on A and B when onParent), so that each
// transition exits two states and enters two. With counting, every state
// counts its entries and exits.
func cousinsDef(onParent, counting bool) *fsm.Definition[string, string, int] {
	b := fsm.New[string, string, int]("cousins")
	count := states.Do("count", func(ctx context.Context, m states.Machine[string, string, int]) error { *m.Data()++; return nil })
	st := func(id string, k states.Kind, parent string) {
		s := b.State(id, k)
		if parent != "" {
			s.In(parent)
		}
		if counting {
			s.OnEntry(count).OnExit(count)
		}
	}
	st("P", states.Initial, "")
	st("A", states.Initial, "P")
	st("A1", states.Initial, "A")
	st("B", states.Normal, "P")
	st("B1", states.Initial, "B")
	if onParent {
		b.On("A", "t", "B")
		b.On("B", "t", "A")
	} else {
		b.On("A1", "t", "B1")
		b.On("B1", "t", "A1")
	}
	return b.MustBuild()
}

// flatCountingDef is the flat machine a and b with t between them and the
// same counting actions on both.
func flatCountingDef() *fsm.Definition[string, string, int] {
	b := fsm.New[string, string, int]("flat")
	count := states.Do("count", func(ctx context.Context, m states.Machine[string, string, int]) error { *m.Data()++; return nil })
	b.State("a", states.Initial).OnEntry(count).OnExit(count)
	b.State("b", states.Normal).OnEntry(count).OnExit(count)
	b.On("a", "t", "b")
	b.On("b", "t", "a")
	return b.MustBuild()
}

func benchInstance(b *testing.B, def *fsm.Definition[string, string, int]) {
	inst, err := engine.NewInstance(def, 0)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		inst.Fire(ctx, "t")
	}
}

func benchRun(b *testing.B, def *fsm.Definition[string, string, int]) {
	r, err := engine.NewRunner(def).Start(context.Background(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Release()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Fire(ctx, "t")
	}
}

func BenchmarkHierInstanceFirePlain(b *testing.B) {
	b.Run("flat", func(b *testing.B) { benchInstance(b, toggleStringDef()) })
	b.Run("3-level", func(b *testing.B) { benchInstance(b, cousinsDef(false, false)) })
	b.Run("3-level-on-parent", func(b *testing.B) { benchInstance(b, cousinsDef(true, false)) })
}

func BenchmarkHierInstanceFireActions(b *testing.B) {
	b.Run("flat", func(b *testing.B) { benchInstance(b, flatCountingDef()) })
	b.Run("3-level", func(b *testing.B) { benchInstance(b, cousinsDef(false, true)) })
	b.Run("3-level-on-parent", func(b *testing.B) { benchInstance(b, cousinsDef(true, true)) })
}

func BenchmarkHierRunFireActions(b *testing.B) {
	b.Run("flat", func(b *testing.B) { benchRun(b, flatCountingDef()) })
	b.Run("3-level", func(b *testing.B) { benchRun(b, cousinsDef(false, true)) })
	b.Run("3-level-on-parent", func(b *testing.B) { benchRun(b, cousinsDef(true, true)) })
}

func toggleStringDef() *fsm.Definition[string, string, int] {
	b := fsm.New[string, string, int]("toggle")
	b.State("a", states.Initial)
	b.State("b", states.Normal)
	b.On("a", "t", "b")
	b.On("b", "t", "a")
	return b.MustBuild()
}

func TestHierarchyTransitionsAllocNothing(t *testing.T) {
	ctx := context.Background()
	for _, onParent := range []bool{false, true} {
		for _, counting := range []bool{false, true} {
			def := cousinsDef(onParent, counting)
			inst, err := engine.NewInstance(def, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(100, func() { inst.Fire(ctx, "t") }); n != 0 {
				t.Errorf("Instance (on parent %v, actions %v): %v allocs per transition", onParent, counting, n)
			}
			r, err := engine.NewRunner(def).Start(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(100, func() { r.Fire(ctx, "t") }); n != 0 {
				t.Errorf("Run (on parent %v, actions %v): %v allocs per transition", onParent, counting, n)
			}
			r.Release()
		}
	}
}
