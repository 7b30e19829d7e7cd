package inspect_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/states"
)

// epoch is the manual clocks' start: a fixed time, so that pages and JSON
// are the same on every run.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// lamp is a small machine of the tests: Off (initial) and On, flipped by
// "flip", and Broken (final) after "break" from either.
func lamp(t *testing.T) *fsm.Definition[string, string, struct{}] {
	t.Helper()
	b := fsm.New[string, string, struct{}]("lamp")
	b.State("Off", states.Initial)
	b.State("On", states.Normal)
	b.State("Broken", states.Final)
	b.On("Off", "flip", "On")
	b.On("On", "flip", "Off")
	b.On("Off", "break", "Broken")
	b.On("On", "break", "Broken")
	def, err := b.Build()
	require.NoError(t, err)
	return def
}

// newLamp registers a running lamp, observed, as "hall".
func newLamp(t *testing.T, in *inspect.Inspector, clock engine.Clock) *engine.Instance[string, string, struct{}] {
	t.Helper()
	i, err := engine.NewInstance(lamp(t), struct{}{}, engine.WithClock(clock), in.Observe("hall"))
	require.NoError(t, err)
	t.Cleanup(i.Close)
	require.NoError(t, inspect.AddMachine(in, "hall", i))
	return i
}

// newBreaker registers an observed breaker as "payments".
func newBreaker(t *testing.T, in *inspect.Inspector, clock engine.Clock) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(breaker.Config{FailureThreshold: 2}, engine.WithClock(clock), in.Observe("payments"))
	require.NoError(t, err)
	t.Cleanup(b.Close)
	require.NoError(t, inspect.AddMachine(in, "payments", b))
	return b
}

// fire fires e on i and requires it to be taken.
func fire(t *testing.T, i *engine.Instance[string, string, struct{}], e string) {
	t.Helper()
	_, err := i.Fire(context.Background(), e)
	require.NoError(t, err)
}

// manual returns a manual clock at epoch.
func manual() *enginetest.Clock { return enginetest.NewClock(epoch) }

// get serves path from h and returns the status, content type and body.
func get(t *testing.T, h http.Handler, path string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}
