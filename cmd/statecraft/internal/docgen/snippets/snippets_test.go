package snippets

import (
	"context"
	"io"
	"log"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/fsm/looplab"
	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// The snippets log what a program would; the tests keep it out of their
// output. (What they print shows with -v only.)
func TestMain(m *testing.M) {
	log.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// swap sets *p to v for the rest of the test.
func swap[T any](t *testing.T, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

func TestSnippetsRunWithTheirStandIns(t *testing.T) {
	ctx := context.Background()
	w, err := errorrecovery.NewWorkflow(errorrecovery.DefaultErrorRecoveryConfig[Quote]())
	require.NoError(t, err)
	for name, run := range map[string]func() error{
		"retry":               func() error { _, err := Retry(ctx, "https://example.com"); return err },
		"deadline":            func() error { _, err := Deadline(ctx, "https://example.com"); return err },
		"deadline with retry": func() error { _, err := DeadlineRetry(ctx, "https://example.com"); return err },
		"breaker":             func() error { return Breaker(ctx) },
		"bulkhead":            func() error { return Bulkhead(ctx) },
		"fallback":            func() error { _, err := Fallback(ctx); return err },
		"cache":               func() error { _, err := Cache(ctx); return err },
		"saga":                func() error { _, err := Saga(ctx); return err },
		"workflow":            func() error { _, err := Workflow(ctx); return err },
		"triage":              func() error { _, err := Triage(ctx, w); return err },
		"looplab":             func() error { return Looplab(ctx) },
		"failsafe":            func() error { _, err := Failsafe(ctx); return err },
	} {
		assert.NoErrorf(t, run(), "%s", name)
	}
}

// TestRetrySnippetGivesUpAfterFourAttempts runs docs/retry.md's snippet
// against a dependency that is always down, in a bubble so that its
// backoffs take no real time.
func TestRetrySnippetGivesUpAfterFourAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		swap(t, &fetch, func(context.Context, string) (string, error) { calls++; return "", ErrUnavailable })
		_, err := Retry(t.Context(), "u")
		assert.Equal(t, 4, calls, "calls")
		if assert.ErrorIs(t, err, ErrUnavailable) {
			assert.Contains(t, err.Error(), "gave up after 4 attempts")
		}
	})
}

// TestDeadlineSnippetStopsASlowCall: the first call of docs/deadline.md's
// snippet ends at 2s with a deadline error.
func TestDeadlineSnippetStopsASlowCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		swap(t, &fetch, func(ctx context.Context, _ string) (string, error) { <-ctx.Done(); return "", ctx.Err() })
		start := time.Now()
		_, err := Deadline(t.Context(), "u")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 2*time.Second, time.Since(start), "time to give up")
	})
}

// TestFallbackSnippetAnswersFromTheService: docs/fallback.md's snippet
// retries three times, then the fallback service answers.
func TestFallbackSnippetAnswersFromTheService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		swap(t, &getQuote, func(context.Context) (Quote, error) { return Quote{}, ErrUnavailable })
		q, err := Fallback(t.Context())
		if assert.NoError(t, err) {
			assert.Equal(t, 100.0, q.Price, "the backup API's quote")
		}
		swap(t, &backupAPI, func(context.Context) (Quote, error) { return Quote{}, ErrUnavailable })
		q, err = Fallback(t.Context())
		if assert.NoError(t, err) {
			assert.True(t, q.Stale, "the fallback value is stale: %+v", q)
		}
	})
}

// TestLooplabCallbacksSnippetKeepsTheMachine: the rebuilt definition has
// the imported states and transitions, and the entry action.
func TestLooplabCallbacksSnippetKeepsTheMachine(t *testing.T) {
	def, _, err := looplab.Import("door", "closed", doorEvents)
	require.NoError(t, err)
	rebuilt, err := LooplabCallbacks(def)
	require.NoError(t, err)
	assert.Len(t, rebuilt.Transitions(), len(def.Transitions()), "transitions of the rebuilt machine")
	assert.Contains(t, rebuilt.Dot(), "entry / chime", "the rebuilt machine's diagram")
}
