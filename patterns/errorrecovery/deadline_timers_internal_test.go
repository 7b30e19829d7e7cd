package errorrecovery

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
)

// armedCtx returns a context on the real clock with a deadline d from now,
// armed as Done arms it: in p.
func armedCtx(p *deadlineTimers, d time.Duration) *callCtx {
	c := &callCtx{parent: context.Background(), clock: engine.RealClock{}, timers: p}
	c = c.begin(1, instantOf(time.Now().Add(d)))
	c.see()
	c.arm()
	return c
}

func isDone(c *callCtx) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// One timer serves deadlines that come in out of order: each context ends
// at its own deadline, one taken out first never ends, and the timer is
// left unset once nothing is due.
func TestDeadlineTimersEndEachContextAtItsOwnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := new(deadlineTimers)
		start := time.Now()
		late := armedCtx(p, 3*time.Second)
		early := armedCtx(p, time.Second)
		ended := armedCtx(p, 2*time.Second)
		ended.end() // the attempt returned before its deadline
		p.mu.Lock()
		require.Len(t, p.queue, 2)
		p.mu.Unlock()

		<-early.done
		assert.Equal(t, time.Second, time.Since(start), "the earliest deadline first")
		assert.ErrorIs(t, early.Err(), context.DeadlineExceeded)
		assert.False(t, isDone(late), "a later deadline is still to come")

		<-late.done
		assert.Equal(t, 3*time.Second, time.Since(start))
		assert.ErrorIs(t, late.Err(), context.DeadlineExceeded)
		assert.ErrorIs(t, ended.err, context.Canceled, "the ended attempt's context was cancelled by its end, not expired")
		synctest.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		assert.Empty(t, p.queue)
		assert.False(t, p.set, "nothing left: the timer is not set again")
	})
}

// The heap keeps its order and its slots through any mix of adds and
// removes: each context's slot names its place, and the earliest deadline
// is at the top.
func TestDeadlineTimersHeapKeepsOrderAndSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := new(deadlineTimers)
		r := rand.New(rand.NewPCG(1, 2))
		var live []*callCtx
		for range 500 {
			if len(live) > 0 && r.IntN(3) == 0 {
				k := r.IntN(len(live))
				live[k].end()
				live = append(live[:k], live[k+1:]...)
			} else {
				live = append(live, armedCtx(p, time.Duration(1+r.IntN(1000))*time.Second))
			}
			p.mu.Lock()
			require.Len(t, p.queue, len(live))
			for i, e := range p.queue {
				require.Equal(t, int32(i+1), e.c.slot, "slot of index %d", i)
				if i > 0 {
					require.False(t, e.key < p.queue[(i-1)/2].key, "heap order at %d", i)
				}
			}
			p.mu.Unlock()
		}
		for _, c := range live {
			c.end()
		}
	})
}

// The context stays in its size class: each one asked for Done is an
// allocation of its own.
func TestCallCtxStaysIn176Bytes(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(callCtx{}), uintptr(176))
}

// An execution's start on the real clock is the anchor plus the monotonic
// time since: the same instant as time.Now, the anchor kept while it is
// younger than anchorAge and read again once it is not.
func TestStartsReadTheWallClockOncePerAnchorAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := new(deadlineTimers)
		first := p.start()
		anchor := p.anchor.Load()
		require.NotNil(t, anchor, "the first reading anchors")
		assert.True(t, first.time().Equal(time.Now()), "the first reading is time.Now")
		assert.Zero(t, first.off, "the first reading is the anchor")

		time.Sleep(anchorAge / 2)
		mid := p.start()
		assert.Same(t, anchor, p.anchor.Load(), "an anchor younger than anchorAge is kept")
		assert.Equal(t, anchorAge/2, mid.off, "a reading from the anchor is the time since it")
		assert.True(t, mid.time().Equal(time.Now()), "a reading from the anchor is now: %v against %v", mid.time(), time.Now())
		assert.Equal(t, anchorAge/2, mid.time().Sub(first.time()), "the time between two readings")
		assert.Equal(t, time.Duration(0), mid.since(nil, true), "no time since the reading")

		time.Sleep(anchorAge / 2)
		late := p.start()
		assert.NotSame(t, anchor, p.anchor.Load(), "an anchor anchorAge old is read again")
		assert.Zero(t, late.off, "a new anchor")
		assert.True(t, late.time().Equal(time.Now()), "the new anchor is now")
	})
}
