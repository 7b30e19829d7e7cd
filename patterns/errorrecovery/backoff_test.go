package errorrecovery_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/engine"
	"github.com/statecraft/statecraft/engine/enginetest"
	er "github.com/statecraft/statecraft/patterns/errorrecovery"
)

// allBackoffs lists every backoff formula, in declaration order.
var allBackoffs = []er.Backoff{
	er.BackoffFixed, er.BackoffLinear, er.BackoffExponential, er.BackoffJitter,
	er.BackoffDecorrelated, er.BackoffFullJitter, er.BackoffEqualJitter,
}

// TestFullAndEqualJitterSpreadTheCappedExponentialDelay pins AWS's two
// formulas: FULL_JITTER is U(0, e) and EQUAL_JITTER e/2 + U(0, e/2), where
// e is the exponential delay capped by MaxDelay, so that delays past the
// cap stay random (and under it).
func TestFullAndEqualJitterSpreadTheCappedExponentialDelay(t *testing.T) {
	const s = time.Second
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	cases := []struct {
		name    string
		backoff er.Backoff
		draws   []float64
		want    []time.Duration // e is 1s, 2s, 4s, then the 5s cap
	}{
		{"full: U(0, e) at 0", er.BackoffFullJitter, []float64{0}, []time.Duration{0, 0, 0, 0, 0}},
		{"full: U(0, e) at 1/2", er.BackoffFullJitter, []float64{0.5}, []time.Duration{ms(500), s, 2 * s, ms(2500), ms(2500)}},
		{"full: U(0, e) at 3/4", er.BackoffFullJitter, []float64{0.75}, []time.Duration{ms(750), ms(1500), 3 * s, ms(3750), ms(3750)}},
		{"equal: e/2 + U(0, e/2) at 0", er.BackoffEqualJitter, []float64{0}, []time.Duration{ms(500), s, 2 * s, ms(2500), ms(2500)}},
		{"equal: e/2 + U(0, e/2) at 1/2", er.BackoffEqualJitter, []float64{0.5}, []time.Duration{ms(750), ms(1500), 3 * s, ms(3750), ms(3750)}},
		{"equal: e/2 + U(0, e/2) at 3/4", er.BackoffEqualJitter, []float64{0.75}, []time.Duration{ms(875), ms(1750), ms(3500), ms(4375), ms(4375)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := er.RetryConfig[int]{MaxAttempts: 6, Backoff: tc.backoff, InitialDelay: s, MaxDelay: 5 * s}
			got, err := cfg.Schedule(seq(tc.draws...))
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Schedule (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, waitedDelays(t, cfg, seq(tc.draws...))); diff != "" {
				t.Errorf("an execution waited (-want +got):\n%s", diff)
			}
		})
	}
}

// waitedDelays runs an execution of cfg whose every attempt fails, on the
// manual clock with rnd as its random source, and returns the delays it
// announced to OnRetry.
func waitedDelays(t *testing.T, cfg er.RetryConfig[int], rnd func() float64) []time.Duration {
	t.Helper()
	var got []time.Duration
	cfg.OnRetry = func(_ int, _ error, d time.Duration) { got = append(got, d) }
	clk := enginetest.NewClock(time.Time{})
	x := mustRetry(t, cfg, engine.WithClock(clk), engine.WithRandom(rnd))
	fn, _ := failing(math.MaxInt, errFlaky, 0)
	_, _, err := onClock(clk, func() (int, error) { return x.Execute(context.Background(), fn) })
	require.ErrorIs(t, err, er.ErrExhausted, "Execute")
	return got
}

// TestScheduleListsTheDelaysAnExecutionWaits: for every formula, Schedule
// with a source equals, delay for delay, what an execution waits on the
// manual clock with an identical source (engine.WithRandom), because both
// run the same code. The clock's advances are compared too, so the
// delays are the ones slept, not only the ones announced.
func TestScheduleListsTheDelaysAnExecutionWaits(t *testing.T) {
	for _, b := range allBackoffs {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("%v seed %d", b, seed), func(t *testing.T) {
				cfg := er.RetryConfig[int]{
					MaxAttempts: 8, Backoff: b, InitialDelay: 300 * time.Millisecond,
					MaxDelay: 20 * time.Second, Multiplier: 2.5, JitterRange: 0.3,
				}
				want, err := cfg.Schedule(rand.New(rand.NewPCG(seed, 16)).Float64)
				require.NoError(t, err)
				require.Len(t, want, cfg.MaxAttempts-1, "delays for %d attempts: want one per retry", cfg.MaxAttempts)
				var announced []time.Duration
				cfg.OnRetry = func(_ int, _ error, d time.Duration) { announced = append(announced, d) }
				clk := enginetest.NewClock(time.Time{})
				x := mustRetry(t, cfg, engine.WithClock(clk), engine.WithRandom(rand.New(rand.NewPCG(seed, 16)).Float64))
				fn, _ := failing(math.MaxInt, errFlaky, 0)
				_, slept, err := onClock(clk, func() (int, error) { return x.Execute(context.Background(), fn) })
				require.ErrorIs(t, err, er.ErrExhausted, "Execute")
				if diff := cmp.Diff(want, announced); diff != "" {
					t.Errorf("the execution announced, Schedule listed (-Schedule +announced):\n%s", diff)
				}
				nonzero := slices.DeleteFunc(slices.Clone(want), func(d time.Duration) bool { return d == 0 })
				if diff := cmp.Diff(nonzero, slept, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("the clock advanced by, Schedule listed (-Schedule's nonzero delays +advances):\n%s", diff)
				}
			})
		}
	}
}

func TestScheduleOfTheDefaultsAndEdgeCases(t *testing.T) {
	def := er.DefaultRetryConfig[int]()
	got, err := def.Schedule(nil)
	assert.NoError(t, err, "the defaults' schedule")
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, got); diff != "" {
		t.Errorf("the defaults' schedule (-want +got):\n%s", diff)
	}
	one := er.RetryConfig[int]{MaxAttempts: 1, Backoff: er.BackoffFullJitter}
	got, err = one.Schedule(nil)
	assert.NoError(t, err, "one attempt")
	assert.Empty(t, got, "one attempt: want no delay")
	none := er.RetryConfig[int]{MaxAttempts: 3, Backoff: er.BackoffEqualJitter, InitialDelay: er.None}
	got, err = none.Schedule(nil)
	assert.NoError(t, err, "no delay")
	if diff := cmp.Diff([]time.Duration{0, 0}, got); diff != "" {
		t.Errorf("no delay (-want +got):\n%s", diff)
	}
	bad := er.RetryConfig[int]{MaxAttempts: -1}
	_, err = bad.Schedule(nil)
	assert.ErrorAs(t, err, new(*er.ConfigError), "an invalid config's schedule")
	slow := er.RetryConfig[int]{Backoff: er.BackoffFullJitter, Multiplier: 0.5}
	_, err = slow.Schedule(nil)
	if ce, ok := errors.AsType[*er.ConfigError](err); assert.True(t, ok, "FULL_JITTER with a multiplier below 1: %v, want a *ConfigError", err) {
		assert.Equal(t, "Multiplier", ce.Field, "FULL_JITTER with a multiplier below 1")
	}
	// Without a cap the exponential value overflows a Duration: it
	// saturates, and the jitter still draws below it.
	huge := er.RetryConfig[int]{MaxAttempts: 80, Backoff: er.BackoffFullJitter, MaxDelay: er.None, InitialDelay: 24 * time.Hour, Multiplier: 100}
	got, err = huge.Schedule(seq(0.5))
	require.NoError(t, err)
	assert.InDelta(t, float64(math.MaxInt64/2), float64(got[len(got)-1]), float64(time.Second), "half of a saturated full jitter")
}

// TestScheduleStaysInEachFormulasBounds is a property test: for each
// formula, 10,000 configs drawn at random (delays from 1ns to 24h or none,
// caps from 1ns to 24h or none, multipliers from 1 to 100, jitter ranges
// from 0 to 0.99 or none, draws at the ends of [0, 1) as well as inside)
// each list delays within their formula's bounds given the delay before,
// never negative and never over MaxDelay.
func TestScheduleStaysInEachFormulasBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 4))
	duration := func() time.Duration { // log-uniform over 1ns..24h, or None
		if r.IntN(8) == 0 {
			return er.None
		}
		return time.Duration(math.Exp(r.Float64() * math.Log(float64(24*time.Hour))))
	}
	draw := func() float64 { // the ends of [0, 1) often, to test the bounds themselves
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return math.Nextafter(1, 0)
		}
		return r.Float64()
	}
	for _, b := range allBackoffs {
		for i := range 10_000 {
			cfg := er.RetryConfig[int]{
				MaxAttempts: 2 + r.IntN(12), Backoff: b, InitialDelay: duration(), MaxDelay: duration(),
				Multiplier: 1 + r.Float64()*99, JitterRange: r.Float64() * 0.99,
			}
			if r.IntN(8) == 0 {
				cfg.JitterRange = er.None
			}
			got, err := cfg.Schedule(draw)
			require.NoError(t, err, "%v draw %d: %+v", b, i, cfg)
			var prev time.Duration
			for k, dl := range got {
				lo, hi := formulaBounds(cfg, k+1, prev)
				// Plain comparisons: this loop checks about 500,000
				// delays, and testify's reflection makes it 6 times slower.
				if capD := cfg.MaxDelay; capD > 0 && dl > capD || dl < 0 {
					t.Fatalf("%v draw %d, retry %d: %v outside [0, MaxDelay %v] (%+v)", b, i, k+1, dl, capD, cfg)
				}
				if !within(float64(dl), lo, hi) {
					t.Fatalf("%v draw %d, retry %d: %v outside [%v, %v] (%+v, previous %v)",
						b, i, k+1, dl, time.Duration(lo), time.Duration(hi), cfg, prev)
				}
				prev = dl
			}
		}
	}
}

// formulaBounds returns the least and greatest delay cfg's formula allows
// after attempt n, given the delay before it (zero before the first
// retry), in nanoseconds, cap included. It is written from the formulas
// in docs/retry.md, not from the package's code.
func formulaBounds(cfg er.RetryConfig[int], n int, prev time.Duration) (lo, hi float64) {
	if cfg.InitialDelay < 0 {
		return 0, 0
	}
	d, m, j := float64(cfg.InitialDelay), cfg.Multiplier, cfg.JitterRange
	limit := float64(math.MaxInt64)
	if cfg.MaxDelay > 0 {
		limit = float64(cfg.MaxDelay)
	}
	capped := func(v float64) float64 { return math.Min(v, limit) }
	e := d * math.Pow(m, float64(n-1))
	switch cfg.Backoff {
	case er.BackoffFixed:
		lo, hi = d, d
	case er.BackoffLinear:
		lo, hi = d*float64(n), d*float64(n)
	case er.BackoffExponential:
		lo, hi = e, e
	case er.BackoffJitter:
		if j < 0 {
			j = 0
		}
		lo, hi = e*(1-j), e*(1+j)
	case er.BackoffFullJitter:
		return 0, capped(e)
	case er.BackoffEqualJitter:
		return capped(e) / 2, capped(e)
	case er.BackoffDecorrelated:
		if prev == 0 {
			prev = cfg.InitialDelay
		}
		lo, hi = d, math.Max(d, 3*float64(prev))
	}
	return capped(lo), capped(hi)
}

// within reports whether v is in [lo, hi], give or take the rounding of
// float64 nanoseconds (a part in 2^-50, and the nanosecond a conversion
// truncates).
func within(v, lo, hi float64) bool {
	slack := func(x float64) float64 { return 1 + math.Abs(x)*0x1p-50 }
	return v >= lo-slack(lo) && v <= hi+slack(hi)
}

// TestWorkflowScheduleIsTheRetryItRuns: a workflow lists the delays of
// the retry it runs, attempts capped by MaxTotalAttempts, and none when
// RETRY does not take part.
func TestWorkflowScheduleIsTheRetryItRuns(t *testing.T) {
	retry := er.RetryConfig[int]{MaxAttempts: 5, Backoff: er.BackoffLinear, InitialDelay: time.Second}
	w := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Retry: &retry, MaxTotalAttempts: 3})
	want := []time.Duration{time.Second, 2 * time.Second}
	if diff := cmp.Diff(want, w.Schedule(nil)); diff != "" {
		t.Errorf("capped at 3 attempts (-want +got):\n%s", diff)
	}
	named := mustWorkflow(t, er.ErrorRecoveryConfig[int]{Primary: er.StrategyRetry})
	if diff := cmp.Diff(want, named.Schedule(nil)); diff != "" {
		t.Errorf("RETRY named without a config: want the defaults' (-want +got):\n%s", diff)
	}
	dl := er.DeadlineConfig{Timeout: time.Minute}
	assert.Empty(t, mustWorkflow(t, er.ErrorRecoveryConfig[int]{Deadline: &dl}).Schedule(nil), "no RETRY: want no delay")
}
