package breaker

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// A window holds the outcomes of one closed period of a breaker: the
// Closed state's entry action makes a new one, stamped with the
// generation of that entry, and publishes it with one pointer store. So
// closing resets the window, and a call admitted in an earlier closed
// period, which finds a window of another generation, records nothing
// there. An old window is never reused.
//
// countWindow is the count-only window: the last size outcomes. Outcomes
// are numbered by the breaker's position counter (Breaker.pos), which
// every recorded outcome advances by one atomic add and which is never
// reset. The window remembers where its period began and the positions of
// its failures and slow calls; a success leaves nothing but the position
// it took. So the success path is that one atomic add, with no lock, no
// clock and no write to the window itself, and an outcome leaves the
// window when size later positions have been taken. Invariants:
//
//   - start is the counter's value when the period began; positions only
//     grow, so the window holds calls = min(pos - start, size) outcomes.
//   - failures and slows hold positions of outcomes recorded into this
//     window, sorted, under mu; those below pos - size have left the
//     window and are trimmed as new ones arrive.
//   - A failure takes its position before it is inserted, and is fired
//     only after, so the guards it triggers count it. A position taken
//     but not yet inserted is missing from the counts for that moment,
//     as if the outcome had not happened yet.
//   - The counts are clamped so that failures and slows never exceed calls
//     (a failure whose position was taken in the instant between the
//     period's commit and its entry action lies just below start).
type countWindow struct {
	gen   uint32 // the generation of the closed period it belongs to
	size  uint64
	start uint64 // Breaker.pos when the period began

	mu       sync.Mutex // guards failures and slows; a leaf lock
	failures positions
	slows    positions
}

func newCountWindow(gen uint32, size int, start uint64) *countWindow {
	return &countWindow{gen: gen, size: uint64(size), start: start}
}

// add records a failure or slow call (or both) that took position at.
func (w *countWindow) add(at uint64, failure, slow bool) {
	lo := w.low(at + 1)
	w.mu.Lock()
	if failure {
		w.failures.insert(at, lo)
	}
	if slow {
		w.slows.insert(at, lo)
	}
	w.mu.Unlock()
}

// low is the lowest position still in the window when pos positions have
// been taken.
func (w *countWindow) low(pos uint64) uint64 {
	if pos < w.size {
		return 0
	}
	return pos - w.size
}

// counts reports the outcomes in the window when pos positions have been
// taken, and the failures and slow calls among them.
func (w *countWindow) counts(pos uint64) tally {
	calls := int(min(pos-min(pos, w.start), w.size))
	lo := w.low(pos)
	w.mu.Lock()
	f, s := w.failures.countFrom(lo), w.slows.countFrom(lo)
	w.mu.Unlock()
	return tally{calls: calls, failures: min(f, calls), slows: min(s, calls)}
}

// positions is a sorted set of outcome positions: s[head:] are live.
// Positions mostly arrive in order, so an insert is usually an append.
type positions struct {
	s    []uint64
	head int
}

// insert adds p and drops the positions below lo.
func (q *positions) insert(p, lo uint64) {
	if p < lo {
		return
	}
	live := q.s[q.head:]
	drop, _ := slices.BinarySearch(live, lo)
	q.head += drop
	if q.head > len(q.s)/2 { // compact, so the slice does not grow without bound
		q.s = append(q.s[:0], q.s[q.head:]...)
		q.head = 0
	}
	i, _ := slices.BinarySearch(q.s[q.head:], p)
	q.s = slices.Insert(q.s, q.head+i, p)
}

// countFrom reports how many positions are at or above lo.
func (q *positions) countFrom(lo uint64) int {
	live := q.s[q.head:]
	i, _ := slices.BinarySearch(live, lo)
	return len(live) - i
}

// tally is what the window rules look at.
type tally struct{ calls, failures, slows int }

func (c tally) failureRate() float64 { return rate(c.failures, c.calls) }
func (c tally) slowRate() float64    { return rate(c.slows, c.calls) }

func rate(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return math.Min(float64(n)/float64(of), 1)
}

// timeWindow is the window when WindowDuration is set: the last size
// outcomes that are also younger than the duration. It is kept under a
// mutex, a leaf lock: it may be taken while the breaker's Instance lock is
// held (by guards), never the other way round.
//
// Time is cut into buckets of width duration/10, numbered from the
// window's origin. An outcome counts while its bucket is one of the ten
// newest; each bucket keeps the counts of the outcomes in it that are
// still among the last size. The ring remembers each outcome's bucket, so
// that an outcome pushed out by count is taken out of its bucket, unless
// that bucket has expired (and been reused) meanwhile.
//
// The bucket tick: an outcome needs the time only to know its bucket, and
// reading the clock costs more than the rest of a success. So with a
// ticking clock (the real one, for buckets of at least minTickWidth), the
// window remembers the newest bucket a clock read has found (latest) and
// whether it is still current (fresh): the read that finds a bucket
// arms a timer, on the clock, at that bucket's end, which clears fresh. An
// outcome that finds fresh set takes bucket latest without reading the
// clock; one that finds it clear reads the clock, and re-arms. So a busy
// window reads the clock about once per bucket, an idle one arms nothing,
// and nothing changes in what counts: on a manual clock, whose timers run
// within Advance, an outcome after an Advance past the bucket's end reads
// the clock, exactly as before. On the real clock the timer may run late
// by the scheduler's latency; an outcome in that moment is stamped with
// the bucket just ended, as one whose goroutine was descheduled between
// reading the clock and recording would be: it leaves the window that
// much earlier, never later, than its age says.
type timeWindow struct {
	gen    uint32
	origin time.Time
	width  time.Duration

	// clock reads the time for an outcome given none (add with a zero
	// time); tick says the bucket tick is on. Set by installWindow.
	clock engine.Clock
	tick  bool
	// mono says the clock is the real one: the time since origin is read
	// from the monotonic clock alone (time.Since), about half the cost of
	// time.Now, which reads the wall clock too.
	mono  bool
	fresh atomic.Bool // latest is the current bucket: its end-of-bucket timer has not run
	// expire clears fresh; made once, armed at each bucket's end.
	expire func()

	mu      sync.Mutex // guards the fields below
	latest  int64      // the newest bucket a clock read has found
	timer   engine.Timer
	ring    []timedOutcome
	next    int // the ring slot the next outcome goes in
	n       int // outcomes in the ring
	buckets [windowBuckets]bucket
}

type timedOutcome struct {
	seq           int64 // its bucket
	failure, slow bool
}

type bucket struct {
	seq                    int64 // which bucket this slot holds
	calls, failures, slows int
}

// noBucket marks a bucket slot as holding no bucket: far enough below
// any real sequence number that it is never live.
const noBucket = math.MinInt64 / 2

// minTickWidth is the narrowest bucket the bucket tick is used for: below
// it the timers would cost more than the clock reads they save.
const minTickWidth = time.Millisecond

func newTimeWindow(gen uint32, size int, d time.Duration, origin time.Time) *timeWindow {
	w := &timeWindow{gen: gen, origin: origin, width: max(d/windowBuckets, minBucketWidth),
		ring: make([]timedOutcome, size), latest: noBucket}
	for i := range w.buckets {
		w.buckets[i].seq = noBucket
	}
	w.expire = func() { w.fresh.Store(false) }
	return w
}

// useClock makes outcomes given no time read c, with the bucket tick on
// when tick is set and the buckets are wide enough.
func (w *timeWindow) useClock(c engine.Clock, tick bool) {
	w.clock, w.tick = c, tick && w.width >= minTickWidth
	switch c.(type) {
	case engine.RealClock, *engine.RealClock:
		w.mono = true
	}
}

func (w *timeWindow) seq(now time.Time) int64 { return int64(now.Sub(w.origin) / w.width) }

// bucketLocked returns the bucket of an outcome at time now or, when now
// is zero, of one happening now: the fresh bucket when there is one,
// otherwise that of a clock read. A read that finds a newer bucket than
// latest makes it latest and, with the tick on, arms its timer. w.mu must
// be held.
func (w *timeWindow) bucketLocked(now time.Time) int64 {
	var cur int64
	switch {
	case !now.IsZero():
		cur = w.seq(now)
	case w.fresh.Load():
		return w.latest
	case w.mono:
		cur = int64(time.Since(w.origin) / w.width)
	default:
		cur = w.seq(w.clock.Now())
	}
	if cur > w.latest {
		w.latest = cur
		w.fresh.Store(false) // a timer of an older bucket may be pending
	}
	if w.tick && cur == w.latest && !w.fresh.Load() {
		w.fresh.Store(true) // before arming: a timer due at once clears it
		w.timer = engine.AfterFuncAt(w.clock, w.origin.Add(time.Duration(cur+1)*w.width), w.expire)
	}
	return cur
}

// stop stops the pending bucket timer, if any; the window reads the
// clock for every outcome after it.
func (w *timeWindow) stop() {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.tick = false
	w.fresh.Store(false)
	w.mu.Unlock()
}

// add records an outcome at time now (zero: as bucketLocked says) and,
// when count is set, reports the outcomes that count at that time with it
// (as counts would); otherwise it returns a zero tally.
func (w *timeWindow) add(now time.Time, failure, slow, count bool) tally {
	w.mu.Lock()
	cur := w.bucketLocked(now)
	if w.n == len(w.ring) { // push the oldest out by count
		old := w.ring[w.next]
		if b := &w.buckets[bucketIndex(old.seq)]; b.seq == old.seq {
			b.calls--
			b.failures -= boolInt(old.failure)
			b.slows -= boolInt(old.slow)
		}
	} else {
		w.n++
	}
	// A bucket slot holding a newer bucket than cur (an outcome whose
	// goroutine was held up for a whole window) has reused it: cur has
	// expired, and the outcome counts only in the ring.
	if b := &w.buckets[bucketIndex(cur)]; b.seq <= cur {
		if b.seq != cur {
			*b = bucket{seq: cur}
		}
		b.calls++
		b.failures += boolInt(failure)
		b.slows += boolInt(slow)
	}
	w.ring[w.next] = timedOutcome{seq: cur, failure: failure, slow: slow}
	if w.next++; w.next == len(w.ring) {
		w.next = 0
	}
	var c tally
	if count {
		c = w.countsLocked(cur)
	}
	w.mu.Unlock()
	return c
}

// counts reports the outcomes that count at time now. It changes nothing
// that counts, so guards may call it.
func (w *timeWindow) counts(now time.Time) tally {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.countsLocked(w.bucketLocked(now))
}

// countsLocked is counts in bucket cur; w.mu must be held.
func (w *timeWindow) countsLocked(cur int64) tally {
	var c tally
	for _, b := range w.buckets {
		if b.seq > cur-windowBuckets && b.seq <= cur {
			c.calls += b.calls
			c.failures += b.failures
			c.slows += b.slows
		}
	}
	return c
}

func bucketIndex(seq int64) int {
	i := seq % windowBuckets
	if i < 0 {
		i += windowBuckets
	}
	return int(i)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
