package budget

import (
	"math"
	"sync/atomic"
)

// The window is cut into slices: an execution or retry counts from the
// moment it is recorded until its slice is slices slices old, so for
// between (slices-1)/slices of Window and Window (Finagle's windowed
// counter does the same with 10 slices).
const slices = 10

// counter counts events in the slices of the window. Each slot holds one
// slice as a word: the slice's number (modulo 2^32) in the high half and
// its count in the low half, so that starting a new slice and counting
// in it are one compare-and-swap, with no lock and no clock beyond the
// caller's.
type counter [slices]atomic.Uint64

// add counts one event in slice idx. A count that would overflow its
// half stays at its maximum. A slot holding a newer slice than idx (its
// caller read the clock, then was held up for a whole window) is left
// alone: slice idx has aged out already, and its event with it.
func (c *counter) add(idx int64) {
	s := &c[idx%slices]
	for {
		v := s.Load()
		held := uint32(v >> 32)
		var next uint64
		switch d := int32(uint32(idx) - held); {
		case d == 0 && uint32(v) == math.MaxUint32:
			return
		case d == 0:
			next = v + 1
		case d > 0 || v == 0:
			next = uint64(uint32(idx))<<32 | 1 // a new slice takes the slot
		default:
			return
		}
		if s.CompareAndSwap(v, next) {
			return
		}
	}
}

// ages returns the counts of slice idx and the slices-1 before it, by
// age: ages[k] is the count of slice idx-k.
func (c *counter) ages(idx int64) (ages [slices]int64) {
	for k := range int64(slices) {
		j := idx - k
		if j < 0 {
			break
		}
		v := c[j%slices].Load()
		if uint32(v>>32) == uint32(j) {
			ages[k] = int64(uint32(v))
		}
	}
	return ages
}

// unit is one retry in the budget's fixed-point arithmetic: ratios are
// kept to a millionth so that the budget is exact, with no rounding of
// floating point at its threshold.
const unit = 1_000_000

// balance is what the budget holds, in units, for deposits d and
// withdrawals w in the window: d times the ratio, plus the minimum, less
// w retries.
func (b *Budget) balance(d, w int64) int64 {
	return d*b.ratio + b.reserve*unit - w*unit
}

// sum returns the count of slice idx and the slices-1 before it: what
// ages(idx) holds, added up without the array.
func (c *counter) sum(idx int64) (n int64) {
	for j := idx; j >= 0 && j > idx-slices; j-- {
		if v := c[j%slices].Load(); uint32(v>>32) == uint32(j) {
			n += int64(uint32(v))
		}
	}
	return n
}

// sums returns the executions and retries counted in the window at slice
// idx.
func (b *Budget) sums(idx int64) (d, w int64) {
	return b.dep.sum(idx), b.wd.sum(idx)
}

// within reports whether one more retry fits the budget at slice idx.
func (b *Budget) within(idx int64) bool {
	d, w := b.sums(idx)
	return b.balance(d, w) >= unit
}

// slicesUntilWithin reports how many slice boundaries after idx the
// budget holds a retry again, if nothing more is recorded: as slices age
// out, their executions and their retries stop counting. It reports
// slices when only the last boundary would do or none would: by then
// everything counted now has aged out.
func (b *Budget) slicesUntilWithin(idx int64) int64 {
	dep, wd := b.dep.ages(idx), b.wd.ages(idx)
	for j := int64(1); j < slices; j++ {
		// At slice idx+j, slices older than idx+j-(slices-1) are gone:
		// those of age slices-j and more, now.
		var d, w int64
		for k := range slices - j {
			d += dep[k]
			w += wd[k]
		}
		if b.balance(d, w) >= unit {
			return j
		}
	}
	return slices
}
