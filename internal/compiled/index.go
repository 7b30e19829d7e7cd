package compiled

import (
	"reflect"
	"unsafe"
)

// indexer maps values of a comparable type to the dense indices they were
// interned to when the definition was built. Integer kinds whose values are
// close together use a direct table (no hashing, no map); other types with
// few values use a linear scan, which beats hashing for the handful of
// events a machine usually has; only large non-integer sets use a map.
type indexer[K comparable] struct {
	keys []K

	// direct table for integer kinds
	table []int32
	min   int64

	m map[K]int32
}

const linearMax = 8

func newIndexer[K comparable](keys []K) indexer[K] {
	x := indexer[K]{keys: keys}
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if x.buildTable() {
			return x
		}
	}
	if len(keys) > linearMax {
		x.m = make(map[K]int32, len(keys))
		for i, k := range keys {
			x.m[k] = int32(i)
		}
	}
	return x
}

func (x *indexer[K]) buildTable() bool {
	if len(x.keys) == 0 {
		return false
	}
	lo, hi := x.intOf(&x.keys[0]), x.intOf(&x.keys[0])
	for i := range x.keys {
		v := x.intOf(&x.keys[i])
		lo, hi = min(lo, v), max(hi, v)
	}
	span := uint64(hi - lo)
	if span >= uint64(max(64, 4*len(x.keys))) {
		return false
	}
	x.min = lo
	x.table = make([]int32, span+1)
	for i := range x.table {
		x.table[i] = -1
	}
	for i := range x.keys {
		x.table[x.intOf(&x.keys[i])-lo] = int32(i)
	}
	return true
}

// intOf reads an integer-kind K as int64, sign-extending narrower ones
// whether K is signed or not: the table is built and read through the
// same mapping, which is one-to-one for each size. Unsigned 64-bit
// values above MaxInt64 wrap, which only widens the span and is checked
// by the caller. The size is a constant of each instantiation, so the
// switch compiles away.
func (x *indexer[K]) intOf(k *K) int64 { return intOf(k) }

// intOf is indexer.intOf, for the tables copied out of an indexer
// (Plain).
func intOf[K any](k *K) int64 {
	p := unsafe.Pointer(k)
	switch unsafe.Sizeof(*k) {
	case 1:
		return int64(*(*int8)(p))
	case 2:
		return int64(*(*int16)(p))
	case 4:
		return int64(*(*int32)(p))
	default:
		return *(*int64)(p)
	}
}

// index returns k's dense index, or -1 when k was not interned: the
// direct table's answer (slot), or else a lookup.
func (x *indexer[K]) index(k K) int {
	if i := x.slot(k); i != NoTable {
		return i
	}
	return x.lookup(k)
}

// slot is index for the direct-table case alone: NoTable when there is
// no table. It inlines where index does not.
func (x *indexer[K]) slot(k K) int {
	if t := x.table; t != nil {
		if v := uint64(x.intOf(&k) - x.min); v < uint64(len(t)) {
			return int(t[v])
		}
		return -1
	}
	return NoTable
}

func (x *indexer[K]) lookup(k K) int {
	if x.m != nil {
		if i, ok := x.m[k]; ok {
			return int(i)
		}
		return -1
	}
	for i := range x.keys {
		if x.keys[i] == k {
			return i
		}
	}
	return -1
}
