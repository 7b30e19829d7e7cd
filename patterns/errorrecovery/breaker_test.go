package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/internal/testutil"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/transitions"
)

func TestBreakerOpensWhenFailuresInWindowReachThreshold(t *testing.T) {
	b, _ := newBreaker(t, countConfig()) // 5 failures among the last 10
	record(t, b, 4, errBoom)
	wantState(t, b, er.BreakerClosed)
	record(t, b, 1, errBoom) // the 5th: inclusive
	wantState(t, b, er.BreakerOpen)
	if m := b.Metrics(); m.Opens != 1 || m.Failures != 5 || m.Calls != 5 {
		t.Fatalf("Metrics() = %+v, want 1 open, 5 failures in 5 calls", m)
	}
}

func TestBreakerWindowForgetsOutcomesPushedOutByNewerOnes(t *testing.T) {
	b, _ := newBreaker(t, countConfig())
	record(t, b, 4, errBoom)
	record(t, b, 10, nil) // the 4 failures leave the 10-outcome window
	if m := b.Metrics(); m.Failures != 0 || m.Calls != 10 {
		t.Fatalf("Metrics() = %+v, want 0 failures in 10 calls", m)
	}
	record(t, b, 4, errBoom)
	wantState(t, b, er.BreakerClosed)
	record(t, b, 1, errBoom)
	wantState(t, b, er.BreakerOpen)
}

func TestBreakerOpensOnFailureRateOnlyAfterMinimumCalls(t *testing.T) {
	cfg := countConfig()
	cfg.FailureThreshold = -1 // rate rule only
	cfg.FailureRateThreshold = 0.5
	cfg.MinimumCalls = 4
	b, _ := newBreaker(t, cfg)
	record(t, b, 2, errBoom) // 100%, but 2 calls < 4
	wantState(t, b, er.BreakerClosed)
	record(t, b, 1, nil)
	record(t, b, 1, errBoom) // 4 calls, 3 failures: 75%
	wantState(t, b, er.BreakerOpen)

	// Inclusive: exactly the threshold opens.
	b, _ = newBreaker(t, cfg)
	record(t, b, 2, nil)
	record(t, b, 1, errBoom)
	wantState(t, b, er.BreakerClosed)
	record(t, b, 1, errBoom) // 2 of 4 = 0.5
	wantState(t, b, er.BreakerOpen)
}

// A success never opens the breaker on the failure rules, even when it
// brings the window to MinimumCalls while the rate is over the threshold:
// the rules are checked when a failure is recorded (docs/circuit-breaker.md).
func TestBreakerChecksFailureRulesOnFailures(t *testing.T) {
	cfg := countConfig()
	cfg.FailureThreshold = -1
	cfg.FailureRateThreshold = 0.5
	cfg.MinimumCalls = 4
	b, _ := newBreaker(t, cfg)
	record(t, b, 3, errBoom)
	record(t, b, 1, nil) // 4 calls, 75%: no check on a success
	wantState(t, b, er.BreakerClosed)
	record(t, b, 1, errBoom)
	wantState(t, b, er.BreakerOpen)
}

func TestBreakerOpensOnSlowCallRate(t *testing.T) {
	cfg := countConfig()
	cfg.FailureThreshold = -1
	cfg.SlowCallDuration = 100 * time.Millisecond
	cfg.SlowCallRateThreshold = 0.5
	cfg.MinimumCalls = 4
	b, clk := newBreaker(t, cfg)
	slowCall := func(d time.Duration) {
		t.Helper()
		p, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(d)
		p.Done(nil)
	}
	slowCall(100 * time.Millisecond) // exactly the limit: not slow
	slowCall(0)
	slowCall(101 * time.Millisecond) // slow
	wantState(t, b, er.BreakerClosed)
	if m := b.Metrics(); m.SlowCalls != 1 || m.Calls != 3 {
		t.Fatalf("Metrics() = %+v, want 1 slow call in 3", m)
	}
	slowCall(time.Second) // 4 calls, 2 slow: 0.5
	wantState(t, b, er.BreakerOpen)
	if m := b.Metrics(); m.SlowCallRate != 0.5 || m.FailureRate != 0 {
		t.Fatalf("Metrics() = %+v, want slow-call rate 0.5, failure rate 0", m)
	}
}

func TestBreakerTimeWindowDropsOutcomesOlderThanItsDuration(t *testing.T) {
	cfg := er.DefaultCircuitBreakerConfig() // 5 failures in 10 outcomes of 60 s
	t.Run("expired", func(t *testing.T) {
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(60 * time.Second)
		if m := b.Metrics(); m.Calls != 0 || m.Failures != 0 {
			t.Fatalf("after 60s Metrics() = %+v, want an empty window", m)
		}
		record(t, b, 4, errBoom)
		wantState(t, b, er.BreakerClosed)
		record(t, b, 1, errBoom)
		wantState(t, b, er.BreakerOpen)
	})
	t.Run("not yet", func(t *testing.T) {
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(60*time.Second - time.Nanosecond)
		record(t, b, 1, errBoom)
		wantState(t, b, er.BreakerOpen)
	})
	t.Run("count still applies", func(t *testing.T) {
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(time.Second)
		record(t, b, 10, nil)
		if m := b.Metrics(); m.Calls != 10 || m.Failures != 0 {
			t.Fatalf("Metrics() = %+v, want 10 calls, no failure", m)
		}
	})
}

func TestBreakerGoesHalfOpenTheInstantTheOpenTimeoutPasses(t *testing.T) {
	cfg := countConfig()
	cfg.OpenTimeout = 30 * time.Second
	b, clk := openBreaker(t, cfg)
	oe := wantRejected(t, b)
	if got := oe.RetryAfter(); got != 30*time.Second {
		t.Fatalf("RetryAfter() = %v, want 30s", got)
	}
	clk.Advance(30*time.Second - time.Nanosecond)
	wantState(t, b, er.BreakerOpen)
	if got := wantRejected(t, b).RetryAfter(); got != time.Nanosecond {
		t.Fatalf("RetryAfter() = %v, want 1ns", got)
	}
	clk.Advance(time.Nanosecond)
	wantState(t, b, er.BreakerHalfOpen)
	p, err := b.Allow()
	if err != nil {
		t.Fatalf("Allow() in half-open = %v", err)
	}
	p.Done(nil)
	if oe.RetryAfter() != 0 {
		t.Fatalf("RetryAfter() after the timeout = %v, want 0", oe.RetryAfter())
	}
}

func TestBreakerClosesAfterSuccessThresholdAndResetsWindow(t *testing.T) {
	b, clk := openBreaker(t, countConfig())
	clk.Advance(time.Minute)
	wantState(t, b, er.BreakerHalfOpen)
	record(t, b, 1, nil)
	wantState(t, b, er.BreakerHalfOpen)
	if m := b.Metrics(); m.HalfOpenSuccesses != 1 {
		t.Fatalf("Metrics() = %+v, want 1 half-open success", m)
	}
	record(t, b, 1, nil)
	wantState(t, b, er.BreakerClosed)
	if m := b.Metrics(); m.Calls != 0 || m.Failures != 0 {
		t.Fatalf("Metrics() after closing = %+v, want an empty window", m)
	}
	record(t, b, 4, errBoom) // a fresh window: 4 failures are not enough
	wantState(t, b, er.BreakerClosed)
}

func TestBreakerReopensOnHalfOpenFailureWithGrowingTimeout(t *testing.T) {
	cfg := countConfig()
	cfg.OpenTimeout = 10 * time.Second
	cfg.OpenTimeoutMultiplier = 2
	cfg.MaxOpenTimeout = 25 * time.Second
	b, clk := openBreaker(t, cfg)
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second} {
		if got := b.Metrics().OpenTimeout; got != want {
			t.Fatalf("OpenTimeout = %v, want %v", got, want)
		}
		if got := wantRejected(t, b).RetryAfter(); got != want {
			t.Fatalf("RetryAfter() = %v, want %v", got, want)
		}
		clk.Advance(want - time.Nanosecond)
		wantState(t, b, er.BreakerOpen)
		clk.Advance(time.Nanosecond)
		wantState(t, b, er.BreakerHalfOpen)
		record(t, b, 1, errBoom) // the trial fails: open again, timer restarted
		wantState(t, b, er.BreakerOpen)
	}
	// Closing resets the growth.
	clk.Advance(25 * time.Second)
	record(t, b, 2, nil)
	wantState(t, b, er.BreakerClosed)
	record(t, b, 5, errBoom)
	if got := b.Metrics().OpenTimeout; got != 10*time.Second {
		t.Fatalf("OpenTimeout after a close = %v, want 10s", got)
	}
}

func TestBreakerBoundsConcurrentHalfOpenTrials(t *testing.T) {
	cfg := countConfig()
	cfg.SuccessThreshold = 3
	cfg.HalfOpenMaxCalls = 2
	b, clk := openBreaker(t, cfg)
	clk.Advance(time.Minute)
	p1, err1 := b.Allow()
	p2, err2 := b.Allow()
	if err1 != nil || err2 != nil {
		t.Fatalf("first two trials rejected: %v, %v", err1, err2)
	}
	_, err := b.Allow()
	oe, ok := errors.AsType[*er.OpenError](err)
	if !ok || !oe.HalfOpen() || !errors.Is(err, er.ErrTooManyTrials) || !errors.Is(err, er.ErrCircuitOpen) {
		t.Fatalf("third trial: %v, want a half-open *OpenError matching ErrTooManyTrials and ErrCircuitOpen", err)
	}
	if m := b.Metrics(); m.TrialsInFlight != 2 || m.Rejections != 1 {
		t.Fatalf("Metrics() = %+v, want 2 trials in flight, 1 rejection", m)
	}
	p1.Done(nil) // frees a slot
	p3, err := b.Allow()
	if err != nil {
		t.Fatalf("trial after a slot was freed: %v", err)
	}
	p2.Done(nil)
	p3.Done(nil) // third success in a row
	wantState(t, b, er.BreakerClosed)
}

func TestBreakerIgnoresOutcomesOfAnEarlierGeneration(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		b, _ := newBreaker(t, countConfig())
		stale, _ := b.Allow()
		b.ForceOpen()
		b.ForceClosed()
		gen := b.Metrics().Generation
		stale.Done(errBoom)
		if m := b.Metrics(); m.Failures != 0 || m.Calls != 0 || m.Generation != gen {
			t.Fatalf("a stale failure was recorded: %+v", m)
		}
		stale2, _ := b.Allow()
		b.Reset()
		stale2.Done(nil)
		if m := b.Metrics(); m.Calls != 0 {
			t.Fatalf("a stale success was recorded: %+v", m)
		}
	})
	t.Run("half-open", func(t *testing.T) {
		cfg := countConfig()
		cfg.HalfOpenMaxCalls = 1
		b, clk := openBreaker(t, cfg)
		clk.Advance(time.Minute)
		stale, _ := b.Allow() // the one trial of this half-open period
		b.ForceOpen()
		clk.Advance(2 * time.Minute) // half-open again, a new period
		wantState(t, b, er.BreakerHalfOpen)
		fresh, err := b.Allow()
		if err != nil {
			t.Fatalf("the new period's trial was rejected: %v", err)
		}
		stale.Done(errBoom) // would reopen the breaker, were it not stale
		wantState(t, b, er.BreakerHalfOpen)
		// Nor did it free the new period's only slot.
		if _, err := b.Allow(); !errors.Is(err, er.ErrTooManyTrials) {
			t.Fatalf("Allow() = %v, want ErrTooManyTrials", err)
		}
		fresh.Done(nil)
	})
}

func TestBreakerManualControl(t *testing.T) {
	b, clk := newBreaker(t, countConfig())
	b.ForceOpen()
	wantState(t, b, er.BreakerOpen)
	wantRejected(t, b)
	b.ForceOpen() // from Open: a new episode, its timer restarted (and grown)
	wantState(t, b, er.BreakerOpen)
	b.ForceClosed()
	wantState(t, b, er.BreakerClosed)
	b.ForceClosed() // already closed: nothing
	wantState(t, b, er.BreakerClosed)
	record(t, b, 1, nil)

	b.ForceOpen() // an ordinary open episode: it times out
	clk.Advance(time.Minute)
	wantState(t, b, er.BreakerHalfOpen)
	b.ForceClosed()
	wantState(t, b, er.BreakerClosed)

	record(t, b, 5, errBoom)
	wantRejected(t, b)
	if m := b.Metrics(); m.Opens != 4 || m.Rejections != 2 {
		t.Fatalf("Metrics() = %+v, want 4 opens and 2 rejections", m)
	}
	b.Reset()
	wantState(t, b, er.BreakerClosed)
	if m := b.Metrics(); m.Opens != 0 || m.Rejections != 0 || m.Calls != 0 {
		t.Fatalf("Metrics() after Reset = %+v, want zero counts", m)
	}
}

func TestBreakerCallbacksRunInTransitionOrderOutsideTheLock(t *testing.T) {
	var got []string
	var b *er.Breaker
	note := func(name string) func(from, to er.BreakerState) {
		return func(from, to er.BreakerState) {
			// Reading the breaker from a callback must not deadlock, and
			// sees the state just entered.
			// (Finishing a permit here, or ForceOpen, would deadlock: a
			// callback must not change the breaker's state.)
			m := b.Metrics()
			got = append(got, fmt.Sprintf("%s(%v->%v) state=%v", name, from, to, m.State))
			if to == er.BreakerOpen {
				if _, err := b.Allow(); err == nil {
					t.Errorf("%s: Allow() admitted a call in Open", name)
				}
			}
		}
	}
	cfg := countConfig()
	cfg.SuccessThreshold = 1
	cfg.OnOpen, cfg.OnClose, cfg.OnHalfOpen = note("open"), note("close"), note("halfopen")
	b, clk := newBreaker(t, cfg)
	record(t, b, 5, errBoom)
	clk.Advance(time.Minute)
	record(t, b, 1, errBoom)
	clk.Advance(time.Minute)
	record(t, b, 1, nil)
	b.ForceOpen()
	b.ForceOpen() // Open -> Open: no change of state, no callback
	b.Reset()
	b.Reset() // Closed -> Closed: no callback
	want := []string{
		"open(Closed->Open) state=Open",
		"halfopen(Open->HalfOpen) state=HalfOpen",
		"open(HalfOpen->Open) state=Open",
		"halfopen(Open->HalfOpen) state=HalfOpen",
		"close(HalfOpen->Closed) state=Closed",
		"open(Closed->Open) state=Open",
		"close(Open->Closed) state=Closed",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("callbacks:\n got %q\nwant %q", got, want)
	}
}

type panicValue struct{ msg string }

func TestBreakerCallRecordsPanicsReleasesTheTrialAndPanicsAgain(t *testing.T) {
	call := func(b *er.Breaker, v any) (recovered any) {
		defer func() { recovered = recover() }()
		_ = b.Call(context.Background(), func(context.Context) error { panic(v) })
		return nil
	}
	t.Run("closed", func(t *testing.T) {
		cfg := countConfig()
		cfg.Classify = func(error) er.Outcome { return er.OutcomeIgnore } // a panic is a failure all the same
		b, _ := newBreaker(t, cfg)
		v := &panicValue{"boom"}
		if got := call(b, v); got != v {
			t.Fatalf("recovered %v, want the original value", got)
		}
		if m := b.Metrics(); m.Failures != 1 {
			t.Fatalf("Metrics() = %+v, want the panic counted as a failure", m)
		}
	})
	t.Run("half-open", func(t *testing.T) {
		cfg := countConfig()
		cfg.HalfOpenMaxCalls = 1
		b, clk := openBreaker(t, cfg)
		clk.Advance(time.Minute)
		v := &panicValue{"trial"}
		if got := call(b, v); got != v {
			t.Fatalf("recovered %v, want the original value", got)
		}
		wantState(t, b, er.BreakerOpen) // the failed trial reopened it
		clk.Advance(2 * time.Minute)
		wantState(t, b, er.BreakerHalfOpen)
		if err := b.Call(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatalf("the trial slot was not released: %v", err)
		}
	})
}

func TestBreakerCallRejectsWithoutRunningAndReturnsTheFunctionsError(t *testing.T) {
	b, _ := openBreaker(t, countConfig())
	ran := false
	err := b.Call(context.Background(), func(context.Context) error { ran = true; return nil })
	if ran || !errors.Is(err, er.ErrCircuitOpen) {
		t.Fatalf("Call on an open breaker: ran=%v err=%v", ran, err)
	}
	b.Reset()
	if err := b.Call(context.Background(), func(context.Context) error { return errBoom }); err != errBoom {
		t.Fatalf("Call() = %v, want the function's own error", err)
	}
}

func TestBreakerClassification(t *testing.T) {
	b, _ := newBreaker(t, countConfig())
	record(t, b, 3, context.Canceled)                            // the caller gave up: ignored
	record(t, b, 1, fmt.Errorf("wrapped: %w", context.Canceled)) // ignored too
	record(t, b, 1, context.DeadlineExceeded)                    // too slow: a failure
	if m := b.Metrics(); m.Calls != 1 || m.Failures != 1 {
		t.Fatalf("Metrics() = %+v, want only the deadline counted, as a failure", m)
	}

	errFine := errors.New("not found, which is fine")
	cfg := countConfig()
	cfg.Classify = func(err error) er.Outcome {
		if errors.Is(err, errFine) {
			return er.OutcomeSuccess
		}
		return 0 // unknown: a failure
	}
	b, _ = newBreaker(t, cfg)
	record(t, b, 2, errFine)
	record(t, b, 1, errBoom)
	if m := b.Metrics(); m.Calls != 3 || m.Failures != 1 {
		t.Fatalf("Metrics() = %+v, want 3 calls, 1 failure", m)
	}
}

func TestBreakerOpenErrorIsMadeOncePerEpisode(t *testing.T) {
	b, clk := openBreaker(t, countConfig())
	first := wantRejected(t, b)
	if again := wantRejected(t, b); again != first {
		t.Fatal("two rejections of one open episode returned different errors")
	}
	clk.Advance(time.Minute)
	record(t, b, 1, errBoom) // reopen: a new episode
	if next := wantRejected(t, b); next == first {
		t.Fatal("a new open episode reused the last episode's error")
	}
}

func TestBreakerStepsAreTransitionsOfItsDefinition(t *testing.T) {
	rec := &enginetest.Recorder{}
	b, clk := newBreaker(t, countConfig(), er.WithBreakerObserver(rec))
	if b.Definition() != er.BreakerDefinition() {
		t.Fatal("Definition() is not the default definition")
	}
	record(t, b, 5, errBoom)
	clk.Advance(time.Minute)
	record(t, b, 2, nil)
	enginetest.AssertPath(t, rec,
		"Closed", "Closed", "Closed", "Closed", "Closed", // four failures below the threshold (internal)
		"Open", "HalfOpen", "HalfOpen", "Closed")
	last := rec.Records[len(rec.Records)-1]
	if len(last.Guards) != 1 || last.Guards[0].Guard != "successes >= successThreshold" || !last.Guards[0].Held {
		t.Fatalf("last step's guards = %+v", last.Guards)
	}
}

// rebuild returns a copy of def with edit applied to each transition spec;
// edit returns false to drop one.
func rebuild(t *testing.T, edit func(*breakerTransition) bool) *breakerDef {
	t.Helper()
	def := er.BreakerDefinition()
	b := newBreakerBuilder()
	for _, s := range def.StateSpecs() {
		*b.State(s.ID, s.Kind) = s
	}
	for _, tr := range def.Transitions() {
		if !edit(&tr) {
			continue
		}
		if tr.Delayed {
			*b.AfterFunc(tr.From, tr.AfterName, tr.AfterFn, tr.To) = tr
		} else {
			*b.On(tr.From, tr.Event, tr.To) = tr
		}
	}
	v, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBreakerBehaviourFollowsItsDefinition(t *testing.T) {
	t.Run("without the failure-count edge it never opens on count", func(t *testing.T) {
		def := rebuild(t, func(tr *breakerTransition) bool {
			return tr.Guard.Name() != "failures >= failureThreshold"
		})
		b, _ := newBreaker(t, countConfig(), er.WithBreakerDefinition(def))
		record(t, b, 20, errBoom)
		wantState(t, b, er.BreakerClosed)
	})
	t.Run("a half-open failure that leads to Closed closes it", func(t *testing.T) {
		def := rebuild(t, func(tr *breakerTransition) bool {
			if tr.From == er.BreakerHalfOpen && tr.Event == er.BreakerFailure && !tr.Delayed {
				tr.To = er.BreakerClosed
			}
			return true
		})
		b, clk := openBreaker(t, countConfig(), er.WithBreakerDefinition(def))
		clk.Advance(time.Minute)
		record(t, b, 1, errBoom)
		wantState(t, b, er.BreakerClosed)
	})
	t.Run("an unguarded success edge to Open opens on a success", func(t *testing.T) {
		def := rebuild(t, func(tr *breakerTransition) bool {
			if tr.From == er.BreakerClosed && tr.Event == er.BreakerSuccess && !tr.Delayed {
				if tr.Internal {
					return false
				}
				tr.Guard = breakerGuard{} // the slow-call edge, unguarded
			}
			return true
		})
		b, _ := newBreaker(t, countConfig(), er.WithBreakerDefinition(def))
		record(t, b, 1, nil) // the lock-free path is off for this definition
		wantState(t, b, er.BreakerOpen)
	})
}

func TestBreakerRecognisesItsSlowCallGuardByIdentity(t *testing.T) {
	// A success in Closed that the definition would ignore is not fired,
	// and so leaves no record; a success that is fired leaves one.
	closedSuccessRecords := func(t *testing.T, def *breakerDef) int {
		t.Helper()
		rec := &enginetest.Recorder{}
		b, _ := newBreaker(t, countConfig(), er.WithBreakerDefinition(def), er.WithBreakerObserver(rec))
		record(t, b, 3, nil)
		wantState(t, b, er.BreakerClosed)
		return len(rec.Records)
	}
	t.Run("a variant rebuilt from the default's specs skips the machine", func(t *testing.T) {
		def := rebuild(t, func(*breakerTransition) bool { return true })
		if n := closedSuccessRecords(t, def); n != 0 {
			t.Errorf("%d records for 3 successes in Closed, want 0", n)
		}
	})
	t.Run("a variant built from BreakerDefinitionBuilder skips the machine", func(t *testing.T) {
		if n := closedSuccessRecords(t, er.BreakerDefinitionBuilder().MustBuild()); n != 0 {
			t.Errorf("%d records for 3 successes in Closed, want 0", n)
		}
	})
	t.Run("another guard under the slow-call guard's name is fired", func(t *testing.T) {
		renamed := 0
		def := rebuild(t, func(tr *breakerTransition) bool {
			if tr.From == er.BreakerClosed && tr.Event == er.BreakerSuccess && !tr.Guard.IsZero() {
				tr.Guard = transitions.If(tr.Guard.Name(), func(er.BreakerMachine) bool { return false })
				renamed++
			}
			return true
		})
		if renamed != 1 {
			t.Fatalf("replaced %d guards on Closed/success, want 1", renamed)
		}
		if n := closedSuccessRecords(t, def); n != 3 {
			t.Errorf("%d records for 3 successes in Closed, want 3: the guard is not the breaker's", n)
		}
	})
}

func TestBreakerAllocatesNothingOnItsHotPaths(t *testing.T) {
	b, _ := newBreaker(t, countConfig())
	testutil.WantAllocs(t, 0, "Allow+Done(nil) in Closed", func() {
		p, _ := b.Allow()
		p.Done(nil)
	})
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	testutil.WantAllocs(t, 0, "Call success", func() { _ = b.Call(ctx, ok) })
	cfg := countConfig()
	cfg.FailureThreshold = 2
	cfg.WindowSize = 2
	fb, _ := newBreaker(t, cfg)
	testutil.WantAllocs(t, 0, "failure below the threshold", func() {
		p, _ := fb.Allow()
		p.Done(errBoom)
		p, _ = fb.Allow()
		p.Done(nil)
	})
	b.ForceOpen()
	testutil.WantAllocs(t, 0, "rejection in Open", func() { _, _ = b.Allow() })
	testutil.WantAllocs(t, 0, "Call rejected", func() { _ = b.Call(ctx, ok) })
}

func TestBreakerRunsOnTheRealClockInsideSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := countConfig()
		cfg.OpenTimeout = time.Second
		b, err := er.NewCircuitBreaker(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		b.ForceOpen()
		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		wantState(t, b, er.BreakerOpen)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		wantState(t, b, er.BreakerHalfOpen)
	})
}

func TestCircuitBreakerConfigRefusesInvalidValuesNamingTheField(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*er.CircuitBreakerConfig)
	}{
		{"WindowSize", func(c *er.CircuitBreakerConfig) { c.WindowSize = -1 }},
		{"WindowSize", func(c *er.CircuitBreakerConfig) { c.WindowSize = 1<<20 + 1 }},
		{"FailureThreshold", func(c *er.CircuitBreakerConfig) { c.FailureThreshold = 11 }},
		{"FailureThreshold", func(c *er.CircuitBreakerConfig) { c.FailureThreshold = -1 }}, // no rule left
		{"SuccessThreshold", func(c *er.CircuitBreakerConfig) { c.SuccessThreshold = -1 }},
		{"OpenTimeout", func(c *er.CircuitBreakerConfig) { c.OpenTimeout = -time.Second }},
		{"OpenTimeoutMultiplier", func(c *er.CircuitBreakerConfig) { c.OpenTimeoutMultiplier = 0.5 }},
		{"OpenTimeoutMultiplier", func(c *er.CircuitBreakerConfig) { c.OpenTimeoutMultiplier = math.NaN() }},
		{"MaxOpenTimeout", func(c *er.CircuitBreakerConfig) { c.MaxOpenTimeout = time.Second }},
		{"MaxOpenTimeout", func(c *er.CircuitBreakerConfig) { c.MaxOpenTimeout = -1 }},
		{"WindowDuration", func(c *er.CircuitBreakerConfig) { c.WindowDuration = -1 }},
		{"FailureRateThreshold", func(c *er.CircuitBreakerConfig) { c.FailureRateThreshold = 1.5 }},
		{"FailureRateThreshold", func(c *er.CircuitBreakerConfig) { c.FailureRateThreshold = math.NaN() }},
		{"MinimumCalls", func(c *er.CircuitBreakerConfig) { c.MinimumCalls = 11 }},
		{"MinimumCalls", func(c *er.CircuitBreakerConfig) { c.MinimumCalls = -1 }},
		{"SlowCallDuration", func(c *er.CircuitBreakerConfig) { c.SlowCallDuration = -1 }},
		{"SlowCallDuration", func(c *er.CircuitBreakerConfig) { c.SlowCallRateThreshold = 0.5 }},
		{"SlowCallRateThreshold", func(c *er.CircuitBreakerConfig) { c.SlowCallDuration = time.Second }},
		{"SlowCallRateThreshold", func(c *er.CircuitBreakerConfig) {
			c.SlowCallDuration, c.SlowCallRateThreshold = time.Second, -0.1
		}},
		{"HalfOpenMaxCalls", func(c *er.CircuitBreakerConfig) { c.HalfOpenMaxCalls = -1 }},
	}
	for _, c := range cases {
		cfg := er.DefaultCircuitBreakerConfig()
		c.edit(&cfg)
		err := cfg.Validate()
		ce, ok := errors.AsType[*er.ConfigError](err)
		if !ok || ce.Field != c.field || ce.Config != "CircuitBreakerConfig" {
			t.Errorf("%s: Validate() = %v, want a *ConfigError naming CircuitBreakerConfig.%s", c.field, err, c.field)
		}
		if _, err := er.NewCircuitBreaker(cfg); !errors.As(err, &ce) {
			t.Errorf("%s: NewCircuitBreaker accepted an invalid config", c.field)
		}
	}
}

func TestCircuitBreakerConfigZeroValuesAndDefaults(t *testing.T) {
	def := er.DefaultCircuitBreakerConfig()
	if def.FailureThreshold != 5 || def.SuccessThreshold != 2 || def.OpenTimeout != 60*time.Second ||
		def.WindowSize != 10 || def.WindowDuration != 60*time.Second {
		t.Fatalf("DefaultCircuitBreakerConfig() = %+v", def)
	}
	var zero er.CircuitBreakerConfig
	if err := zero.Validate(); err != nil {
		t.Fatalf("the zero config: %v", err)
	}
	// Zero thresholds mean the defaults; a zero open timeout means zero:
	// the half-open timer is due as the breaker opens, so the manual clock
	// runs it at once in a goroutine of its own, which synctest.Wait waits
	// for.
	synctest.Test(t, func(t *testing.T) {
		b, _ := newBreaker(t, zero)
		record(t, b, 5, errBoom)
		synctest.Wait()
		wantState(t, b, er.BreakerHalfOpen)
		record(t, b, 2, nil) // HalfOpenMaxCalls 0 means SuccessThreshold (2)
		wantState(t, b, er.BreakerClosed)
	})
	// Rate rules only, with the count rule off.
	rateOnly := er.CircuitBreakerConfig{FailureThreshold: -1, FailureRateThreshold: 1}
	if err := rateOnly.Validate(); err != nil {
		t.Fatalf("rate-only config: %v", err)
	}
}

func TestOutcomeAndStateNames(t *testing.T) {
	for v, want := range map[fmt.Stringer]string{
		er.OutcomeSuccess: "success", er.OutcomeFailure: "failure", er.OutcomeIgnore: "ignore",
		er.Outcome(9): "Outcome(9)", er.BreakerClosed: "Closed", er.BreakerOpen: "Open",
		er.BreakerHalfOpen: "HalfOpen", er.BreakerState(7): "BreakerState(7)",
		er.BreakerForceOpen: "forceOpen", er.BreakerEvent(9): "BreakerEvent(9)",
	} {
		if got := v.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	var _ engine.Observer = (*enginetest.Recorder)(nil)
}
