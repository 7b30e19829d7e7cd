package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/cache"
)

// A workflow layers strategies around one function: here retries behind a
// circuit breaker, with a fallback price answering whatever still fails.
// Result says where each answer came from and how many calls it took.
func ExampleNewWorkflow() {
	clock := enginetest.NewClock(time.Time{})

	retry := er.DefaultRetryConfig[float64]()
	retry.MaxAttempts = 3
	retry.InitialDelay = 100 * time.Millisecond
	retry.Backoff = er.BackoffFixed
	bc := breaker.DefaultConfig()
	bc.FailureThreshold = 4
	bc.WindowDuration = breaker.CountOnly
	bc.OpenTimeout = time.Minute
	fallback := er.FallbackValue(9.99) // the list price

	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[float64]{
		Primary:   er.StrategyRetry,
		Secondary: []er.Strategy{er.StrategyCircuitBreaker, er.StrategyFallback},
		Retry:     &retry,
		Breaker:   &bc,
		Fallback:  &fallback,
	}, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Breaker().Close()

	down := false
	fetchPrice := func(context.Context) (float64, error) {
		if down {
			return 0, errors.New("503 service unavailable")
		}
		return 12.50, nil
	}
	// execute runs one call, advancing the clock whenever a backoff waits on it.
	execute := func() {
		ctx, cancel := context.WithCancel(context.Background())
		var r er.Result[float64]
		go func() {
			defer cancel()
			r, err = w.ExecuteResult(ctx, fetchPrice)
		}()
		for clock.BlockUntilWaiters(ctx, 1) == nil {
			clock.AdvanceToNext()
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%.2f from %v, attempts %d, breaker %v\n", r.Value, r.Source, r.Attempts, w.Breaker().State())
	}

	execute()
	down = true
	execute() // three failures: retries run out, the fallback answers
	execute() // the fourth failure opens the breaker, which stops the retries
	execute() // the open breaker rejects the call before it is made
	// Output:
	// 12.50 from function, attempts 1, breaker Closed
	// 9.99 from fallback value, attempts 3, breaker Closed
	// 9.99 from fallback value, attempts 1, breaker Open
	// 9.99 from fallback value, attempts 0, breaker Open
}

// With a read-through cache, Result tells a fresh answer from a cached one
// and gives the cached one's age; a stale entry answers only when the
// function fails.
func ExampleWorkflow_ExecuteResult() {
	clock := enginetest.NewClock(time.Time{})
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{Primary: er.StrategyCache, Cache: &cache.Config{TTL: time.Minute}}, engine.WithClock(clock))
	if err != nil {
		fmt.Println(err)
		return
	}

	forecast := "sunny"
	var fetchErr error
	fetchForecast := func(context.Context) (string, error) { return forecast, fetchErr }
	ctx := context.Background()
	for _, wait := range []time.Duration{0, 30 * time.Second, time.Minute} {
		clock.Advance(wait)
		if wait == time.Minute {
			fetchErr = errors.New("weather service down")
		}
		r, err := w.ExecuteResult(ctx, fetchForecast)
		fmt.Printf("%s from %v, age %v, attempts %d, err %v\n", r.Value, r.Source, r.Age, r.Attempts, err)
	}
	// Output:
	// sunny from function, age 0s, attempts 1, err <nil>
	// sunny from cache, age 30s, attempts 0, err <nil>
	// sunny from stale cache, age 1m30s, attempts 1, err <nil>
}

// NewRetry is shorthand for a workflow that only retries (the original's
// create_retry_workflow). Its machine holds only the states retrying needs.
func ExampleNewRetry_statesItNeeds() {
	w, err := er.NewRetry(er.RetryConfig[string]{MaxAttempts: 5, Backoff: er.BackoffExponential, InitialDelay: 200 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w.Definition().States())

	r, err := w.ExecuteResult(context.Background(), func(context.Context) (string, error) {
		return "order #1042 confirmed", nil
	})
	fmt.Println(r.Value, r.Source, r.Attempts, err)
	// Output:
	// [Start Executing Attempt Backoff Retry Done Exhausted Failed]
	// order #1042 confirmed function 1 <nil>
}

// NewBreakerWorkflow is shorthand for a breaker with a fallback value
// that answers the calls it rejects while open; the calls it lets through
// get their own errors.
func ExampleNewBreakerWorkflow() {
	w, err := er.NewBreakerWorkflow(3, time.Minute, "quote unavailable")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Breaker().Close() // stops the open timer: the workflow runs on the real clock

	calls := 0
	fetchQuote := func(context.Context) (string, error) {
		calls++
		return "", errors.New("connection refused")
	}
	for range 5 {
		r, err := w.ExecuteResult(context.Background(), fetchQuote)
		if err != nil {
			fmt.Println("error:", err, "| breaker", w.Breaker().State())
			continue
		}
		fmt.Println(r.Value, "from", r.Source, "| breaker", w.Breaker().State())
	}
	fmt.Println("calls made:", calls)
	// Output:
	// error: connection refused | breaker Closed
	// error: connection refused | breaker Closed
	// error: connection refused | breaker Open
	// quote unavailable from fallback value | breaker Open
	// quote unavailable from fallback value | breaker Open
	// calls made: 3
}

// Dot draws the workflow's per-call machine; only the layers that take part
// appear in it.
func ExampleWorkflow_Dot() {
	retry := er.DefaultRetryConfig[int]()
	fallback := er.FallbackValue(0)
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[int]{Retry: &retry, Fallback: &fallback})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(w.Dot())
	// Output:
	// digraph "workflow" {
	// 	rankdir=LR;
	// 	compound=true;
	// 	node [shape=box, style=rounded, fontname="Helvetica", fontsize=12];
	// 	edge [fontname="Helvetica", fontsize=10];
	// 	init [shape=point, width=0.15];
	// 	s0 [label="Start"];
	// 	subgraph cluster_s1 {
	// 		label="Executing";
	// 		style=rounded;
	// 		s1 [shape=point, width=0.1, label=""];
	// 		s2 [label="Attempt\nchoose / call function", shape=diamond];
	// 		s3 [label="Backoff"];
	// 		s4 [label="Retry\nchoose / may retry", shape=diamond];
	// 		s1 -> s2;
	// 	}
	// 	s5 [label="Fallback\nchoose / fall back", shape=diamond];
	// 	s6 [label="Done", shape=doublecircle];
	// 	s7 [label="Recovered", shape=doublecircle];
	// 	s8 [label="Failed\nentry / on failure", shape=doublecircle];
	// 	init -> s0;
	// 	s0 -> s2 [label="begin"];
	// 	s2 -> s6 [label="success"];
	// 	s2 -> s3 [label="retryable [attempts left && backoff ends before deadline] / on retry"];
	// 	s2 -> s5 [label="retryable / exhausted"];
	// 	s3 -> s4 [label="after backoff", style=dotted];
	// 	s4 -> s2 [label="retry"];
	// 	s4 -> s5 [label="permanent / failed"];
	// 	s1 -> s5 [ltail=cluster_s1, label="permanent / failed"];
	// 	s5 -> s7 [label="served"];
	// 	s5 -> s8 [label="unserved"];
	// }
}

// Diagram returns the per-call machine together with the shared machines
// it uses, as clusters, for fsm.WriteDot or fsm.WriteMermaid to draw.
func ExampleWorkflow_Diagram() {
	// A breaker and a bulkhead made apart can be shared by several workflows.
	br, err := breaker.New(breaker.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer br.Close()
	bh, err := bulkhead.New(bulkhead.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Primary:        er.StrategyRetry,
		SharedBreaker:  br,
		SharedBulkhead: bh,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	g, opts := w.Diagram(fsm.DiagramOptions{})
	var labels []string
	for _, st := range g.States {
		labels = append(labels, st.Label)
	}
	fmt.Println(labels)
	for _, c := range opts.Clusters {
		fmt.Printf("%s: %d states, used by %+v\n", c.Graph.Name, len(c.Graph.States), c.Uses)
	}
	// Output:
	// [Start Admit Executing CheckCircuit Attempt Backoff Retry Done Exhausted Failed]
	// bulkhead: 3 states, used by [{From:Admit To:Available Label:acquire / release}]
	// circuit breaker: 3 states, used by [{From:CheckCircuit To:Closed Label:allow / done}]
}

// Health judges a workflow on its recent executions, and OnAlert says when
// failures among them reach a threshold.
func ExampleWorkflow_Health() {
	retry := er.DefaultRetryConfig[string]()
	retry.MaxAttempts = 1
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{
		Retry:          &retry,
		HealthWindow:   10,
		AlertThreshold: 3,
		OnAlert:        func(failures int) { fmt.Println("alert:", failures, "recent failures") },
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	errDown := errors.New("inventory service down")
	for i := range 10 {
		w.Execute(context.Background(), func(context.Context) (string, error) {
			if i >= 6 {
				return "", errDown
			}
			return "in stock", nil
		})
	}
	h := w.Health()
	fmt.Printf("%v: %d of %d failed (%.0f%%)\n", h.Status, h.Failures, h.Samples, 100*h.ErrorRate)
	// Output:
	// alert: 3 recent failures
	// degraded: 4 of 10 failed (40%)
}

// Metrics counts what the callers saw (successes, fallbacks, failed) and
// what the dependency did (failures, calls, retries); Map gives them under
// the original library's keys, whose "failures" are the dependency's.
func ExampleWorkflow_Metrics() {
	retry := er.DefaultRetryConfig[string]()
	retry.InitialDelay = er.None // retry at once
	fallback := er.FallbackValue("try again later")
	w, err := er.NewWorkflow(er.ErrorRecoveryConfig[string]{Retry: &retry, Fallback: &fallback})
	if err != nil {
		fmt.Println(err)
		return
	}

	calls := 0
	lookupUser := func(context.Context) (string, error) {
		if calls++; calls <= 3 {
			return "", errors.New("timeout")
		}
		return "ada", nil
	}
	for range 3 {
		w.Execute(context.Background(), lookupUser)
	}
	m := w.Metrics()
	fmt.Printf("callers: %d executions, %d successes, %d fallbacks, %d failed\n", m.Executions, m.Successes, m.Fallbacks, m.Failed)
	fmt.Printf("dependency: %d failures, %d calls, %d retries\n", m.Failures, m.Calls, m.Retries)
	fmt.Println(m.Map())
	// Output:
	// callers: 3 executions, 2 successes, 1 fallbacks, 0 failed
	// dependency: 1 failures, 5 calls, 2 retries
	// map[attempt_timeouts:0 attempts:3 cache_hits:0 calls:5 compensations:0 compensations_failed:0 failed:0 failures:1 fallbacks:1 hedge_wins:0 hedges:0 keys:0 keys_closed:0 keys_create_failed:0 keys_created:0 keys_evicted_bound:0 keys_evicted_idle:0 max_time:0s rejections:0 retries:2 retries_refused:0 stale_served:0 successes:2 timeouts:0 total_time:0s]
}
