package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
)

// procClock records what engine.Go and engine.Wait hand it, and runs the
// tasks itself, at once, as a simulator's scheduler would in its turn.
type procClock struct {
	engine.RealClock
	started, waited int
}

func (c *procClock) Go(f func()) { c.started++; f() }

func (c *procClock) Wait(ctx context.Context) { c.waited++ }

func TestGoAndWaitUseAProcClock(t *testing.T) {
	c := &procClock{}
	ran := false
	engine.Go(c, func() { ran = true })
	assert.True(t, ran, "the clock ran the task")
	assert.Equal(t, 1, c.started)

	engine.Wait(c, context.Background()) // would block forever without the clock
	assert.Equal(t, 1, c.waited)
}

func TestGoAndWaitOnTheRealClock(t *testing.T) {
	done := make(chan struct{})
	engine.Go(engine.RealClock{}, func() { close(done) })
	<-done

	ctx, cancel := context.WithCancel(context.Background())
	engine.Go(engine.RealClock{}, cancel)
	engine.Wait(engine.RealClock{}, ctx)
	require.ErrorIs(t, ctx.Err(), context.Canceled)
}
