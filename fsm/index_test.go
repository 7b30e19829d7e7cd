package fsm

import (
	"math"
	"strconv"
	"testing"

	"github.com/statecraft/statecraft/states"
)

// idxEvent is an integer-kind event type with a String method, as users
// write them.
type idxEvent int

func (e idxEvent) String() string { return "ev" + strconv.Itoa(int(e)) }

// idxKey is a struct event type: neither integer nor string.
type idxKey struct {
	Name string
	N    int
}

type idxMode int

const (
	modeTable idxMode = iota
	modeLinear
	modeMap
)

func (m idxMode) String() string { return [...]string{"table", "linear", "map"}[m] }

func modeOf[K comparable](x *indexer[K]) idxMode {
	switch {
	case x.table != nil:
		return modeTable
	case x.m != nil:
		return modeMap
	default:
		return modeLinear
	}
}

// checkIndexer interns keys, checks the lookup strategy chosen, that every
// key finds its position and that each of absent finds -1.
func checkIndexer[K comparable](t *testing.T, keys []K, mode idxMode, absent ...K) {
	t.Helper()
	x := newIndexer(keys)
	if got := modeOf(&x); got != mode {
		t.Errorf("lookup by %v, want %v", got, mode)
	}
	for i, k := range keys {
		if got := x.index(k); got != i {
			t.Errorf("index(%v) = %d, want %d", k, got, i)
		}
	}
	for _, k := range absent {
		if got := x.index(k); got != -1 {
			t.Errorf("index(%v) = %d for a value not interned, want -1", k, got)
		}
	}
}

func TestIndexerChoosesLookupByTypeAndSpread(t *testing.T) {
	t.Run("int dense", func(t *testing.T) {
		checkIndexer(t, []int{3, 0, 4, 1, 2}, modeTable, -1, 5, 100, math.MinInt64, math.MaxInt64)
	})
	t.Run("int with gaps inside the table", func(t *testing.T) {
		checkIndexer(t, []int{10, 20, 30}, modeTable, 11, 15, 29, 9, 31)
	})
	t.Run("int negative", func(t *testing.T) {
		checkIndexer(t, []int{-3, -1, 2, -7}, modeTable, -8, -2, 0, 3, math.MinInt64)
	})
	t.Run("int sparse beyond the table, few", func(t *testing.T) {
		checkIndexer(t, []int{1, 1000, 1_000_000}, modeLinear, 0, 2, 999, 1_000_001)
	})
	t.Run("int sparse beyond the table, many", func(t *testing.T) {
		keys := make([]int, 20)
		for i := range keys {
			keys[i] = i * 1000
		}
		checkIndexer(t, keys, modeMap, 1, 999, 20_000, -1000)
	})
	t.Run("int64 extremes", func(t *testing.T) {
		checkIndexer(t, []int64{math.MinInt64, 0, math.MaxInt64}, modeLinear, -1, 1, math.MinInt64+1, math.MaxInt64-1)
	})
	t.Run("int8 negative", func(t *testing.T) {
		checkIndexer(t, []int8{-128, -127, -100}, modeTable, -126, 0, 127)
	})
	t.Run("int8 full range", func(t *testing.T) {
		checkIndexer(t, []int8{-128, 127}, modeLinear, 0, -127, 126)
	})
	t.Run("uint8", func(t *testing.T) {
		checkIndexer(t, []uint8{250, 255, 251}, modeTable, 0, 249, 252, 254)
	})
	t.Run("uint8 spread", func(t *testing.T) {
		checkIndexer(t, []uint8{0, 128, 255}, modeLinear, 1, 127, 254)
	})
	t.Run("uint16", func(t *testing.T) {
		checkIndexer(t, []uint16{60000, 60001}, modeTable, 59999, 60002, 0)
	})
	t.Run("uint32", func(t *testing.T) {
		checkIndexer(t, []uint32{math.MaxUint32, math.MaxUint32 - 1}, modeTable, 0, math.MaxUint32-2)
	})
	t.Run("uint64 around the top", func(t *testing.T) {
		// Above MaxInt64 the values wrap to negative int64s, and the table
		// still maps each to the right key.
		checkIndexer(t, []uint64{math.MaxUint64, 0, 1, math.MaxUint64 - 1}, modeTable,
			2, math.MaxUint64-2, 1<<63, 1<<63-1)
	})
	t.Run("uint64 halves", func(t *testing.T) {
		checkIndexer(t, []uint64{0, 1 << 63}, modeLinear, 1, 1<<63+1, math.MaxUint64)
	})
	t.Run("uintptr", func(t *testing.T) {
		checkIndexer(t, []uintptr{7, 8, 9}, modeTable, 6, 10)
	})
	t.Run("named int with String", func(t *testing.T) {
		checkIndexer(t, []idxEvent{2, 1, 0}, modeTable, 3, -1)
	})
	t.Run("string few", func(t *testing.T) {
		checkIndexer(t, []string{"open", "close", "", "lock"}, modeLinear, "Open", "unlock", " ")
	})
	t.Run("string eight", func(t *testing.T) {
		checkIndexer(t, []string{"a", "b", "c", "d", "e", "f", "g", "h"}, modeLinear, "i", "")
	})
	t.Run("string nine", func(t *testing.T) {
		checkIndexer(t, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, modeMap, "j", "")
	})
	t.Run("struct few", func(t *testing.T) {
		checkIndexer(t, []idxKey{{"a", 1}, {"a", 2}, {"b", 1}}, modeLinear, idxKey{}, idxKey{"b", 2})
	})
	t.Run("struct many", func(t *testing.T) {
		keys := make([]idxKey, 12)
		for i := range keys {
			keys[i] = idxKey{"k", i}
		}
		checkIndexer(t, keys, modeMap, idxKey{}, idxKey{"k", 12}, idxKey{"K", 0})
	})
	t.Run("bool", func(t *testing.T) {
		checkIndexer(t, []bool{true}, modeLinear, false)
	})
	t.Run("empty", func(t *testing.T) {
		checkIndexer(t, []int(nil), modeLinear, 0, 1)
		checkIndexer(t, []string(nil), modeLinear, "")
	})
}

// idxChain builds a machine of n states in a line, 0 --next--> 1 --next-->
// … --> n-1, with the last final and every state also able to reset to 0.
func idxChain[S comparable](t *testing.T, ids []S) *Definition[S, idxEvent, struct{}] {
	t.Helper()
	b := New[S, idxEvent, struct{}]("chain")
	for i, id := range ids {
		kind := states.Normal
		switch i {
		case 0:
			kind = states.Initial
		case len(ids) - 1:
			kind = states.Final
		}
		b.State(id, kind)
	}
	for i := range len(ids) - 1 {
		b.On(ids[i], 0, ids[i+1])
		b.On(ids[i], -5, ids[0])
	}
	def, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func TestDefinitionWithThousandStates(t *testing.T) {
	const n = 1000
	ints := make([]int, n)
	strs := make([]string, n)
	for i := range n {
		ints[i] = i * 3 // spread, still dense enough for a table
		strs[i] = "s" + strconv.Itoa(i)
	}

	t.Run("int states", func(t *testing.T) {
		def := idxChain(t, ints)
		if got := modeOf(&def.stateIdx); got != modeTable {
			t.Errorf("states looked up by %v, want table", got)
		}
		if got := modeOf(&def.eventIdx); got != modeTable {
			t.Errorf("events looked up by %v, want table", got)
		}
		idxWalk(t, def, ints)
		if def.StateIndex(1) != -1 || def.StateIndex(n*3) != -1 {
			t.Error("a state not declared has an index")
		}
	})
	t.Run("string states", func(t *testing.T) {
		def := idxChain(t, strs)
		if got := modeOf(&def.stateIdx); got != modeMap {
			t.Errorf("states looked up by %v, want map", got)
		}
		idxWalk(t, def, strs)
		if def.StateIndex("s1000") != -1 {
			t.Error("a state not declared has an index")
		}
	})
}

// idxWalk follows the chain through the driver view, as a driver would.
func idxWalk[S comparable](t *testing.T, def *Definition[S, idxEvent, struct{}], ids []S) {
	t.Helper()
	if def.NumStates() != len(ids) || def.NumEvents() != 2 || def.NumEdges() != 2*(len(ids)-1) {
		t.Fatalf("NumStates %d, NumEvents %d, NumEdges %d", def.NumStates(), def.NumEvents(), def.NumEdges())
	}
	next, reset := def.EventIndex(0), def.EventIndex(-5)
	if next != 0 || reset != 1 || def.EventIndex(1) != -1 {
		t.Fatalf("EventIndex(0) = %d, EventIndex(-5) = %d, EventIndex(1) = %d", next, reset, def.EventIndex(1))
	}
	if def.EventLabel(reset) != "ev-5" {
		t.Errorf("EventLabel(reset) = %q, want ev-5 (the event's String)", def.EventLabel(reset))
	}
	s := def.InitialIndex()
	for i, id := range ids {
		if got := def.StateIndex(id); got != i || s != i {
			t.Fatalf("step %d: StateIndex(%v) = %d, at %d", i, id, got, s)
		}
		if i == len(ids)-1 {
			if def.StateAt(s).Kind != states.Final || len(def.Candidates(s, next)) != 0 {
				t.Fatalf("last state %v is not a final with no way out", id)
			}
			break
		}
		if r := def.Candidates(s, reset); len(r) != 1 || r[0].To != 0 {
			t.Fatalf("state %v: reset candidates %v", id, r)
		}
		c := def.Candidates(s, next)
		if len(c) != 1 || c[0].From != s || !c[0].Plain {
			t.Fatalf("state %v: next candidates %v", id, c)
		}
		s = c[0].To
	}
}
