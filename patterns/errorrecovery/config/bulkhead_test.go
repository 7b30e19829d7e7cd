package config_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// TestBulkheadFileAndLiteralAgree pins that a bulkhead section and a
// bulkhead.Config literal with the same settings mean the same bulkhead:
// a key given 0 means the default, as a zero field does, and the off
// values (a negative queue size or queue timeout) are written the same
// way in both. The bulkheads are compared by the config they resolved to.
// UseWorkerPool has no key (a workflow refuses it).
func TestBulkheadFileAndLiteralAgree(t *testing.T) {
	tests := []struct {
		name, section string
		literal       bulkhead.Config
	}{
		{"empty", `{}`, bulkhead.Config{}},
		{"no settings", ``, bulkhead.Config{}},
		{"max_concurrent", `{max_concurrent: 3}`, bulkhead.Config{MaxConcurrent: 3}},
		{"max_concurrent 0", `{max_concurrent: 0}`, bulkhead.Config{MaxConcurrent: 0}},
		{"max_queue_size", `{max_queue_size: 7}`, bulkhead.Config{MaxQueueSize: 7}},
		{"max_queue_size 0", `{max_queue_size: 0}`, bulkhead.Config{MaxQueueSize: 0}},
		{"queue_timeout", `{queue_timeout: 250ms}`, bulkhead.Config{QueueTimeout: 250 * time.Millisecond}},
		{"queue_timeout 0s", `{queue_timeout: 0s}`, bulkhead.Config{QueueTimeout: 0}},
		{"no queue", `{max_queue_size: -1}`, bulkhead.Config{MaxQueueSize: bulkhead.NoQueue}},
		{"no queue timeout", `{queue_timeout: -1s}`, bulkhead.Config{QueueTimeout: bulkhead.NoTimeout}},
		{"every field", `{max_concurrent: 2, max_queue_size: 5, queue_timeout: 1s}`,
			bulkhead.Config{MaxConcurrent: 2, MaxQueueSize: 5, QueueTimeout: time.Second}},
		{"every off value", `{max_concurrent: 2, max_queue_size: -1, queue_timeout: -1s}`,
			bulkhead.Config{MaxConcurrent: 2, MaxQueueSize: bulkhead.NoQueue, QueueTimeout: bulkhead.NoTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse[any]("x.yaml", []byte("primary: BULKHEAD\nbulkhead: "+tt.section+"\n"))
			require.NoError(t, err)
			w, err := errorrecovery.NewWorkflow(cfg)
			require.NoError(t, err)
			fromFile := w.Bulkhead().Config()
			lit, err := bulkhead.New(tt.literal)
			require.NoError(t, err)
			defer lit.Close(context.Background())
			if fromLiteral := lit.Config(); fromFile != fromLiteral {
				t.Errorf("bulkhead: %s resolves to %+v; the literal %+v to %+v", tt.section, fromFile, tt.literal, fromLiteral)
			}
		})
	}
}
