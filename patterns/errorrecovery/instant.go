package errorrecovery

import (
	"time"

	"github.com/statecraft/statecraft/engine"
)

// instant is a point on an executor's clock kept as an offset from a
// reading of that clock (base): an execution's start is its workflow's
// anchor plus the time since (deadlineTimers.start), and its deadlines are
// its start plus a timeout. Setting a deadline is then an integer addition
// and checking one a subtraction from the monotonic clock, where
// time.Time.Add, which keeps a wall and a monotonic reading consistent,
// costs about 70 instructions; five layers set three deadlines an
// execution. The time.Time is built only when something asks for it: a
// context's Deadline, a rate reservation, hedging's rounds.
//
// The zero instant is none (no deadline): a real base is never the zero
// time.
type instant struct {
	base time.Time
	off  time.Duration
}

// instantOf returns the instant t; the zero time gives none.
func instantOf(t time.Time) instant { return instant{base: t} }

// none reports whether i is the zero instant.
func (i instant) none() bool { return i.base.IsZero() }

// after returns the instant d after i, which is not none.
func (i instant) after(d time.Duration) instant { return instant{base: i.base, off: i.off + d} }

// time returns i as a time; the zero time for none.
func (i instant) time() time.Time {
	if i.off == 0 {
		return i.base
	}
	return i.base.Add(i.off)
}

// since returns the time from i to now on clk, which i is not none on.
// On the real clock (real set; i's base then carries a monotonic reading)
// it reads the monotonic clock alone, as time.Since does.
func (i instant) since(clk engine.Clock, real bool) time.Duration {
	if real {
		return time.Since(i.base) - i.off
	}
	return clk.Now().Sub(i.base) - i.off
}
