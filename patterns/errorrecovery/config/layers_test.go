package config_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/adaptive"
	"github.com/statecraft/statecraft/patterns/errorrecovery/budget"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
	"github.com/statecraft/statecraft/patterns/errorrecovery/ratelimit"
)

// workflowOf parses a file and builds its workflow, closing what has a
// timer.
func workflowOf(t *testing.T, file string) *errorrecovery.Workflow[any] {
	t.Helper()
	cfg, err := config.Parse[any]("x.yaml", []byte(file))
	require.NoError(t, err)
	w, err := errorrecovery.NewWorkflow(cfg)
	require.NoError(t, err)
	if l := w.RateLimiter(); l != nil {
		t.Cleanup(l.Close)
	}
	if b := w.Budget(); b != nil {
		t.Cleanup(b.Close)
	}
	return w
}

// TestRateLimitFileAndLiteralAgree pins that a rate_limit section and a
// ratelimit.Config literal with the same settings mean the same limiter,
// compared by the config each resolves to.
func TestRateLimitFileAndLiteralAgree(t *testing.T) {
	for _, tt := range []struct {
		name, section string
		literal       ratelimit.Config
	}{
		{"empty", `{}`, ratelimit.Config{}},
		{"no settings", ``, ratelimit.Config{}},
		{"zeros", `{permits: 0, period: 0s, burst: 0, max_wait: 0s}`, ratelimit.Config{}},
		{"smooth", `{permits: 50, period: 10s, mode: smooth, burst: 5, max_wait: 100ms}`,
			ratelimit.Config{Permits: 50, Period: 10 * time.Second, Burst: 5, MaxWait: 100 * time.Millisecond}},
		{"bursty, any case", `{permits: 10, mode: BURSTY}`, ratelimit.Config{Permits: 10, Mode: ratelimit.ModeBursty}},
		{"no max wait", `{max_wait: -1s}`, ratelimit.Config{MaxWait: ratelimit.NoMaxWait}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := workflowOf(t, "primary: RATE_LIMIT\nrate_limit: "+tt.section+"\n")
			want, err := tt.literal.Resolve()
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(want, w.RateLimiter().Config()))
		})
	}
}

func TestBudgetFileAndLiteralAgree(t *testing.T) {
	for _, tt := range []struct {
		name, section string
		literal       budget.Config
	}{
		{"empty", `{}`, budget.Config{}},
		{"zeros", `{ratio: 0, min_per_second: 0, window: 0s}`, budget.Config{}},
		{"every field", `{ratio: 0.1, min_per_second: 3, window: 30s}`, budget.Config{Ratio: 0.1, MinPerSecond: 3, Window: 30 * time.Second}},
		{"none", `{ratio: -1, min_per_second: 5}`, budget.Config{Ratio: budget.NoRatio, MinPerSecond: 5}},
		{"no minimum", `{min_per_second: -1}`, budget.Config{MinPerSecond: budget.NoMinimum}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := workflowOf(t, "primary: RETRY\nbudget: "+tt.section+"\n")
			want, err := tt.literal.Resolve()
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(want, w.Budget().Config()))
		})
	}
}

func TestAdaptiveLimitFileAndLiteralAgree(t *testing.T) {
	for _, tt := range []struct {
		name, section string
		literal       adaptive.Config
	}{
		{"empty", `{}`, adaptive.Config{}},
		{"every field", `{initial_limit: 8, min_limit: 2, max_limit: 64, smoothing: 0.25, window: 500ms, min_samples: 4, probe_every: 10}`,
			adaptive.Config{InitialLimit: 8, MinLimit: 2, MaxLimit: 64, Smoothing: 0.25, Window: 500 * time.Millisecond, MinSamples: 4, ProbeEvery: 10}},
		{"bounds only: the initial limit follows them", `{max_limit: 10}`, adaptive.Config{MaxLimit: 10}},
		{"no probe", `{probe_every: -1}`, adaptive.Config{ProbeEvery: adaptive.NoProbe}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := workflowOf(t, "primary: ADAPTIVE_LIMIT\nadaptive_limit: "+tt.section+"\n")
			want, err := tt.literal.Resolve()
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(want, w.AdaptiveLimiter().Config()))
		})
	}
}

func TestLimitSectionsMakeTheirStrategiesTakePart(t *testing.T) {
	w := workflowOf(t, "rate_limit:\nbudget:\nadaptive_limit:\n")
	assert.NotNil(t, w.RateLimiter())
	assert.NotNil(t, w.Budget())
	assert.NotNil(t, w.AdaptiveLimiter())
	w = workflowOf(t, "primary: RETRY\nsecondary: [rate_limit, BUDGET, adaptive_limit]\n")
	assert.NotNil(t, w.RateLimiter())
	assert.NotNil(t, w.Budget())
	assert.NotNil(t, w.AdaptiveLimiter())
}

// TestLimitSectionProblemsNameTheKeyAndLine pins that each invalid value
// of the new sections is reported at its line and key, every section's
// first problem at once.
func TestLimitSectionProblemsNameTheKeyAndLine(t *testing.T) {
	file := `primary: RETRY
rate_limit:
  permits: -5
  mode: jumpy
budget:
  window: 2m
adaptive_limit:
  smoothing: 1.5
`
	_, err := config.Parse[any]("limits.yaml", []byte(file))
	var errs config.Errors
	require.True(t, errors.As(err, &errs), "%v", err)
	type place struct {
		Line  int
		Field string
	}
	var got []place
	for _, e := range errs {
		got = append(got, place{e.Line, e.Field})
		_, ok := errors.AsType[*errorrecovery.ConfigError](e)
		assert.True(t, ok, "%v: want a *ConfigError inside", e)
	}
	want := []place{{3, "rate_limit.permits"}, {4, "rate_limit.mode"}, {6, "budget.window"}, {8, "adaptive_limit.smoothing"}}
	assert.Empty(t, cmp.Diff(want, got), "%v", err)
	assert.Contains(t, err.Error(), "limits.yaml:4:")
}

func TestLimitSectionsRefuseUnknownKeys(t *testing.T) {
	_, err := config.Parse[any]("x.yaml", []byte("rate_limit:\n  permits_per_second: 5\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "max_wait", "the message lists the keys known in rate_limit")
	_, err = config.Parse[any]("x.yaml", []byte("rate_limit:\n  permits: 2.5\n"))
	_, ok := errors.AsType[*config.IntegerError](err)
	assert.True(t, ok, "%v", err)
}

func TestLimitErrorClassesMatchTheLimitersRejections(t *testing.T) {
	file := "primary: RATE_LIMIT\nrate_limit: {permits: 1, period: 1h}\nfallback: {value: 7, on: [rate_limited]}\n"
	cfg, err := config.Parse[int]("x.yaml", []byte(file))
	require.NoError(t, err)
	w, err := errorrecovery.NewWorkflow(cfg)
	require.NoError(t, err)
	t.Cleanup(w.RateLimiter().Close)
	one := func(context.Context) (int, error) { return 1, nil }
	r, err := w.ExecuteResult(context.Background(), one)
	require.NoError(t, err)
	assert.Equal(t, 1, r.Value, "the hour's permit")
	r, err = w.ExecuteResult(context.Background(), one)
	require.NoError(t, err)
	assert.Equal(t, errorrecovery.Result[int]{Value: 7, Source: errorrecovery.SourceFallbackValue}, r, "rate_limited triggers the fallback")

	for class, err := range map[string]error{
		"rate_limited":     &ratelimit.Error{Reason: ratelimit.ReasonLimited},
		"limit_exceeded":   &adaptive.LimitError{Limit: 1, InFlight: 1},
		"budget_exhausted": &errorrecovery.BudgetError{Attempts: 2, Budget: &budget.ExhaustedError{}},
		"exhausted":        &errorrecovery.BudgetError{Attempts: 2, Budget: &budget.ExhaustedError{}},
	} {
		m, ok := config.ErrorClass(class)
		require.True(t, ok, class)
		assert.True(t, m(err), "%s matches %T", class, err)
	}
	m, _ := config.ErrorClass("rate_limited")
	assert.False(t, m(&ratelimit.Error{Reason: ratelimit.ReasonCancelled, Err: context.Canceled}), "a cancelled wait is no rejection")
}
