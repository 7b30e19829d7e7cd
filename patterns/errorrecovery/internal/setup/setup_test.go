package setup

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestOrIsTheZeroValueRule(t *testing.T) {
	for _, c := range []struct{ v, want time.Duration }{
		{0, time.Minute}, // zero: the default
		{-1, -7},         // negative: none, as the caller spells it
		{-time.Hour, -7}, // any negative
		{time.Second, time.Second},
	} {
		if got := Or(c.v, time.Minute, -7); got != c.want {
			t.Errorf("Or(%v, 1m, -7) = %v, want %v", c.v, got, c.want)
		}
	}
	assert.Equal(t, 0.1, Or(0.0, 0.1, 0), "Or(0.0, 0.1, 0)")
}
