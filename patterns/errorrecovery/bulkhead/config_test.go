package bulkhead_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"github.com/statecraft/statecraft/states"
)

func TestDefaultConfig(t *testing.T) {
	got := bulkhead.DefaultConfig()
	want := bulkhead.Config{MaxConcurrent: 10, MaxQueueSize: 100, QueueTimeout: 30 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultConfig() (-want +got):\n%s", diff)
	}
	assert.NoError(t, got.Validate())
}

// TestZeroConfigIsDefaultConfig pins that a zero Config means
// DefaultConfig: both resolve to DefaultConfig, and a bulkhead of the zero
// Config has 10 slots, a queue of 100 and a 30s queue timeout.
func TestZeroConfigIsDefaultConfig(t *testing.T) {
	def := mustBulkhead(t, bulkhead.DefaultConfig())
	if diff := cmp.Diff(bulkhead.DefaultConfig(), def.Config()); diff != "" {
		t.Errorf("New(DefaultConfig()).Config(), want DefaultConfig() (-want +got):\n%s", diff)
	}
	clk := enginetest.NewClock(time.Time{})
	b := mustBulkhead(t, bulkhead.Config{}, engine.WithClock(clk))
	if diff := cmp.Diff(bulkhead.DefaultConfig(), b.Config()); diff != "" {
		t.Errorf("New(Config{}).Config(), want DefaultConfig() (-want +got):\n%s", diff)
	}

	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, b.Acquire(ctx), "slot %d of 10", i+1)
	}
	queued := make([]<-chan error, 100)
	for i := range queued {
		queued[i] = goProtect(b, ctx, mustNotRun(t))
		waiters(t, clk, i+1)
	}
	assert.Equal(t, bulkhead.StateQueueFull, b.State(), "10 running and 100 queued: state")
	wantReason(t, b.Protect(ctx, mustNotRun(t)), bulkhead.ErrFull, bulkhead.ReasonFull)
	clk.Advance(30*time.Second - 1)
	stillWaiting(t, queued[0])
	clk.Advance(1)
	for _, ch := range queued {
		wantReason(t, <-ch, bulkhead.ErrQueueTimeout, bulkhead.ReasonTimedOut)
	}
	for range 10 {
		b.Release()
	}
	wantMetrics(t, b, bulkhead.Metrics{Completed: 10, Rejected: 1, TimedOut: 100})
}

// TestEachZeroFieldMeansItsDefault sets one field at a time and checks what
// the bulkhead runs with: the field as given, every other field its
// default, and a negative queue or timeout as NoQueue or NoTimeout.
func TestEachZeroFieldMeansItsDefault(t *testing.T) {
	d := bulkhead.DefaultConfig()
	with := func(edit func(*bulkhead.Config)) bulkhead.Config {
		c := d
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  bulkhead.Config
		want bulkhead.Config
	}{
		{"empty", bulkhead.Config{}, d},
		{"MaxConcurrent", bulkhead.Config{MaxConcurrent: 3}, with(func(c *bulkhead.Config) { c.MaxConcurrent = 3 })},
		{"MaxQueueSize", bulkhead.Config{MaxQueueSize: 7}, with(func(c *bulkhead.Config) { c.MaxQueueSize = 7 })},
		{"QueueTimeout", bulkhead.Config{QueueTimeout: time.Second}, with(func(c *bulkhead.Config) { c.QueueTimeout = time.Second })},
		{"UseWorkerPool", bulkhead.Config{UseWorkerPool: true}, with(func(c *bulkhead.Config) { c.UseWorkerPool = true })},
		{"NoQueue", bulkhead.Config{MaxQueueSize: bulkhead.NoQueue}, with(func(c *bulkhead.Config) { c.MaxQueueSize = bulkhead.NoQueue })},
		{"another negative queue", bulkhead.Config{MaxQueueSize: -5}, with(func(c *bulkhead.Config) { c.MaxQueueSize = bulkhead.NoQueue })},
		{"NoTimeout", bulkhead.Config{QueueTimeout: bulkhead.NoTimeout}, with(func(c *bulkhead.Config) { c.QueueTimeout = bulkhead.NoTimeout })},
		{"another negative timeout", bulkhead.Config{QueueTimeout: -time.Second}, with(func(c *bulkhead.Config) { c.QueueTimeout = bulkhead.NoTimeout })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBulkhead(t, tt.cfg)
			if diff := cmp.Diff(tt.want, b.Config()); diff != "" {
				t.Errorf("New(%+v).Config() (-want +got):\n%s", tt.cfg, diff)
			}
			// What the bulkhead resolved to builds the same bulkhead again.
			if diff := cmp.Diff(tt.want, mustBulkhead(t, b.Config()).Config()); diff != "" {
				t.Errorf("New(%+v).Config(), want it unchanged (-want +got):\n%s", tt.want, diff)
			}
		})
	}
}

// TestNoTimeoutWaitsForASlot: a call queued with NoTimeout waits on its
// context, not on the clock: a day passing on the clock does not end its
// wait, and it runs when the slot comes to it.
func TestNoTimeoutWaitsForASlot(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	enqueued := make(chan struct{}, 1)
	watch := engine.ObserverFunc(func(r engine.Record) {
		if r.Event == bulkhead.EventAcquire.String() && r.To == bulkhead.StateQueueFull.String() {
			enqueued <- struct{}{}
		}
	})
	b := mustBulkhead(t, bulkheadCfg(1, 1, bulkhead.NoTimeout), engine.WithClock(clk), engine.WithObserver(watch))
	release := holdSlot(t, b)
	queued := goProtect(b, context.Background(), nop)
	<-enqueued
	clk.Advance(24 * time.Hour)
	require.NoError(t, release())
	require.NoError(t, <-queued, "a call queued with NoTimeout, a day later on the clock: want it to run")
	wantMetrics(t, b, bulkhead.Metrics{Completed: 2})
}

func TestInvalidConfigNamesTheField(t *testing.T) {
	tests := []struct {
		field string
		cfg   bulkhead.Config
	}{
		{"MaxConcurrent", bulkhead.Config{MaxConcurrent: -1}},
		{"MaxConcurrent", bulkhead.Config{MaxConcurrent: 1<<20 + 1}},
		{"MaxConcurrent", bulkhead.Config{MaxConcurrent: 1<<16 + 1, UseWorkerPool: true}},
		{"MaxQueueSize", bulkhead.Config{MaxQueueSize: 1<<20 + 1}},
		{"QueueTimeout", bulkhead.Config{QueueTimeout: 24*time.Hour + 1}},
	}
	for _, tt := range tests {
		_, err := bulkhead.New(tt.cfg)
		ce, ok := errors.AsType[*setup.ConfigError](err)
		if assert.True(t, ok, "%+v: got %v, want a *ConfigError", tt.cfg, err) {
			assert.Equal(t, "bulkhead.Config", ce.Config, "%+v: the config named", tt.cfg)
			assert.Equal(t, tt.field, ce.Field, "%+v: the field named", tt.cfg)
		}
	}
	// The largest values are valid.
	for _, cfg := range []bulkhead.Config{
		{MaxConcurrent: 1 << 20, MaxQueueSize: 1 << 20, QueueTimeout: 24 * time.Hour},
		{MaxConcurrent: 1 << 16, UseWorkerPool: true},
	} {
		assert.NoError(t, cfg.Validate(), "%+v", cfg)
	}
}

func TestNewRefusesADefinitionOfAnotherMachine(t *testing.T) {
	type other uint8
	ob := fsm.New[other, other, int]("other")
	ob.State(0, states.Initial)
	ob.State(1, states.Final)
	ob.On(0, 0, 1)
	_, err := bulkhead.New(bulkhead.Config{}, engine.WithDefinition(ob.MustBuild()))
	ce, ok := errors.AsType[*setup.ConfigError](err)
	require.True(t, ok, "a definition of other types: got %v, want a *setup.ConfigError", err)
	assert.Equal(t, "bulkhead.Config", ce.Config, "a definition of other types: the config named")
	assert.Equal(t, "Definition", ce.Field, "a definition of other types: the field named")
}
