package snippets

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
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
		if err := run(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
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
		if calls != 4 || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "gave up after 4 attempts") {
			t.Errorf("%d calls, %v", calls, err)
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
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 2*time.Second {
			t.Errorf("%v after %v", err, time.Since(start))
		}
	})
}

// TestFallbackSnippetAnswersFromTheService: docs/fallback.md's snippet
// retries three times, then the fallback service answers.
func TestFallbackSnippetAnswersFromTheService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		swap(t, &getQuote, func(context.Context) (Quote, error) { return Quote{}, ErrUnavailable })
		q, err := Fallback(t.Context())
		if err != nil || q.Price != 100 {
			t.Errorf("got %+v, %v; want the backup API's quote", q, err)
		}
		swap(t, &backupAPI, func(context.Context) (Quote, error) { return Quote{}, ErrUnavailable })
		if q, err := Fallback(t.Context()); err != nil || !q.Stale {
			t.Errorf("got %+v, %v; want the fallback value", q, err)
		}
	})
}

// TestLooplabCallbacksSnippetKeepsTheMachine: the rebuilt definition has
// the imported states and transitions, and the entry action.
func TestLooplabCallbacksSnippetKeepsTheMachine(t *testing.T) {
	def, _, err := looplab.Import("door", "closed", doorEvents)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := LooplabCallbacks(def)
	if err != nil {
		t.Fatal(err)
	}
	if len(rebuilt.Transitions()) != len(def.Transitions()) || !strings.Contains(rebuilt.Dot(), "entry / chime") {
		t.Errorf("rebuilt machine:\n%s", rebuilt.Dot())
	}
}
