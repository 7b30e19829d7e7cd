package sim

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/internal/manualclock"
)

func newScheduler() *scheduler {
	s := &scheduler{clk: manualclock.NewClock(time.Time{})}
	s.start = s.clk.Now()
	return s
}

// An execution starts three helpers with Go, as a hedged workflow starts
// its attempts, and waits with Wait until one of them cancels its
// context: the helpers sleep on the clock in lockstep with it, and it
// goes on at the moment the helper cancels.
func TestGoAndWaitKeepHelpersInLockstep(t *testing.T) {
	s := newScheduler()
	var log []string
	at := func(what string) { log = append(log, fmt.Sprintf("%s at %v", what, s.clk.Now().Sub(s.start))) }
	s.spawn(&proc{}, func(*proc) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for i, d := range []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond} {
			s.Go(func() {
				require.NoError(t, s.Sleep(context.Background(), d))
				at(fmt.Sprint("helper ", i))
				if i == 1 {
					cancel()
				}
			})
		}
		s.Wait(ctx)
		at("waited")
	})
	require.NoError(t, s.run(func() bool { return true }, func() error { return nil }))
	want := []string{"helper 1 at 10ms", "waited at 10ms", "helper 2 at 20ms", "helper 0 at 30ms"}
	assert.Empty(t, cmp.Diff(want, log), "order (-want +got)")
	assert.Zero(t, s.live, "procs left")
}

// A run given up while an execution waits for a helper asleep on the
// clock ends: the helper is stopped first, and what it does when stopped
// (here: cancel the execution's context) reaches the execution.
func TestAbandonStopsHelpersBeforeTheExecutionsWaitingForThem(t *testing.T) {
	s := newScheduler()
	var log []string
	s.spawn(&proc{}, func(*proc) {
		ctx, cancel := context.WithCancel(context.Background())
		s.Go(func() {
			log = append(log, fmt.Sprint("helper: ", s.Sleep(context.Background(), time.Hour)))
			cancel()
		})
		for ctx.Err() == nil {
			s.Wait(ctx)
		}
		log = append(log, "execution: done")
	})
	errLimit := errors.New("a bound of the run")
	err := s.run(func() bool { return true }, func() error { return errLimit })
	require.ErrorIs(t, err, errLimit)
	assert.Equal(t, []string{"helper: " + errStopped.Error(), "execution: done"}, log, "order")
}
