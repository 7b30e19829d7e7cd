package breaker_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
)

// Tests of when the window's rules are judged: on every change of the
// window, whatever outcome caused it, so that State never reports Closed
// while the window says open (docs/circuit-breaker.md, "Rules and
// thresholds").

// windowKinds are the two kinds of window, as WindowDuration spells them.
var windowKinds = []struct {
	name     string
	duration time.Duration
}{
	{"count-only", breaker.CountOnly},
	{"60s window", 0},
}

// rateOnly is a config whose only rule is the failure rate: 50% of at
// least 4 calls.
func rateOnly(window time.Duration) breaker.Config {
	return breaker.Config{FailureThreshold: -1, FailureRateThreshold: 0.5, MinimumCalls: 4, WindowDuration: window}
}

// timedCall makes an admitted call that takes d on clk and ends with err.
func timedCall(t testing.TB, b *breaker.Breaker, clk *enginetest.Clock, d time.Duration, err error) {
	t.Helper()
	p, aerr := b.Allow()
	require.NoError(t, aerr, "call rejected")
	clk.Advance(d)
	p.Done(err)
}

func TestBreakerOpensWhenASuccessBringsTheWindowToMinimumCallsOverTheFailureRate(t *testing.T) {
	for _, k := range windowKinds {
		t.Run(k.name, func(t *testing.T) {
			b, _ := newBreaker(t, rateOnly(k.duration))
			record(t, b, 3, errBoom) // 100%, but 3 calls < 4
			wantState(t, b, breaker.StateClosed)
			record(t, b, 1, nil) // 4 calls, 3 failures: 75%
			wantState(t, b, breaker.StateOpen)

			// Inclusive: a success that leaves exactly the threshold opens.
			b, _ = newBreaker(t, rateOnly(k.duration))
			record(t, b, 1, nil)
			record(t, b, 2, errBoom)
			wantState(t, b, breaker.StateClosed)
			record(t, b, 1, nil) // 2 of 4 = 0.5
			wantState(t, b, breaker.StateOpen)
		})
	}
}

func TestBreakerOpensWhenASuccessBringsTheWindowToMinimumCallsOverTheSlowCallRate(t *testing.T) {
	for _, k := range windowKinds {
		t.Run(k.name, func(t *testing.T) {
			b, clk := newBreaker(t, breaker.Config{
				FailureThreshold: -1, MinimumCalls: 4, WindowDuration: k.duration,
				SlowCallDuration: 100 * time.Millisecond, SlowCallRateThreshold: 0.5,
			})
			timedCall(t, b, clk, time.Second, nil) // slow
			timedCall(t, b, clk, time.Second, nil) // slow
			timedCall(t, b, clk, 0, nil)           // 3 calls < 4
			wantState(t, b, breaker.StateClosed)
			timedCall(t, b, clk, 0, nil) // a quick success: 4 calls, 2 slow = 0.5
			wantState(t, b, breaker.StateOpen)
		})
	}
}

// With a window with a duration, the rates can rise without a failure:
// older successes age out. The next success is judged against the window
// as it is then.
func TestBreakerJudgesASuccessAfterOlderOutcomesAgeOut(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{
		FailureThreshold: -1, FailureRateThreshold: 0.5, WindowSize: 100, MinimumCalls: 5,
		WindowDuration: 60 * time.Second,
	})
	record(t, b, 10, nil)
	clk.Advance(30 * time.Second)
	record(t, b, 4, errBoom) // 4 of 14
	wantState(t, b, breaker.StateClosed)
	clk.Advance(31 * time.Second) // the ten successes age out
	record(t, b, 1, nil)          // 4 failures of 5: 80%
	wantState(t, b, breaker.StateOpen)
}

// The success that opens the breaker is a transition of its definition:
// Closed --success [failure rate ...]--> Open. A definition without that
// edge leaves the breaker closed, as the definition says.
func TestBreakerOpensOnASuccessThroughItsDefinition(t *testing.T) {
	const rateGuard = "failure rate >= failureRateThreshold after minimumCalls"
	rec := &enginetest.Recorder{}
	b, _ := newBreaker(t, rateOnly(breaker.CountOnly), engine.WithObserver(rec))
	record(t, b, 3, errBoom)
	record(t, b, 1, nil)
	last := rec.Records[len(rec.Records)-1]
	require.Equal(t, "success", last.Event, "last step %+v, want Closed --success [%s]--> Open", last, rateGuard)
	require.Equal(t, "Closed", last.From, "last step: from")
	require.Equal(t, "Open", last.To, "last step: to")
	require.NotEmpty(t, last.Guards, "last step: guards")
	require.Equal(t, rateGuard, last.Guards[0].Guard, "last step: guard")
	require.True(t, last.Guards[0].Held, "last step: want the guard held")

	def := rebuild(t, func(tr *breakerTransition) bool {
		return tr.From != breaker.StateClosed || tr.Event != breaker.EventSuccess || tr.Guard.Name() != rateGuard
	})
	b, _ = newBreaker(t, rateOnly(breaker.CountOnly), engine.WithDefinition(def))
	record(t, b, 3, errBoom)
	record(t, b, 1, nil)
	wantState(t, b, breaker.StateClosed) // no success edge for the rate rule
	record(t, b, 1, errBoom)             // the failure edge still has it
	wantState(t, b, breaker.StateOpen)
}

// The success path stays cheap: with a count-only window and a rate rule,
// only the success that brings the window to MinimumCalls is fired; every
// other one is recorded without the Instance (so leaves no record) and
// allocates nothing.
func TestBreakerFiresOnlyTheSuccessThatBringsTheCountWindowToMinimumCalls(t *testing.T) {
	cfg := countConfig()
	cfg.FailureRateThreshold = 0.5 // MinimumCalls: a full window, 10
	rec := &enginetest.Recorder{}
	b, _ := newBreaker(t, cfg, engine.WithObserver(rec))
	record(t, b, 25, nil)
	wantState(t, b, breaker.StateClosed)
	require.Len(t, rec.Records, 1, "records for 25 successes: want one: the 10th success, judged")
	require.Equal(t, "success", rec.Records[0].Event, "the record's event")
	require.Equal(t, "Closed", rec.Records[0].To, "the record's target state")
	testutil.WantAllocs(t, 0, "Allow+Done(nil) in Closed with a rate rule", func() {
		p, _ := b.Allow()
		p.Done(nil)
	})
	ctx := context.Background()
	testutil.WantAllocs(t, 0, "Protect success with a rate rule", func() {
		_ = b.Protect(ctx, func(context.Context) error { return nil })
	})
	timed := cfg
	timed.WindowDuration = time.Minute
	tb, _ := newBreaker(t, timed)
	testutil.WantAllocs(t, 0, "Allow+Done(nil) with a time window and a rate rule", func() {
		p, _ := tb.Allow()
		p.Done(nil)
	})
}

// rulesSayOpen reports whether, by the counts m reports, a rule of cfg (a
// resolved config) holds.
func rulesSayOpen(cfg breaker.Config, calls, failures, slows int) bool {
	rate := func(n int) float64 {
		if calls == 0 {
			return 0
		}
		return math.Min(float64(n)/float64(calls), 1)
	}
	switch {
	case cfg.FailureThreshold > 0 && failures >= cfg.FailureThreshold:
		return true
	case calls < cfg.MinimumCalls:
		return false
	case cfg.FailureRateThreshold > 0 && rate(failures) >= cfg.FailureRateThreshold:
		return true
	}
	return cfg.SlowCallRateThreshold > 0 && rate(slows) >= cfg.SlowCallRateThreshold
}

// ruleModel is a breaker with a count-only window as the guide describes
// it, the slow way: the window is the list of its last outcomes, and the
// rules are judged after every outcome recorded in Closed.
type ruleModel struct {
	cfg       breaker.Config // resolved
	state     breaker.State
	window    []modelOutcome
	successes int // in HalfOpen
}

type modelOutcome struct{ failure, slow bool }

func (m *ruleModel) counts() (calls, failures, slows int) {
	for _, o := range m.window {
		failures += boolInt(o.failure)
		slows += boolInt(o.slow)
	}
	return len(m.window), failures, slows
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// outcome applies an admitted call's outcome; ignored ones change nothing.
func (m *ruleModel) outcome(o modelOutcome, ignored bool) {
	if ignored {
		return
	}
	switch m.state {
	case breaker.StateClosed:
		m.window = append(m.window, o)
		if len(m.window) > m.cfg.WindowSize {
			m.window = m.window[1:]
		}
		if calls, failures, slows := m.counts(); rulesSayOpen(m.cfg, calls, failures, slows) {
			m.state = breaker.StateOpen
		}
	case breaker.StateHalfOpen:
		if o.failure || o.slow {
			m.state = breaker.StateOpen
			return
		}
		if m.successes++; m.successes >= m.cfg.SuccessThreshold {
			m.state, m.window = breaker.StateClosed, nil
		}
	}
}

// randomRules returns a config with random rules; window is its
// WindowDuration.
func randomRules(r *rand.Rand, window time.Duration) breaker.Config {
	rates := []float64{0.1, 0.25, 1.0 / 3, 0.5, 0.6, 2.0 / 3, 0.75, 1}
	size := 1 + r.IntN(12)
	cfg := breaker.Config{
		WindowSize: size, WindowDuration: window, MinimumCalls: 1 + r.IntN(size),
		FailureThreshold: -1, SuccessThreshold: 1 + r.IntN(3), OpenTimeout: time.Second,
	}
	if r.IntN(3) == 0 {
		cfg.FailureThreshold = 1 + r.IntN(size)
	}
	if r.IntN(4) != 0 {
		cfg.FailureRateThreshold = rates[r.IntN(len(rates))]
	}
	if r.IntN(2) == 0 {
		cfg.SlowCallDuration, cfg.SlowCallRateThreshold = 10*time.Millisecond, rates[r.IntN(len(rates))]
	}
	if cfg.FailureThreshold < 0 && cfg.FailureRateThreshold == 0 && cfg.SlowCallRateThreshold == 0 {
		cfg.FailureRateThreshold = rates[r.IntN(len(rates))]
	}
	return cfg
}

// A random call: how it ends and how long it takes.
type randomCall struct {
	err  error
	slow bool // takes 20ms, twice randomRules' SlowCallDuration
}

func (c randomCall) String() string {
	s := "ok"
	switch c.err {
	case errBoom:
		s = "fail"
	case context.Canceled:
		s = "cancel"
	}
	if c.slow {
		s += "(slow)"
	}
	return s
}

func drawCall(r *rand.Rand, pFail float64) randomCall {
	c := randomCall{slow: r.IntN(4) == 0}
	switch x := r.Float64(); {
	case x < 0.05:
		c.err = context.Canceled // ignored by DefaultClassify
	case x < 0.05+pFail*0.95:
		c.err = errBoom
	}
	return c
}

// Random sequences of outcomes (quick and slow, successes, failures,
// ignored ones, waits past the open timeout) on the manual clock, against
// random rules: after each one, State() is what the model says, and in
// Closed the window's counts are the model's. The model judges the rules
// after every outcome, so State() is never Closed while the window says
// open.
func TestBreakerStateAgreesWithItsWindowAfterEveryOutcome(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 16))
		rules := randomRules(r, breaker.CountOnly)
		cfg, err := rules.Resolve()
		require.NoError(t, err, "seed %d", seed)
		b, clk := newBreaker(t, cfg)
		m := &ruleModel{cfg: cfg}
		pFail := r.Float64()
		var history []string
		for step := range 300 {
			if r.IntN(8) == 0 { // a wait past the open timeout
				history = append(history, "wait")
				clk.Advance(cfg.OpenTimeout)
				if m.state == breaker.StateOpen {
					m.state, m.successes = breaker.StateHalfOpen, 0
				}
			} else {
				c := drawCall(r, pFail)
				history = append(history, c.String())
				p, aerr := b.Allow()
				if admitted := aerr == nil; admitted != (m.state != breaker.StateOpen) {
					t.Fatalf("seed %d step %d: Allow() = %v in model state %v\nconfig %+v\nhistory %s",
						seed, step, aerr, m.state, cfg, strings.Join(history, " "))
				}
				if aerr == nil {
					if c.slow {
						clk.Advance(2 * 10 * time.Millisecond)
					}
					p.Done(c.err)
					m.outcome(modelOutcome{failure: c.err == errBoom, slow: c.slow && cfg.SlowCallDuration > 0},
						c.err == context.Canceled)
				}
			}
			got := b.State()
			mt := b.Metrics()
			calls, failures, slows := m.counts()
			if got != m.state || (got == breaker.StateClosed &&
				(mt.Calls != calls || mt.Failures != failures || mt.SlowCalls != slows)) {
				t.Fatalf("seed %d step %d: State() = %v with %d calls, %d failures, %d slow; "+
					"the model says %v with %d, %d, %d\nconfig %+v\nhistory %s",
					seed, step, got, mt.Calls, mt.Failures, mt.SlowCalls, m.state, calls, failures, slows,
					cfg, strings.Join(history, " "))
			}
		}
	}
}

// The same with a window with a duration, where outcomes also age out
// between calls: after each outcome recorded in Closed, the breaker is
// open exactly when the window it reports says so.
func TestBreakerWithATimeWindowAgreesWithItsWindowAfterEveryOutcome(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 16))
		rules := randomRules(r, 10*time.Second)
		cfg, err := rules.Resolve()
		require.NoError(t, err, "seed %d", seed)
		b, clk := newBreaker(t, cfg)
		pFail := r.Float64()
		var history []string
		for step := range 300 {
			wait := time.Duration(r.IntN(3000)) * time.Millisecond
			clk.Advance(wait) // outcomes age out; an open breaker may go half-open
			c := drawCall(r, pFail)
			history = append(history, fmt.Sprintf("+%v %v", wait, c))
			before := b.State()
			p, aerr := b.Allow()
			if aerr != nil {
				continue
			}
			if c.slow {
				clk.Advance(2 * 10 * time.Millisecond)
			}
			p.Done(c.err)
			if before != breaker.StateClosed || c.err == context.Canceled {
				continue
			}
			mt := b.Metrics()
			says := rulesSayOpen(cfg, mt.Calls, mt.Failures, mt.SlowCalls)
			if open := mt.State == breaker.StateOpen; open != says {
				t.Fatalf("seed %d step %d: State() = %v, but the window (%d calls, %d failures, %d slow) says open: %v\nconfig %+v\nhistory %s",
					seed, step, mt.State, mt.Calls, mt.Failures, mt.SlowCalls, says, cfg, strings.Join(history, "; "))
			}
		}
	}
}
