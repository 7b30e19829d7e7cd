package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	"github.com/statecraft/statecraft/fsm"
	"github.com/statecraft/statecraft/internal/testutil"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/internal/setup"
	"github.com/statecraft/statecraft/states"
	"github.com/statecraft/statecraft/transitions"
)

func TestBreakerOpensWhenFailuresInWindowReachThreshold(t *testing.T) {
	b, _ := newBreaker(t, countConfig()) // 5 failures among the last 10
	record(t, b, 4, errBoom)
	wantState(t, b, breaker.StateClosed)
	record(t, b, 1, errBoom) // the 5th: inclusive
	wantState(t, b, breaker.StateOpen)
	m := b.Metrics()
	require.Equal(t, uint64(1), m.Opens, "Metrics().Opens")
	require.Equal(t, 5, m.Failures, "Metrics().Failures")
	require.Equal(t, 5, m.Calls, "Metrics().Calls")
}

func TestBreakerWindowForgetsOutcomesPushedOutByNewerOnes(t *testing.T) {
	b, _ := newBreaker(t, countConfig())
	record(t, b, 4, errBoom)
	record(t, b, 10, nil) // the 4 failures leave the 10-outcome window
	m := b.Metrics()
	require.Zero(t, m.Failures, "Metrics().Failures")
	require.Equal(t, 10, m.Calls, "Metrics().Calls")
	record(t, b, 4, errBoom)
	wantState(t, b, breaker.StateClosed)
	record(t, b, 1, errBoom)
	wantState(t, b, breaker.StateOpen)
}

func TestBreakerOpensOnFailureRateOnlyAfterMinimumCalls(t *testing.T) {
	cfg := countConfig()
	cfg.FailureThreshold = -1 // rate rule only
	cfg.FailureRateThreshold = 0.5
	cfg.MinimumCalls = 4
	b, _ := newBreaker(t, cfg)
	record(t, b, 2, errBoom) // 100%, but 2 calls < 4
	wantState(t, b, breaker.StateClosed)
	record(t, b, 1, nil)
	record(t, b, 1, errBoom) // 4 calls, 3 failures: 75%
	wantState(t, b, breaker.StateOpen)

	// Inclusive: exactly the threshold opens.
	b, _ = newBreaker(t, cfg)
	record(t, b, 2, nil)
	record(t, b, 1, errBoom)
	wantState(t, b, breaker.StateClosed)
	record(t, b, 1, errBoom) // 2 of 4 = 0.5
	wantState(t, b, breaker.StateOpen)
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
		require.NoError(t, err)
		clk.Advance(d)
		p.Done(nil)
	}
	slowCall(100 * time.Millisecond) // exactly the limit: not slow
	slowCall(0)
	slowCall(101 * time.Millisecond) // slow
	wantState(t, b, breaker.StateClosed)
	m := b.Metrics()
	require.Equal(t, 1, m.SlowCalls, "Metrics().SlowCalls")
	require.Equal(t, 3, m.Calls, "Metrics().Calls")
	slowCall(time.Second) // 4 calls, 2 slow: 0.5
	wantState(t, b, breaker.StateOpen)
	m = b.Metrics()
	require.Equal(t, 0.5, m.SlowCallRate, "Metrics().SlowCallRate")
	require.Zero(t, m.FailureRate, "Metrics().FailureRate")
}

func TestBreakerTimeWindowDropsOutcomesOlderThanItsDuration(t *testing.T) {
	cfg := breaker.DefaultConfig() // 5 failures in 10 outcomes of 60 s
	t.Run("expired", func(t *testing.T) {
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(60 * time.Second)
		m := b.Metrics()
		require.Zero(t, m.Calls, "after 60s: Metrics().Calls, want an empty window")
		require.Zero(t, m.Failures, "after 60s: Metrics().Failures, want an empty window")
		record(t, b, 4, errBoom)
		wantState(t, b, breaker.StateClosed)
		record(t, b, 1, errBoom)
		wantState(t, b, breaker.StateOpen)
	})
	t.Run("not yet", func(t *testing.T) {
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(60*time.Second - time.Nanosecond)
		record(t, b, 1, errBoom)
		wantState(t, b, breaker.StateOpen)
	})
	t.Run("count still applies", func(t *testing.T) {
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(time.Second)
		record(t, b, 10, nil)
		m := b.Metrics()
		require.Equal(t, 10, m.Calls, "Metrics().Calls")
		require.Zero(t, m.Failures, "Metrics().Failures")
	})
}

func TestBreakerGoesHalfOpenTheInstantTheOpenTimeoutPasses(t *testing.T) {
	cfg := countConfig()
	cfg.OpenTimeout = 30 * time.Second
	b, clk := openBreaker(t, cfg)
	oe := wantRejected(t, b)
	require.Equal(t, 30*time.Second, oe.RetryAfter(), "RetryAfter()")
	clk.Advance(30*time.Second - time.Nanosecond)
	wantState(t, b, breaker.StateOpen)
	require.Equal(t, time.Nanosecond, wantRejected(t, b).RetryAfter(), "RetryAfter()")
	clk.Advance(time.Nanosecond)
	wantState(t, b, breaker.StateHalfOpen)
	p, err := b.Allow()
	require.NoError(t, err, "Allow() in half-open")
	p.Done(nil)
	require.Zero(t, oe.RetryAfter(), "RetryAfter() after the timeout")
}

func TestBreakerClosesAfterSuccessThresholdAndResetsWindow(t *testing.T) {
	b, clk := openBreaker(t, countConfig())
	clk.Advance(time.Minute)
	wantState(t, b, breaker.StateHalfOpen)
	record(t, b, 1, nil)
	wantState(t, b, breaker.StateHalfOpen)
	require.Equal(t, 1, b.Metrics().HalfOpenSuccesses, "Metrics().HalfOpenSuccesses")
	record(t, b, 1, nil)
	wantState(t, b, breaker.StateClosed)
	m := b.Metrics()
	require.Zero(t, m.Calls, "Metrics().Calls after closing, want an empty window")
	require.Zero(t, m.Failures, "Metrics().Failures after closing, want an empty window")
	record(t, b, 4, errBoom) // a fresh window: 4 failures are not enough
	wantState(t, b, breaker.StateClosed)
}

func TestBreakerReopensOnHalfOpenFailureWithGrowingTimeout(t *testing.T) {
	cfg := countConfig()
	cfg.OpenTimeout = 10 * time.Second
	cfg.OpenTimeoutMultiplier = 2
	cfg.MaxOpenTimeout = 25 * time.Second
	b, clk := openBreaker(t, cfg)
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second} {
		require.Equal(t, want, b.Metrics().OpenTimeout, "OpenTimeout")
		require.Equal(t, want, wantRejected(t, b).RetryAfter(), "RetryAfter()")
		clk.Advance(want - time.Nanosecond)
		wantState(t, b, breaker.StateOpen)
		clk.Advance(time.Nanosecond)
		wantState(t, b, breaker.StateHalfOpen)
		record(t, b, 1, errBoom) // the trial fails: open again, timer restarted
		wantState(t, b, breaker.StateOpen)
	}
	// Closing resets the growth.
	clk.Advance(25 * time.Second)
	record(t, b, 2, nil)
	wantState(t, b, breaker.StateClosed)
	record(t, b, 5, errBoom)
	require.Equal(t, 10*time.Second, b.Metrics().OpenTimeout, "OpenTimeout after a close")
}

func TestBreakerBoundsConcurrentHalfOpenTrials(t *testing.T) {
	cfg := countConfig()
	cfg.SuccessThreshold = 3
	cfg.HalfOpenMaxCalls = 2
	b, clk := openBreaker(t, cfg)
	clk.Advance(time.Minute)
	p1, err1 := b.Allow()
	p2, err2 := b.Allow()
	require.NoError(t, err1, "first trial rejected")
	require.NoError(t, err2, "second trial rejected")
	_, err := b.Allow()
	oe, ok := errors.AsType[*breaker.OpenError](err)
	require.True(t, ok, "third trial: %v, want a half-open *OpenError", err)
	require.True(t, oe.HalfOpen(), "third trial: want a half-open *OpenError")
	require.ErrorIs(t, err, breaker.ErrTooManyTrials, "third trial")
	require.ErrorIs(t, err, breaker.ErrOpen, "third trial")
	m := b.Metrics()
	require.Equal(t, 2, m.TrialsInFlight, "Metrics().TrialsInFlight")
	require.Equal(t, uint64(1), m.Rejections, "Metrics().Rejections")
	p1.Done(nil) // frees a slot
	p3, err := b.Allow()
	require.NoError(t, err, "trial after a slot was freed")
	p2.Done(nil)
	p3.Done(nil) // third success in a row
	wantState(t, b, breaker.StateClosed)
}

func TestBreakerIgnoresOutcomesOfAnEarlierGeneration(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		b, _ := newBreaker(t, countConfig())
		stale, _ := b.Allow()
		b.ForceOpen()
		b.ForceClosed()
		gen := b.Metrics().Generation
		stale.Done(errBoom)
		m := b.Metrics()
		require.Zero(t, m.Failures, "a stale failure was recorded: %+v", m)
		require.Zero(t, m.Calls, "a stale failure was recorded: %+v", m)
		require.Equal(t, gen, m.Generation, "a stale failure was recorded: %+v", m)
		stale2, _ := b.Allow()
		b.Reset()
		stale2.Done(nil)
		require.Zero(t, b.Metrics().Calls, "a stale success was recorded")
	})
	t.Run("half-open", func(t *testing.T) {
		cfg := countConfig()
		cfg.HalfOpenMaxCalls = 1
		b, clk := openBreaker(t, cfg)
		clk.Advance(time.Minute)
		stale, _ := b.Allow() // the one trial of this half-open period
		b.ForceOpen()
		clk.Advance(2 * time.Minute) // half-open again, a new period
		wantState(t, b, breaker.StateHalfOpen)
		fresh, err := b.Allow()
		require.NoError(t, err, "the new period's trial was rejected")
		stale.Done(errBoom) // would reopen the breaker, were it not stale
		wantState(t, b, breaker.StateHalfOpen)
		// Nor did it free the new period's only slot.
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyTrials, "Allow()")
		fresh.Done(nil)
	})
}

func TestBreakerManualControl(t *testing.T) {
	b, clk := newBreaker(t, countConfig())
	b.ForceOpen()
	wantState(t, b, breaker.StateOpen)
	wantRejected(t, b)
	b.ForceOpen() // from Open: a new episode, its timer restarted (and grown)
	wantState(t, b, breaker.StateOpen)
	b.ForceClosed()
	wantState(t, b, breaker.StateClosed)
	b.ForceClosed() // already closed: nothing
	wantState(t, b, breaker.StateClosed)
	record(t, b, 1, nil)

	b.ForceOpen() // an ordinary open episode: it times out
	clk.Advance(time.Minute)
	wantState(t, b, breaker.StateHalfOpen)
	b.ForceClosed()
	wantState(t, b, breaker.StateClosed)

	record(t, b, 5, errBoom)
	wantRejected(t, b)
	m := b.Metrics()
	require.Equal(t, uint64(4), m.Opens, "Metrics().Opens")
	require.Equal(t, uint64(2), m.Rejections, "Metrics().Rejections")
	b.Reset()
	wantState(t, b, breaker.StateClosed)
	m = b.Metrics()
	require.Zero(t, m.Opens, "Metrics().Opens after Reset")
	require.Zero(t, m.Rejections, "Metrics().Rejections after Reset")
	require.Zero(t, m.Calls, "Metrics().Calls after Reset")
}

func TestBreakerCallbacksRunInTransitionOrderOutsideTheLock(t *testing.T) {
	var got []string
	var b *breaker.Breaker
	note := func(name string) func(from, to breaker.State) {
		return func(from, to breaker.State) {
			// Reading the breaker from a callback must not deadlock, and
			// sees the state just entered.
			// (Finishing a permit here, or ForceOpen, would deadlock: a
			// callback must not change the breaker's state.)
			m := b.Metrics()
			got = append(got, fmt.Sprintf("%s(%v->%v) state=%v", name, from, to, m.State))
			if to == breaker.StateOpen {
				_, err := b.Allow()
				assert.Error(t, err, "%s: Allow() admitted a call in Open", name)
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
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("callbacks (-want +got):\n%s", diff)
	}
}

type panicValue struct{ msg string }

func TestBreakerProtectRecordsPanicsReleasesTheTrialAndPanicsAgain(t *testing.T) {
	call := func(b *breaker.Breaker, v any) (recovered any) {
		defer func() { recovered = recover() }()
		_ = b.Protect(context.Background(), func(context.Context) error { panic(v) })
		return nil
	}
	t.Run("closed", func(t *testing.T) {
		cfg := countConfig()
		cfg.Classify = func(error) breaker.Outcome { return breaker.OutcomeIgnore } // a panic is a failure all the same
		b, _ := newBreaker(t, cfg)
		v := &panicValue{"boom"}
		require.Equal(t, any(v), call(b, v), "recovered: want the original value")
		require.Equal(t, 1, b.Metrics().Failures, "Metrics().Failures: want the panic counted as a failure")
	})
	t.Run("half-open", func(t *testing.T) {
		cfg := countConfig()
		cfg.HalfOpenMaxCalls = 1
		b, clk := openBreaker(t, cfg)
		clk.Advance(time.Minute)
		v := &panicValue{"trial"}
		require.Equal(t, any(v), call(b, v), "recovered: want the original value")
		wantState(t, b, breaker.StateOpen) // the failed trial reopened it
		clk.Advance(2 * time.Minute)
		wantState(t, b, breaker.StateHalfOpen)
		require.NoError(t, b.Protect(context.Background(), func(context.Context) error { return nil }),
			"the trial slot was not released")
	})
}

func TestBreakerProtectRejectsWithoutRunningAndReturnsTheFunctionsError(t *testing.T) {
	b, _ := openBreaker(t, countConfig())
	ran := false
	err := b.Protect(context.Background(), func(context.Context) error { ran = true; return nil })
	require.False(t, ran, "Protect on an open breaker ran the function")
	require.ErrorIs(t, err, breaker.ErrOpen, "Protect on an open breaker")
	b.Reset()
	require.Equal(t, errBoom, b.Protect(context.Background(), func(context.Context) error { return errBoom }),
		"Protect(): want the function's own error")
}

func TestPermitAbandonRecordsAFailureWhateverClassifySays(t *testing.T) {
	cfg := countConfig()
	cfg.FailureThreshold = 2
	cfg.Classify = func(error) breaker.Outcome { return breaker.OutcomeIgnore }
	b, clk := newBreaker(t, cfg)
	record(t, b, 1, errBoom) // ignored by Classify
	p, err := b.Allow()
	require.NoError(t, err)
	p.Abandon()
	m := b.Metrics()
	require.Equal(t, 1, m.Calls, "Metrics().Calls: want the abandoned call")
	require.Equal(t, 1, m.Failures, "Metrics().Failures: want the abandoned call as the one failure")
	p, _ = b.Allow()
	p.Abandon()
	wantState(t, b, breaker.StateOpen)

	// In half-open it fails the trial and gives its slot back.
	clk.Advance(time.Minute)
	wantState(t, b, breaker.StateHalfOpen)
	p, err = b.Allow()
	require.NoError(t, err)
	p.Abandon()
	wantState(t, b, breaker.StateOpen)
	require.Zero(t, b.Metrics().TrialsInFlight, "Metrics().TrialsInFlight")
	breaker.Permit{}.Abandon() // the zero Permit ignores it
}

func TestBreakerOpenForReportsTheTimeLeftOnlyWhileOpen(t *testing.T) {
	cfg := countConfig()
	cfg.OpenTimeout = 30 * time.Second
	b, clk := newBreaker(t, cfg)
	left, open := b.OpenFor()
	require.False(t, open, "closed: OpenFor()")
	require.Zero(t, left, "closed: OpenFor()")
	b.ForceOpen()
	clk.Advance(10 * time.Second)
	left, open = b.OpenFor()
	require.True(t, open, "open: OpenFor()")
	require.Equal(t, 20*time.Second, left, "open: OpenFor()")
	require.Equal(t, 20*time.Second, wantRejected(t, b).RetryAfter(), "RetryAfter(): want what OpenFor reports")
	clk.Advance(20 * time.Second)
	wantState(t, b, breaker.StateHalfOpen)
	left, open = b.OpenFor()
	require.False(t, open, "half-open: OpenFor()")
	require.Zero(t, left, "half-open: OpenFor()")
}

func TestNewRefusesADefinitionOfAnotherMachine(t *testing.T) {
	other := fsm.New[int, int, int]("other")
	other.State(0, states.Initial)
	other.State(1, states.Final)
	other.On(0, 0, 1)
	def, err := other.Build()
	require.NoError(t, err)
	_, err = breaker.New(countConfig(), engine.WithDefinition(def))
	ce, ok := errors.AsType[*setup.ConfigError](err)
	require.True(t, ok, "New with a definition of other types = %v, want a *setup.ConfigError", err)
	require.Equal(t, "breaker.Config", ce.Config, "the config named")
	require.Equal(t, "Definition", ce.Field, "the field named")
	var nilDef *fsm.Definition[breaker.State, breaker.Event, *breaker.Breaker]
	b, err := breaker.New(countConfig(), engine.WithDefinition(nilDef))
	require.NoError(t, err, "a nil definition: want the default one")
	defer b.Close()
	require.Same(t, breaker.Definition(), b.Definition(), "a nil definition did not mean the default one")
}

func TestBreakerClassification(t *testing.T) {
	b, _ := newBreaker(t, countConfig())
	record(t, b, 3, context.Canceled)                            // the caller gave up: ignored
	record(t, b, 1, fmt.Errorf("wrapped: %w", context.Canceled)) // ignored too
	record(t, b, 1, context.DeadlineExceeded)                    // too slow: a failure
	m := b.Metrics()
	require.Equal(t, 1, m.Calls, "Metrics().Calls: want only the deadline counted")
	require.Equal(t, 1, m.Failures, "Metrics().Failures: want the deadline counted as a failure")

	errFine := errors.New("not found, which is fine")
	cfg := countConfig()
	cfg.Classify = func(err error) breaker.Outcome {
		if errors.Is(err, errFine) {
			return breaker.OutcomeSuccess
		}
		return 0 // unknown: a failure
	}
	b, _ = newBreaker(t, cfg)
	record(t, b, 2, errFine)
	record(t, b, 1, errBoom)
	m = b.Metrics()
	require.Equal(t, 3, m.Calls, "Metrics().Calls")
	require.Equal(t, 1, m.Failures, "Metrics().Failures")
}

func TestBreakerOpenErrorIsMadeOncePerEpisode(t *testing.T) {
	b, clk := openBreaker(t, countConfig())
	first := wantRejected(t, b)
	require.Same(t, first, wantRejected(t, b), "two rejections of one open episode returned different errors")
	clk.Advance(time.Minute)
	record(t, b, 1, errBoom) // reopen: a new episode
	require.NotSame(t, first, wantRejected(t, b), "a new open episode reused the last episode's error")
}

func TestBreakerStepsAreTransitionsOfItsDefinition(t *testing.T) {
	rec := &enginetest.Recorder{}
	b, clk := newBreaker(t, countConfig(), engine.WithObserver(rec))
	require.Same(t, breaker.Definition(), b.Definition(), "Definition() is not the default definition")
	record(t, b, 5, errBoom)
	clk.Advance(time.Minute)
	record(t, b, 2, nil)
	enginetest.AssertPath(t, rec,
		"Closed", "Closed", "Closed", "Closed", "Closed", // four failures below the threshold (internal)
		"Open", "HalfOpen", "HalfOpen", "Closed")
	last := rec.Records[len(rec.Records)-1]
	require.Len(t, last.Guards, 1, "last step's guards")
	require.Equal(t, "successes >= successThreshold", last.Guards[0].Guard, "last step's guard")
	require.True(t, last.Guards[0].Held, "last step's guard: want it held")
}

// rebuild returns a copy of def with edit applied to each transition spec;
// edit returns false to drop one.
func rebuild(t *testing.T, edit func(*breakerTransition) bool) *breakerDef {
	t.Helper()
	v, err := breaker.Definition().Edit(edit).Build()
	require.NoError(t, err)
	return v
}

func TestBreakerBehaviourFollowsItsDefinition(t *testing.T) {
	t.Run("without the failure-count edge it never opens on count", func(t *testing.T) {
		def := rebuild(t, func(tr *breakerTransition) bool {
			return tr.Guard.Name() != "failures >= failureThreshold"
		})
		b, _ := newBreaker(t, countConfig(), engine.WithDefinition(def))
		record(t, b, 20, errBoom)
		wantState(t, b, breaker.StateClosed)
	})
	t.Run("a half-open failure that leads to Closed closes it", func(t *testing.T) {
		def := rebuild(t, func(tr *breakerTransition) bool {
			if tr.From == breaker.StateHalfOpen && tr.Event == breaker.EventFailure && !tr.Delayed {
				tr.To = breaker.StateClosed
			}
			return true
		})
		b, clk := openBreaker(t, countConfig(), engine.WithDefinition(def))
		clk.Advance(time.Minute)
		record(t, b, 1, errBoom)
		wantState(t, b, breaker.StateClosed)
	})
	t.Run("an unguarded success edge to Open opens on a success", func(t *testing.T) {
		def := rebuild(t, func(tr *breakerTransition) bool {
			if tr.From == breaker.StateClosed && tr.Event == breaker.EventSuccess && !tr.Delayed {
				if tr.Guard.Name() != "slow-call rate >= slowCallRateThreshold after minimumCalls" {
					return false // the internal edge and the failure-rate edge
				}
				tr.Guard = breakerGuard{} // the slow-call edge, unguarded
			}
			return true
		})
		b, _ := newBreaker(t, countConfig(), engine.WithDefinition(def))
		record(t, b, 1, nil) // the lock-free path is off for this definition
		wantState(t, b, breaker.StateOpen)
	})
}

func TestBreakerRecognisesItsSlowCallGuardByIdentity(t *testing.T) {
	// A success in Closed that the definition would ignore is not fired,
	// and so leaves no record; a success that is fired leaves one.
	closedSuccessRecords := func(t *testing.T, def *breakerDef) int {
		t.Helper()
		rec := &enginetest.Recorder{}
		b, _ := newBreaker(t, countConfig(), engine.WithDefinition(def), engine.WithObserver(rec))
		record(t, b, 3, nil)
		wantState(t, b, breaker.StateClosed)
		return len(rec.Records)
	}
	t.Run("a variant rebuilt from the default's specs skips the machine", func(t *testing.T) {
		def := rebuild(t, func(*breakerTransition) bool { return true })
		assert.Zero(t, closedSuccessRecords(t, def), "records for 3 successes in Closed")
	})
	t.Run("a variant built from DefinitionBuilder skips the machine", func(t *testing.T) {
		assert.Zero(t, closedSuccessRecords(t, breaker.DefinitionBuilder().MustBuild()), "records for 3 successes in Closed")
	})
	t.Run("another guard under the slow-call guard's name is fired", func(t *testing.T) {
		renamed := 0
		def := rebuild(t, func(tr *breakerTransition) bool {
			if tr.From == breaker.StateClosed && tr.Event == breaker.EventSuccess &&
				tr.Guard.Name() == "slow-call rate >= slowCallRateThreshold after minimumCalls" {
				tr.Guard = transitions.If(tr.Guard.Name(), func(breaker.Machine) bool { return false })
				renamed++
			}
			return true
		})
		require.Equal(t, 1, renamed, "guards replaced on Closed/success")
		assert.Equal(t, 3, closedSuccessRecords(t, def), "records for 3 successes in Closed: the guard is not the breaker's")
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
	testutil.WantAllocs(t, 0, "Protect success", func() { _ = b.Protect(ctx, ok) })
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
	testutil.WantAllocs(t, 0, "Protect rejected", func() { _ = b.Protect(ctx, ok) })
}

func TestBreakerRunsOnTheRealClockInsideSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := countConfig()
		cfg.OpenTimeout = time.Second
		b, err := breaker.New(cfg)
		require.NoError(t, err)
		defer b.Close()
		b.ForceOpen()
		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		wantState(t, b, breaker.StateOpen)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		wantState(t, b, breaker.StateHalfOpen)
	})
}

func TestConfigRefusesInvalidValuesNamingTheField(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*breaker.Config)
	}{
		{"WindowSize", func(c *breaker.Config) { c.WindowSize = -1 }},
		{"WindowSize", func(c *breaker.Config) { c.WindowSize = 1<<20 + 1 }},
		{"FailureThreshold", func(c *breaker.Config) { c.FailureThreshold = 11 }},
		{"FailureThreshold", func(c *breaker.Config) { c.FailureThreshold = -1 }}, // no rule left
		{"SuccessThreshold", func(c *breaker.Config) { c.SuccessThreshold = -1 }},
		{"OpenTimeout", func(c *breaker.Config) { c.OpenTimeout = 24*time.Hour + 1 }},
		{"OpenTimeoutMultiplier", func(c *breaker.Config) { c.OpenTimeoutMultiplier = 0.5 }},
		{"OpenTimeoutMultiplier", func(c *breaker.Config) { c.OpenTimeoutMultiplier = math.NaN() }},
		{"MaxOpenTimeout", func(c *breaker.Config) { c.MaxOpenTimeout = time.Second }},
		{"MaxOpenTimeout", func(c *breaker.Config) { c.MaxOpenTimeout = -1 }},
		{"MaxOpenTimeout", func(c *breaker.Config) { c.OpenTimeout, c.MaxOpenTimeout = 0, 30*time.Second }}, // below the default 60s
		{"WindowDuration", func(c *breaker.Config) { c.WindowDuration = 24*time.Hour + 1 }},
		{"FailureRateThreshold", func(c *breaker.Config) { c.FailureRateThreshold = 1.5 }},
		{"FailureRateThreshold", func(c *breaker.Config) { c.FailureRateThreshold = math.NaN() }},
		{"MinimumCalls", func(c *breaker.Config) { c.MinimumCalls = 11 }},
		{"MinimumCalls", func(c *breaker.Config) { c.MinimumCalls = -1 }},
		{"SlowCallDuration", func(c *breaker.Config) { c.SlowCallDuration = -1 }},
		{"SlowCallDuration", func(c *breaker.Config) { c.SlowCallRateThreshold = 0.5 }},
		{"SlowCallRateThreshold", func(c *breaker.Config) { c.SlowCallDuration = time.Second }},
		{"SlowCallRateThreshold", func(c *breaker.Config) {
			c.SlowCallDuration, c.SlowCallRateThreshold = time.Second, -0.1
		}},
		{"HalfOpenMaxCalls", func(c *breaker.Config) { c.HalfOpenMaxCalls = -1 }},
	}
	for _, c := range cases {
		cfg := breaker.DefaultConfig()
		c.edit(&cfg)
		err := cfg.Validate()
		ce, ok := errors.AsType[*setup.ConfigError](err)
		if assert.True(t, ok, "%s: Validate() = %v, want a *setup.ConfigError", c.field, err) {
			assert.Equal(t, c.field, ce.Field, "%s: the field named", c.field)
			assert.Equal(t, "breaker.Config", ce.Config, "%s: the config named", c.field)
		}
		_, err = breaker.New(cfg)
		assert.ErrorAs(t, err, &ce, "%s: New accepted an invalid config", c.field)
	}
}

func TestConfigZeroValuesAndDefaults(t *testing.T) {
	def := breaker.DefaultConfig()
	require.Equal(t, 5, def.FailureThreshold, "DefaultConfig().FailureThreshold")
	require.Equal(t, 2, def.SuccessThreshold, "DefaultConfig().SuccessThreshold")
	require.Equal(t, 60*time.Second, def.OpenTimeout, "DefaultConfig().OpenTimeout")
	require.Equal(t, 10, def.WindowSize, "DefaultConfig().WindowSize")
	require.Equal(t, 60*time.Second, def.WindowDuration, "DefaultConfig().WindowDuration")
	// Rate rules only, with the count rule off.
	rateOnly := breaker.Config{FailureThreshold: -1, FailureRateThreshold: 1}
	require.NoError(t, rateOnly.Validate(), "rate-only config")
}

// A zero Config behaves as DefaultConfig: 5 failures among the last 10
// outcomes of the last 60s open it, for 60s, and 2 trials close it.
// (TestZeroConfigResolvesAsDefaultConfig compares every resolved value.)
func TestZeroConfigBehavesAsTheDefaults(t *testing.T) {
	for name, cfg := range map[string]breaker.Config{"zero": {}, "DefaultConfig": breaker.DefaultConfig()} {
		t.Run(name, func(t *testing.T) {
			b, clk := newBreaker(t, cfg)
			record(t, b, 4, errBoom)
			clk.Advance(60 * time.Second) // the time window drops them
			require.Zero(t, b.Metrics().Calls, "after 60s: Metrics().Calls, want an empty window")
			record(t, b, 10, nil)
			record(t, b, 4, errBoom)
			wantState(t, b, breaker.StateClosed)
			record(t, b, 1, errBoom)
			wantState(t, b, breaker.StateOpen)
			left, open := b.OpenFor()
			require.True(t, open, "OpenFor()")
			require.Equal(t, 60*time.Second, left, "OpenFor()")
			clk.Advance(60 * time.Second)
			wantState(t, b, breaker.StateHalfOpen)
			p1, err1 := b.Allow()
			p2, err2 := b.Allow()
			_, err := b.Allow()
			require.NoError(t, err1, "first trial: want 2 admitted (HalfOpenMaxCalls follows SuccessThreshold)")
			require.NoError(t, err2, "second trial: want 2 admitted (HalfOpenMaxCalls follows SuccessThreshold)")
			require.ErrorIs(t, err, breaker.ErrTooManyTrials, "third trial")
			p1.Done(nil)
			wantState(t, b, breaker.StateHalfOpen)
			p2.Done(nil)
			wantState(t, b, breaker.StateClosed)
		})
	}
}

// funcsAside returns c without its functions, for comparing resolved
// configs.
func funcsAside(c breaker.Config) breaker.Config {
	c.Classify, c.OnOpen, c.OnClose, c.OnHalfOpen = nil, nil, nil, nil
	return c
}

func mustResolve(t *testing.T, c breaker.Config) breaker.Config {
	t.Helper()
	r, err := c.Resolve()
	require.NoError(t, err, "Resolve(%+v)", c)
	return r
}

// TestZeroConfigResolvesAsDefaultConfig pins the zero-value rule: a zero
// Config and DefaultConfig() resolve to the same values, field by field,
// and the off values resolve to one spelling each.
func TestZeroConfigResolvesAsDefaultConfig(t *testing.T) {
	zero := mustResolve(t, breaker.Config{})
	require.Equal(t, reflect.ValueOf(breaker.DefaultClassify).Pointer(), reflect.ValueOf(zero.Classify).Pointer(),
		"a nil Classify did not resolve to DefaultClassify")
	want := breaker.Config{
		FailureThreshold: 5, SuccessThreshold: 2, OpenTimeout: 60 * time.Second, OpenTimeoutMultiplier: 1,
		WindowSize: 10, WindowDuration: 60 * time.Second, MinimumCalls: 10, HalfOpenMaxCalls: 2,
	}
	if diff := cmp.Diff(want, funcsAside(zero)); diff != "" {
		t.Fatalf("Config{} resolves to (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, funcsAside(mustResolve(t, breaker.DefaultConfig()))); diff != "" {
		t.Fatalf("DefaultConfig() resolves to (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, funcsAside(mustResolve(t, zero))); diff != "" {
		t.Fatalf("a resolved config resolves to (-want +got), want itself:\n%s", diff)
	}

	for _, c := range []struct {
		name string
		cfg  breaker.Config
		want func(*breaker.Config)
	}{
		{"negative OpenTimeout: no wait", breaker.Config{OpenTimeout: -time.Hour}, func(c *breaker.Config) { c.OpenTimeout = -1 }},
		{"CountOnly", breaker.Config{WindowDuration: breaker.CountOnly}, func(c *breaker.Config) { c.WindowDuration = breaker.CountOnly }},
		{"any negative WindowDuration", breaker.Config{WindowDuration: -time.Second}, func(c *breaker.Config) { c.WindowDuration = breaker.CountOnly }},
		{"count rule off", breaker.Config{FailureThreshold: -7, FailureRateThreshold: 0.5},
			func(c *breaker.Config) { c.FailureThreshold, c.FailureRateThreshold = -1, 0.5 }},
		{"derived defaults follow their field", breaker.Config{WindowSize: 20, SuccessThreshold: 3},
			func(c *breaker.Config) {
				c.WindowSize, c.MinimumCalls, c.SuccessThreshold, c.HalfOpenMaxCalls = 20, 20, 3, 3
			}},
	} {
		w := want
		c.want(&w)
		got := mustResolve(t, c.cfg)
		if diff := cmp.Diff(w, funcsAside(got)); diff != "" {
			t.Errorf("%s: resolves to (-want +got):\n%s", c.name, diff)
		}
		if diff := cmp.Diff(w, funcsAside(mustResolve(t, got))); diff != "" {
			t.Errorf("%s: resolving again gives (-want +got):\n%s", c.name, diff)
		}
	}
	_, err := (&breaker.Config{WindowSize: -1}).Resolve()
	assert.ErrorAs(t, err, new(*setup.ConfigError), "Resolve of an invalid config: want its *setup.ConfigError")
}

// A negative OpenTimeout is no wait: the half-open timer is due as the
// breaker opens, so the manual clock runs it at once in a goroutine of its
// own, which synctest.Wait waits for.
func TestNegativeOpenTimeoutGoesHalfOpenAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := countConfig()
		cfg.OpenTimeout = -1
		b, _ := newBreaker(t, cfg)
		record(t, b, 5, errBoom)
		synctest.Wait()
		wantState(t, b, breaker.StateHalfOpen)
		m := b.Metrics()
		require.Equal(t, uint64(1), m.Opens, "Metrics().Opens")
		require.Zero(t, m.OpenTimeout, "Metrics().OpenTimeout")
		record(t, b, 2, nil)
		wantState(t, b, breaker.StateClosed)
	})
}

// A negative WindowDuration (CountOnly) is a count-only window: outcomes
// count however old they are.
func TestCountOnlyWindowKeepsOutcomesWhateverTheirAge(t *testing.T) {
	for _, d := range []time.Duration{breaker.CountOnly, -time.Hour} {
		cfg := breaker.DefaultConfig()
		cfg.WindowDuration = d
		b, clk := newBreaker(t, cfg)
		record(t, b, 4, errBoom)
		clk.Advance(24 * time.Hour)
		m := b.Metrics()
		require.Equal(t, 4, m.Calls, "WindowDuration %v: a day later, Metrics().Calls", d)
		require.Equal(t, 4, m.Failures, "WindowDuration %v: a day later, Metrics().Failures: want the 4 failures", d)
		record(t, b, 1, errBoom)
		wantState(t, b, breaker.StateOpen)
	}
}

func TestOutcomeAndStateNames(t *testing.T) {
	for v, want := range map[fmt.Stringer]string{
		breaker.OutcomeSuccess: "success", breaker.OutcomeFailure: "failure", breaker.OutcomeIgnore: "ignore",
		breaker.Outcome(9): "breaker.Outcome(9)", breaker.StateClosed: "Closed", breaker.StateOpen: "Open",
		breaker.StateHalfOpen: "HalfOpen", breaker.State(7): "breaker.State(7)",
		breaker.EventForceOpen: "forceOpen", breaker.Event(9): "breaker.Event(9)",
	} {
		assert.Equal(t, want, v.String(), "String()")
	}
	var _ engine.Observer = (*enginetest.Recorder)(nil)
}

// Metrics().TimeIn adds up the time spent in each state on the clock, the
// current state's counted up to the call, and Reset starts it over.
func TestBreakerMetricsTimeInEachState(t *testing.T) {
	b, clk := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: 30 * time.Second, WindowDuration: breaker.CountOnly})
	clk.Advance(10 * time.Second)
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(errors.New("down"))    // opens
	clk.Advance(30 * time.Second) // half-open at 30s
	clk.Advance(4 * time.Second)
	want := [3]time.Duration{10 * time.Second, 30 * time.Second, 4 * time.Second}
	assert.Equal(t, want, b.Metrics().TimeIn, "TimeIn (Closed, Open, HalfOpen)")
	b.Reset()
	clk.Advance(time.Second)
	assert.Equal(t, [3]time.Duration{time.Second, 0, 0}, b.Metrics().TimeIn, "after Reset, TimeIn")
}
