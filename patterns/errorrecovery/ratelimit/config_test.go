package ratelimit_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// A zero Config means DefaultConfig: 100 permits a second, spaced evenly,
// no waiting; each zero field alone means its default.
func TestZeroConfigIsDefaultConfig(t *testing.T) {
	want := ratelimit.Config{Permits: 100, Period: time.Second, Mode: ratelimit.ModeSmooth, Burst: 1}
	assert.Empty(t, cmp.Diff(want, ratelimit.DefaultConfig()))
	for _, c := range []ratelimit.Config{{}, ratelimit.DefaultConfig(), {Permits: 100}, {Period: time.Second, Burst: 1}} {
		got, err := c.Resolve()
		require.NoError(t, err)
		assert.Empty(t, cmp.Diff(want, got), "%+v", c)
	}
	l, clk := newLimiter(t, ratelimit.Config{})
	assert.Equal(t, 1, allows(l, 5), "a burst of one")
	clk.Advance(10 * time.Millisecond)
	assert.Equal(t, 1, allows(l, 5), "the next 10ms later")
}

// "None" is spelled explicitly: any negative MaxWait resolves to
// NoMaxWait; bursty mode keeps Burst zero.
func TestResolveSpellsNoneOneWay(t *testing.T) {
	got, err := (&ratelimit.Config{MaxWait: -time.Hour, Mode: ratelimit.ModeBursty}).Resolve()
	require.NoError(t, err)
	want := ratelimit.Config{Permits: 100, Period: time.Second, Mode: ratelimit.ModeBursty, MaxWait: ratelimit.NoMaxWait}
	assert.Empty(t, cmp.Diff(want, got))
	again, err := got.Resolve()
	require.NoError(t, err)
	assert.Equal(t, got, again, "a resolved config resolves to itself")
}

// Each invalid value is refused with a *ConfigError naming its field.
func TestValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		cfg   ratelimit.Config
		field string
	}{
		{ratelimit.Config{Permits: -1}, "Permits"},
		{ratelimit.Config{Permits: 1<<30 + 1, Period: time.Hour}, "Permits"},
		{ratelimit.Config{Permits: 11, Period: 10}, "Permits"},
		{ratelimit.Config{Period: -time.Second}, "Period"},
		{ratelimit.Config{Period: 25 * time.Hour}, "Period"},
		{ratelimit.Config{Mode: 2}, "Mode"},
		{ratelimit.Config{Burst: -1}, "Burst"},
		{ratelimit.Config{Burst: 101}, "Burst"},
		{ratelimit.Config{Mode: ratelimit.ModeBursty, Burst: 5}, "Burst"},
		{ratelimit.Config{MaxWait: 25 * time.Hour}, "MaxWait"},
	} {
		err := c.cfg.Validate()
		var ce *setup.ConfigError
		if assert.ErrorAs(t, err, &ce, "%+v", c.cfg) {
			assert.Equal(t, c.field, ce.Field, "%+v", c.cfg)
			assert.Equal(t, "ratelimit.Config", ce.Config)
		}
		_, err = ratelimit.New(c.cfg)
		assert.ErrorAs(t, err, &ce, "New refuses what Validate does")
	}
}

func TestEnumsPrintTheirNames(t *testing.T) {
	assert.Equal(t, "Available", ratelimit.StateAvailable.String())
	assert.Equal(t, "Limited", ratelimit.StateLimited.String())
	assert.Equal(t, "acquire", ratelimit.EventAcquire.String())
	assert.Equal(t, "bursty", ratelimit.ModeBursty.String())
	assert.Equal(t, "limited", ratelimit.ReasonLimited.String())
	assert.Equal(t, "ratelimit.Mode(7)", ratelimit.Mode(7).String())
}
