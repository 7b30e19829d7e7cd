package testutil

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/statecraft/statecraft/engine"
)

// TickClock reads a microsecond later at each reading. Benchmarks of a
// cache run on it so that the time they report is the cache's rather than
// time.Now's, and so that an entry with a TTL of a nanosecond has expired
// by the next reading. It sleeps and sets timers on the real clock.
type TickClock struct{ ticks atomic.Int64 }

// Now returns the next reading, a microsecond after the last.
func (c *TickClock) Now() time.Time {
	return time.Unix(0, c.ticks.Add(int64(time.Microsecond)))
}

// AfterFunc runs f after d on the real clock.
func (c *TickClock) AfterFunc(d time.Duration, f func()) engine.Timer {
	return engine.RealClock{}.AfterFunc(d, f)
}

// Sleep sleeps d on the real clock.
func (c *TickClock) Sleep(ctx context.Context, d time.Duration) error {
	return engine.RealClock{}.Sleep(ctx, d)
}
