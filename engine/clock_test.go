package engine_test

import (
	"testing"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
)

// The one test that spends real time: it checks the real clock itself, with
// waits of a few milliseconds.
func TestRealClockConformance(t *testing.T) {
	enginetest.TestClock(t, func(t *testing.T) (engine.Clock, func(time.Duration)) {
		return engine.RealClock{}, time.Sleep
	})
}
