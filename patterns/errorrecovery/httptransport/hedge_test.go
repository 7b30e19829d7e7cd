package httptransport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/httptransport"
)

// slowFirst is a base RoundTripper whose first request waits for release
// (and, unless deaf, for its context), while later ones answer at once.
// Every response body it hands out reports its first Close on closed.
type slowFirst struct {
	n       atomic.Int32
	deaf    bool
	started chan int
	bodies  chan string // the request bodies received, in order of arrival
	release chan struct{}
	closed  chan int
}

func newSlowFirst() *slowFirst {
	return &slowFirst{started: make(chan int, 8), bodies: make(chan string, 8), release: make(chan struct{}), closed: make(chan int, 8)}
}

func (b *slowFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	n := int(b.n.Add(1))
	if req.Body != nil {
		data, _ := io.ReadAll(req.Body)
		req.Body.Close()
		b.bodies <- string(data)
	}
	b.started <- n
	if n == 1 {
		var done <-chan struct{}
		if !b.deaf {
			done = req.Context().Done()
		}
		select {
		case <-b.release:
		case <-done:
			return nil, req.Context().Err()
		}
	}
	body := &notifyBody{Reader: strings.NewReader(fmt.Sprint("answer ", n)), n: n, closed: b.closed}
	return &http.Response{StatusCode: http.StatusOK, Body: body, Request: req}, nil
}

type notifyBody struct {
	io.Reader
	n      int
	closed chan int
	once   atomic.Bool
}

func (b *notifyBody) Close() error {
	if b.once.CompareAndSwap(false, true) {
		b.closed <- b.n
	}
	return nil
}

func blockUntilWaiters(t *testing.T, clk *enginetest.Clock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, clk.BlockUntilWaiters(ctx, n))
}

func hedgedTransport(t *testing.T, clk *enginetest.Clock, base http.RoundTripper) *httptransport.Transport {
	wf := newWorkflow(t, config{Hedge: &er.HedgeConfig{Delay: 100 * time.Millisecond}, GlobalTimeout: time.Hour}, engine.WithClock(clk))
	return httptransport.New(wf, httptransport.WithBase(base))
}

func TestHedgedGetAnswersFromTheHedgeAndClosesTheLosersResponse(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	base := newSlowFirst()
	base.deaf = true // the first request answers late, after the hedge won
	rt := hedgedTransport(t, clk, base)
	done := make(chan outcome, 1)
	go func() {
		resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, "http://example.test/", nil))
		done <- outcome{resp, err}
	}()
	assert.Equal(t, 1, recv(t, base.started))
	blockUntilWaiters(t, clk, 1)
	clk.Advance(100 * time.Millisecond)
	assert.Equal(t, 2, recv(t, base.started))
	o := recv(t, done)
	require.NoError(t, o.err)
	assert.Equal(t, "answer 2", readBody(t, o.resp))
	assert.Equal(t, 2, recv(t, base.closed))
	close(base.release) // the loser's response comes after RoundTrip returned
	assert.Equal(t, 1, recv(t, base.closed), "the loser's response is closed")
	m := rt.Workflow().Metrics()
	assert.Equal(t, [2]int64{1, 1}, [2]int64{m.Hedges, m.HedgeWins})
}

func TestHedgedPutWithGetBodySendsTheBodyWithEachCopy(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	base := newSlowFirst()
	rt := hedgedTransport(t, clk, base)
	done := make(chan outcome, 1)
	go func() {
		resp, err := rt.RoundTrip(newRequest(t, http.MethodPut, "http://example.test/", strings.NewReader("payload")))
		done <- outcome{resp, err}
	}()
	assert.Equal(t, 1, recv(t, base.started))
	blockUntilWaiters(t, clk, 1)
	clk.Advance(100 * time.Millisecond)
	assert.Equal(t, 2, recv(t, base.started))
	o := recv(t, done)
	require.NoError(t, o.err)
	assert.Equal(t, "answer 2", readBody(t, o.resp))
	assert.Equal(t, [2]string{"payload", "payload"}, [2]string{recv(t, base.bodies), recv(t, base.bodies)})
}

func TestNonIdempotentRequestIsNotHedged(t *testing.T) {
	clk := enginetest.NewClock(time.Time{})
	base := newSlowFirst()
	rt := hedgedTransport(t, clk, base)
	done := make(chan outcome, 1)
	go func() {
		resp, err := rt.RoundTrip(newRequest(t, http.MethodPost, "http://example.test/", strings.NewReader("order")))
		done <- outcome{resp, err}
	}()
	assert.Equal(t, 1, recv(t, base.started))
	blockUntilWaiters(t, clk, 1) // the round, waiting for its deadline only
	clk.Advance(100 * time.Millisecond)
	blockUntilWaiters(t, clk, 1) // past the hedge's due time, still waiting
	assert.Empty(t, base.started, "no second copy of a POST")
	close(base.release)
	o := recv(t, done)
	require.NoError(t, o.err)
	assert.Equal(t, "answer 1", readBody(t, o.resp))
	assert.Equal(t, int64(0), rt.Workflow().Metrics().Hedges)
}
