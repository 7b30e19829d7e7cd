package enginetest

import (
	"time"

	"github.com/statecraft/statecraft/internal/manualclock"
)

// Clock is a manual engine.Clock. Its time moves only when Advance or
// AdvanceToNext is called, and they run the AfterFunc callbacks and wake the
// goroutines in Sleep that come due, one at a time, in order of deadline and,
// for equal deadlines, of registration.
//
// A Clock is safe for concurrent use and must not be copied. AfterFunc
// callbacks that come due during Advance run in the goroutine that calls
// Advance, after the clock's lock is released, so a callback may call any
// method of the clock (scheduling more timers, stopping others) but Advance
// and AdvanceToNext. A timer armed at a time the clock has already reached,
// while no Advance is running, runs at once in a goroutine of its own, as
// time.AfterFunc does with a non-positive duration: nothing else would ever
// run it. Everything waits on channels only, so a Clock made inside a
// testing/synctest bubble works there.
//
// The package comment lists what counts as waiting on a Clock: a goroutine
// asleep in Sleep, and a context whose deadline runs on the Clock
// (engine.WithTimeout, engine.WithDeadline, an attempt context of
// patterns/errorrecovery) from the first time code asks for its Done until
// it is done. Clock implements engine.DoneCounter for the latter.
//
// Its methods: Now, AfterFunc and AfterFuncAt (engine.Clock), Sleep and
// SleepUntil, Advance and AdvanceToNext, Pending, Waiters,
// BlockUntilWaiters and CountDone. The type is defined in an internal
// package, so that a program may run machines on it without linking this
// package's assertions; its methods are documented there.
type Clock = manualclock.Clock

// NewClock returns a Clock whose time is start. A zero start means
// 2000-01-01 00:00:00 UTC, the instant a testing/synctest bubble starts at,
// so that times in traces do not depend on when a test runs.
func NewClock(start time.Time) *Clock { return manualclock.NewClock(start) }
