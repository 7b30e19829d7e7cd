package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
)

// The example starts a server, its connections and 60 clients; all of
// them are gone when run returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runExample runs the example and returns its output and summaries. The
// timeout only turns a hang into a failure: the run waits on conditions.
func runExample(t *testing.T) (string, map[string]Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	sums, err := run(ctx, &out)
	require.NoError(t, err, "run:\n%s", out.String())
	return out.String(), sums
}

// TestBurstIsSortedExactlyByEachBulkhead checks each bulkhead's metrics
// once the burst is sorted: MaxConcurrent running, MaxQueueSize queued,
// the rest rejected.
func TestBurstIsSortedExactlyByEachBulkhead(t *testing.T) {
	_, sums := runExample(t)
	// Of 20 requests each: MaxConcurrent run, MaxQueueSize wait, and the
	// rest are rejected at once. Nothing has finished yet.
	want := map[string]bulkhead.Metrics{
		"compute":  {Active: 4, Queued: 4, Rejected: 12},
		"io":       {Active: 8, Queued: 8, Rejected: 4},
		"database": {Active: 2, Queued: 4, Rejected: 14},
	}
	for name, w := range want {
		if got := sums[name].Burst; got != w {
			t.Errorf("%s after the burst: got %+v, want %+v", name, got, w)
		}
	}
}

// TestEveryRequestIsAnsweredOrRejectedWith503 checks the end state: what
// the clients got, what the bulkheads counted, and that no dependency ever
// ran more calls than its slots.
func TestEveryRequestIsAnsweredOrRejectedWith503(t *testing.T) {
	_, sums := runExample(t)
	// The burst's 20 per endpoint, plus one more to compute and one to
	// the database while the database was stuck: compute admitted it, the
	// database rejected it.
	want := map[string]struct {
		final    bulkhead.Metrics
		statuses map[int]int
		peak     int
	}{
		"compute":  {bulkhead.Metrics{Completed: 9, Rejected: 12}, map[int]int{200: 9, 503: 12}, 4},
		"io":       {bulkhead.Metrics{Completed: 16, Rejected: 4}, map[int]int{200: 16, 503: 4}, 8},
		"database": {bulkhead.Metrics{Completed: 6, Rejected: 15}, map[int]int{200: 6, 503: 15}, 2},
	}
	for name, w := range want {
		s := sums[name]
		assert.Equal(t, w.final, s.Final, "%s at the end", name)
		assert.Equal(t, w.statuses, s.Statuses, "%s statuses", name)
		assert.Equal(t, w.peak, s.Peak, "%s: calls at once (its slots)", name)
	}
}

// TestOutputShowsTheCountsAndThatTheDatabaseDoesNotStarveTheOthers pins
// the printed tables and the lines showing that compute and io finish
// while the database is saturated.
func TestOutputShowsTheCountsAndThatTheDatabaseDoesNotStarveTheOthers(t *testing.T) {
	out, _ := runExample(t)
	// In this order, each on a line of its own (spacing aside).
	want := []string{
		"compute 4 4 5s",
		"io 8 8 10s",
		"database 2 4 30s",
		"compute 4 4 12 QueueFull",
		"io 8 8 4 QueueFull",
		"database 2 4 14 QueueFull",
		"/compute all 20 answered: 8 × 200 OK, 12 × 503 Service Unavailable",
		"/io all 20 answered: 16 × 200 OK, 4 × 503 Service Unavailable",
		"/database meanwhile still 2 running and 4 queued (QueueFull): its slowness stays in its own bulkhead",
		"GET /compute 200 OK: compute: done",
		"GET /database 503 Service Unavailable, Retry-After: 1: database is at capacity: every slot (2) is busy and the queue (4) is full; try again later",
		"/compute 21 9 12 9 12 4 (of 4 slots)",
		"/io 20 16 4 16 4 8 (of 8 slots)",
		"/database 21 6 15 6 15 2 (of 2 slots)",
	}
	var lines []string
	for line := range strings.Lines(out) {
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	at := 0
	for _, w := range want {
		i := slices.Index(lines[at:], w)
		if i < 0 {
			t.Fatalf("after line %d, the output lacks the line %q:\n%s", at, w, out)
		}
		at += i + 1
	}
}

// TestHandlerAnswers503WithRetryAfterAndAReasonWhenFull checks the handler
// on its own: a full bulkhead gives 503, Retry-After and a body that says
// why; a free one gives 200.
func TestHandlerAnswers503WithRetryAfterAndAReasonWhenFull(t *testing.T) {
	d, err := newDependency("database", bulkhead.Config{MaxConcurrent: 1, MaxQueueSize: bulkhead.NoQueue})
	require.NoError(t, err)
	defer d.bulkhead.Close(context.Background())
	// One call holds the only slot; there is no queue.
	held := make(chan error, 1)
	go func() { held <- d.bulkhead.Protect(t.Context(), d.call) }()
	require.NoError(t, d.sorted(t.Context(), 1))

	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/database", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("got %d, Retry-After %q; want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if got, want := strings.TrimSpace(rec.Body.String()), "database is at capacity: every slot (1) is busy and the queue (0) is full; try again later"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}

	d.answer()
	assert.NoError(t, <-held, "the held call")
	rec = httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/database", nil))
	assert.Equal(t, http.StatusOK, rec.Code, "with the slot free")
}

// TestRunStopsCleanlyWhenItsContextEnds checks that a run whose context
// ends returns the context's error and leaves nothing running.
func TestRunStopsCleanlyWhenItsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // no request gets through, so the burst is never sorted
	if _, err := run(ctx, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("run with an ended context: got %v, want context.Canceled", err)
	}
	// TestMain checks that nothing was left running.
}
