package httptransport_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/httptransport"
)

// get sends a GET to url through client and returns the status, or the
// error.
func get(t *testing.T, client *http.Client, url string) (int, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestPerKeyWorkflowKeysByHost(t *testing.T) {
	bad := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	good := newServer(t, failFirst(0))
	clk := enginetest.NewClock(time.Unix(0, 0))
	wf := newWorkflow(t, config{
		Primary: er.StrategyCircuitBreaker, Breaker: breaking(2),
		PerKey: &er.PerKeyConfig{KeyName: "host"},
	}, engine.WithClock(clk))
	client := &http.Client{Transport: httptransport.New(wf, httptransport.WithBase(newTracker(t)))}

	for range 2 {
		code, err := get(t, client, bad.URL)
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, code)
	}
	_, err := get(t, client, bad.URL+"/other")
	assert.ErrorIs(t, err, breaker.ErrOpen, "the bad host's breaker opened")
	assert.Equal(t, 2, bad.hits(), "no request sent while open")
	for range 3 {
		code, err := get(t, client, good.URL)
		require.NoError(t, err, "the good host has a breaker of its own")
		assert.Equal(t, http.StatusOK, code)
	}
	hs := wf.HealthByKey()
	require.Len(t, hs, 2)
	assert.Equal(t, breaker.StateOpen, hs[strings.TrimPrefix(bad.URL, "http://")].Breaker)
	assert.Equal(t, breaker.StateClosed, hs[strings.TrimPrefix(good.URL, "http://")].Breaker)
}

func TestPerKeyWorkflowWithKeyChoosesTheKey(t *testing.T) {
	s := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/broken") {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	clk := enginetest.NewClock(time.Unix(0, 0))
	wf := newWorkflow(t, config{
		Primary: er.StrategyCircuitBreaker, Breaker: breaking(1),
		PerKey: &er.PerKeyConfig{KeyName: "endpoint"},
	}, engine.WithClock(clk))
	byPath := func(req *http.Request) string { return strings.SplitN(req.URL.Path, "/", 3)[1] }
	client := &http.Client{Transport: httptransport.New(wf, httptransport.WithBase(newTracker(t)), httptransport.WithKey(byPath))}

	code, err := get(t, client, s.URL+"/broken/1")
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, code)
	_, err = get(t, client, s.URL+"/broken/2")
	assert.ErrorIs(t, err, breaker.ErrOpen)
	code, err = get(t, client, s.URL+"/fine/1")
	assert.NoError(t, err, "same host, another key")
	assert.Equal(t, http.StatusOK, code)
	assert.ElementsMatch(t, []string{"broken", "fine"}, keys(wf.HealthByKey()))
}

func TestHostIsTheURLsHostOrTheRequestsHost(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "https://api.example:8443/x", nil)
	require.NoError(t, err)
	assert.Equal(t, "api.example:8443", httptransport.Host(req))
	req.URL.Host, req.Host = "", "fallback.example"
	assert.Equal(t, "fallback.example", httptransport.Host(req))
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
