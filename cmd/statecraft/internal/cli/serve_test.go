package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/statecraft/statecraft/inspect"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// TestDemoServeShowsTheOutageAndStopsWhenCancelled runs "demo --serve"
// with a pace that runs the simulation at once up to minute 25 (inside the
// outage) and holds it there, reads the inspector it serves, then cancels
// the command's context: it stops cleanly, with every goroutine ended. No
// wall-clock time is waited on.
func TestDemoServeShowsTheOutageAndStopsWhenCancelled(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan struct{})
	var once sync.Once
	pace := func(ctx context.Context, elapsed time.Duration) error {
		if elapsed >= 25*time.Minute {
			once.Do(func() { close(held) })
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main([]string{"demo", "--serve", "127.0.0.1:0"}, Env{
			Stdout: &stdout, Stderr: &stderr, Context: ctx, Pace: pace,
			Listen: func(addr string) (net.Listener, error) { return ln, nil },
		})
	}()
	select {
	case <-held:
	case code := <-done:
		require.FailNow(t, "demo --serve ended before minute 25", "status %d: %s", code, stderr.String())
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	base := "http://" + ln.Addr().String()
	res, err := client.Get(base + "/api/view")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var v inspect.View
	require.NoError(t, json.Unmarshal(body, &v))

	names := func() []string {
		var ns []string
		for _, m := range v.Machines {
			ns = append(ns, m.Name)
		}
		return ns
	}
	require.Equal(t, []string{serveBreaker, serveBulkhead}, names())
	b := v.Machines[0]
	assert.True(t, b.Observed)
	i := slices.IndexFunc(b.Counters, func(c inspect.Counter) bool { return c.Name == "Opens" })
	require.GreaterOrEqual(t, i, 0, "the breaker's counters: %v", b.Counters)
	opens, err := strconv.Atoi(b.Counters[i].Value)
	require.NoError(t, err)
	assert.Positive(t, opens, "the breaker opened during the outage")
	visits := 0
	for _, n := range b.Visits {
		visits += n
	}
	assert.Positive(t, visits, "the breaker's edges are counted")
	assert.True(t, slices.ContainsFunc(b.Recent, func(s inspect.Step) bool { return s.To == breaker.StateOpen.String() }) ||
		b.State == breaker.StateOpen.String(), "the breaker's recent steps show it open")

	require.Len(t, v.Workflows, 1)
	w := v.Workflows[0]
	assert.Equal(t, serveWorkflow, w.Name)
	assert.Greater(t, w.Executions, uint64(1000), "25 minutes at one execution a second")
	require.NotEmpty(t, w.Recent)
	assert.NotEmpty(t, w.Recent[0].Path)

	res, err = client.Get(base + "/machine/" + serveBreaker)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	cancel()
	assert.Equal(t, ExitOK, <-done)
	assert.Contains(t, stdout.String(), "the inspector is at "+base+"/")
	assert.Contains(t, stdout.String(), "statecraft demo: stopped")
	assert.Empty(t, stderr.String())
}

// TestDemoServeRunsToTheEndAndHolds runs the whole simulated hour at once
// and checks that the command keeps serving until cancelled.
func TestDemoServeRunsToTheEndAndHolds(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	var mu sync.Mutex
	over := make(chan struct{})
	out := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if bytes.Contains(p, []byte("the simulation is over")) {
			close(over)
		}
		return stdout.Write(p)
	})
	done := make(chan int, 1)
	go func() {
		done <- Main([]string{"demo", "--serve", "127.0.0.1:0"}, Env{
			Stdout: out, Stderr: &stderr, Context: ctx,
			Pace:   func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
			Listen: func(string) (net.Listener, error) { return ln, nil },
		})
	}()
	select {
	case <-over:
	case code := <-done:
		require.FailNow(t, "demo --serve ended before being cancelled", "status %d: %s", code, stderr.String())
	}
	cancel()
	assert.Equal(t, ExitOK, <-done)
	assert.Empty(t, stderr.String())
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestDemoServeRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--serve", ":0", "--speed", "0"},
		{"demo", "--serve", ":0", "--speed", "-3"},
		{"demo", "--serve", ":0", "--dot", "x.dot"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(args, Env{Stdout: &stdout, Stderr: &stderr})
		assert.Equal(t, ExitUsage, code, "%v", args)
		assert.Contains(t, stderr.String(), "--serve takes a positive --speed", "%v", args)
	}
}
