package compiled

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
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
// key finds its position and that each of absent finds -1, through index
// and through slot, which answers as index does with a table and NoTable
// without one.
func checkIndexer[K comparable](t *testing.T, keys []K, mode idxMode, absent ...K) {
	t.Helper()
	x := newIndexer(keys)
	assert.Equal(t, mode, modeOf(&x), "lookup mode")
	slot := func(k K, want int) {
		t.Helper()
		if mode != modeTable {
			want = NoTable
		}
		if got := x.slot(k); got != want {
			t.Errorf("slot(%v) = %d, want %d", k, got, want)
		}
	}
	for i, k := range keys {
		if got := x.index(k); got != i {
			t.Errorf("index(%v) = %d, want %d", k, got, i)
		}
		slot(k, i)
	}
	for _, k := range absent {
		if got := x.index(k); got != -1 {
			t.Errorf("index(%v) = %d for a value not interned, want -1", k, got)
		}
		slot(k, -1)
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
	t.Run("uint8 across the sign bit", func(t *testing.T) {
		// Narrow values are read sign-extended, whatever the type's
		// signedness: 127 and 128 are far apart, and a scan finds them.
		checkIndexer(t, []uint8{126, 127, 128, 129}, modeLinear, 0, 125, 130, 255)
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
	t.Run("int a thousand, spread", func(t *testing.T) {
		keys := make([]int, 1000)
		for i := range keys {
			keys[i] = i * 3 // spread, still dense enough for a table
		}
		checkIndexer(t, keys, modeTable, 1, 3000, -3)
	})
	t.Run("string a thousand", func(t *testing.T) {
		keys := make([]string, 1000)
		for i := range keys {
			keys[i] = "s" + strconv.Itoa(i)
		}
		checkIndexer(t, keys, modeMap, "s1000", "")
	})
	t.Run("bool", func(t *testing.T) {
		checkIndexer(t, []bool{true}, modeLinear, false)
	})
	t.Run("empty", func(t *testing.T) {
		checkIndexer(t, []int(nil), modeLinear, 0, 1)
		checkIndexer(t, []string(nil), modeLinear, "")
	})
}
