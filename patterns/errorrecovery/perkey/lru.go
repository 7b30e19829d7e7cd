package perkey

import "container/heap"

// record is an entry in the least-recently-used heap, with the number of
// a use of it (its last when pushed).
type record[K comparable, M any] struct {
	seq uint64
	e   *entry[K, M]
}

// lruHeap is a min-heap of records by use number. The registry keeps one
// record per entry in its map, and lets records of evicted entries wait
// until they are popped, or until compact drops them.
type lruHeap[K comparable, M any] []record[K, M]

func (h lruHeap[K, M]) Len() int           { return len(h) }
func (h lruHeap[K, M]) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h lruHeap[K, M]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lruHeap[K, M]) Push(x any)        { *h = append(*h, x.(record[K, M])) }
func (h *lruHeap[K, M]) Pop() any {
	old := *h
	n := len(old) - 1
	r := old[n]
	old[n] = record[K, M]{}
	*h = old[:n]
	return r
}

func (h *lruHeap[K, M]) push(e *entry[K, M], seq uint64) { heap.Push(h, record[K, M]{seq, e}) }
func (h *lruHeap[K, M]) pop() record[K, M]               { return heap.Pop(h).(record[K, M]) }

// compact drops the records of evicted entries once they are as many as
// the live ones (plus some slack), so that idle eviction, which does not
// pop, cannot grow the heap without bound.
func (h *lruHeap[K, M]) compact(live int) {
	if len(*h) <= 2*live+64 {
		return
	}
	kept := (*h)[:0]
	for _, r := range *h {
		if !r.e.gone {
			kept = append(kept, r)
		}
	}
	clear((*h)[len(kept):])
	*h = kept
	heap.Init(h)
}
