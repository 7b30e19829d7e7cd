package nohedge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOffMarksTheContextAndItsChildren(t *testing.T) {
	ctx := context.Background()
	assert.False(t, IsOff(ctx))
	off := Off(ctx)
	assert.True(t, IsOff(off))
	child, cancel := context.WithCancel(off)
	defer cancel()
	assert.True(t, IsOff(child))
}
