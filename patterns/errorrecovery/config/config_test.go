package config_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/breaker"
	"github.com/statecraft/statecraft/patterns/errorrecovery/bulkhead"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

const samples = "../../../testdata/configs/"

func TestSampleConfigsParseAndBuild(t *testing.T) {
	files, _ := filepath.Glob(samples + "*.yaml")
	json, _ := filepath.Glob(samples + "*.json")
	files = append(files, json...)
	if len(files) < 4 {
		t.Fatalf("found %d sample configs, want at least 4", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.ReadFile[any](f)
			require.NoError(t, err)
			if _, err := errorrecovery.NewWorkflow(cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInvalidConfigsNameTheKeyAndLine(t *testing.T) {
	tests := []struct {
		file string
		want []string // "line:col: key: text" prefixes, in order
	}{
		{"unknown-key.yaml", []string{`4:3: retry.max_attempts_per_call: unknown key "max_attempts_per_call" (known here: max_attempts,`}},
		{"unknown-key.json", []string{`3:32: retry.backof: unknown key "backof"`}},
		{"wrong-type.yaml", []string{`3:17: retry.max_attempts: want an integer, got "three"`}},
		{"bad-values.yaml", []string{
			`3:30: secondary[1]: unknown strategy "RETRYING"`,
			`5:17: retry.max_attempts: must not be negative`,
			`6:18: retry.initial_delay: want a Go duration such as 250ms or 1m30s, got "5"`,
			`7:12: retry.backoff: unknown backoff "QUADRATIC"`,
			`8:23: retry.retry_on[1]: unknown error class "teapot"`,
			`10:22: circuit_breaker.failure_threshold: exceeds window_size (10)`,
			`13:19: bulkhead.max_concurrent: must not be negative (zero means 10) (got -1)`,
		}},
		{"conflict.yaml", []string{`4:12: deadline.timeout: deadline.timeout must be zero when global_timeout is set`}},
		{"compensate.yaml", []string{`3:23: compensate.compensation_order: the name is listed twice`}},
		{"fallback-missing.yaml", []string{`2:13: secondary[0]: FALLBACK takes part but the file has no fallback section`}},
		{"syntax.yaml", []string{`4:2: `}},
		{"empty.yaml", []string{`the file is empty`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := samples + "invalid/" + tt.file
			_, err := config.ReadFile[any](path)
			es, ok := errors.AsType[config.Errors](err)
			if !ok {
				t.Fatalf("error %v (%T), want config.Errors", err, err)
			}
			require.Len(t, es, len(tt.want), "problems: %v", err)
			for i, e := range es {
				got := strings.TrimPrefix(e.Error(), path+":")
				if tt.file == "empty.yaml" {
					got = strings.TrimPrefix(e.Error(), path+": ")
				}
				if !strings.HasPrefix(got, tt.want[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got, tt.want[i])
				}
				assert.Equal(t, path, e.File, "problem %d names file", i)
			}
		})
	}
}

func TestErrorsUnwrapToThePackagesErrors(t *testing.T) {
	_, err := config.Parse[any]("x.yaml", []byte("primary: RETRY\nretry: {max_attempts: -1}\n"))
	if ce, ok := errors.AsType[*errorrecovery.ConfigError](err); !ok || ce.Field != "MaxAttempts" {
		t.Errorf("errors.As *ConfigError: %v, %v", ce, ok)
	}
	e, ok := errors.AsType[*config.Error](err)
	if !ok || e.Line != 2 || e.Field != "retry.max_attempts" {
		t.Errorf("errors.As *config.Error: %+v, %v", e, ok)
	}
	_, err = config.Parse[any]("x.yaml", []byte("primary: RETRY\nretry: {retry_on: [nope]}\n"))
	if ue, ok := errors.AsType[*config.UnknownClassError](err); !ok || ue.Name != "nope" {
		t.Errorf("errors.As *UnknownClassError: %v, %v", ue, ok)
	}
}

func TestOmittedSettingsKeepTheirDefaults(t *testing.T) {
	cfg, err := config.Parse[any]("x.yaml", []byte("primary: RETRY\nretry:\n  max_attempts: 7\ncircuit_breaker:\nbulkhead: {}\n"))
	require.NoError(t, err)
	want := errorrecovery.DefaultRetryConfig[any]()
	want.MaxAttempts = 7
	if got := cfg.Retry; got.MaxAttempts != 7 || got.InitialDelay != want.InitialDelay || got.Backoff != want.Backoff || got.Multiplier != want.Multiplier {
		t.Errorf("retry %+v, want the defaults but max_attempts 7", *got)
	}
	if cfg.Breaker == nil || cfg.Breaker.OpenTimeout != breaker.DefaultConfig().OpenTimeout {
		t.Errorf("an empty circuit_breaker section: %+v, want the defaults", cfg.Breaker)
	}
	if cfg.Bulkhead == nil || *cfg.Bulkhead != bulkhead.DefaultConfig() {
		t.Errorf("bulkhead: {} gave %+v, want the defaults", cfg.Bulkhead)
	}
	if cfg.Cache != nil || cfg.Fallback != nil || cfg.Deadline != nil {
		t.Errorf("sections left out were set: cache %v, fallback %v, deadline %v", cfg.Cache, cfg.Fallback, cfg.Deadline)
	}
}

func TestZeroValuesAreExpressible(t *testing.T) {
	cfg, err := config.Parse[any]("x.yaml", []byte(`
primary: RETRY
retry: {initial_delay: 0s, jitter_range: 0, backoff: JITTER}
circuit_breaker: {window_duration: -1s, open_timeout: -1s}
bulkhead: {max_queue_size: -1, queue_timeout: -1s}
metrics_enabled: false
`))
	require.NoError(t, err)
	if cfg.Retry.InitialDelay != 0 || cfg.Retry.JitterRange != 0 || cfg.Breaker.WindowDuration != -time.Second ||
		cfg.Breaker.OpenTimeout != -time.Second || cfg.Bulkhead.MaxQueueSize >= 0 || cfg.Bulkhead.QueueTimeout >= 0 || !cfg.MetricsDisabled {
		t.Errorf("off values not kept: retry %+v, breaker %+v, bulkhead %+v, metrics disabled %v", *cfg.Retry, *cfg.Breaker, *cfg.Bulkhead, cfg.MetricsDisabled)
	}
}

func TestNameNamesTheMachine(t *testing.T) {
	cfg, err := config.Parse[any]("x.yaml", []byte("name: quotes\nprimary: RETRY\n"))
	require.NoError(t, err)
	w, err := errorrecovery.NewWorkflow(cfg)
	require.NoError(t, err)
	assert.Equal(t, "quotes", w.Definition().Name(), "machine name")
}

func TestGlobalTimeoutReplacesTheDeadlineDefault(t *testing.T) {
	cfg, err := config.Parse[any]("x.yaml", []byte("primary: DEADLINE\nglobal_timeout: 3s\ndeadline: {attempt_timeout: 1s}\n"))
	require.NoError(t, err)
	if cfg.GlobalTimeout != 3*time.Second || cfg.Deadline.Timeout != 0 || cfg.Deadline.AttemptTimeout != time.Second {
		t.Errorf("global %v, deadline %+v", cfg.GlobalTimeout, *cfg.Deadline)
	}
}

func TestYAMLAndJSONGiveTheSameConfig(t *testing.T) {
	y, err := config.Parse[any]("a.yaml", []byte("primary: retry\nsecondary: [fallback]\nretry:\n  max_attempts: 4\n  backoff: linear\nfallback:\n  value: {ok: true}\n"))
	require.NoError(t, err)
	j, err := config.Parse[any]("a.json", []byte(`{"primary": "RETRY", "secondary": ["FALLBACK"], "retry": {"max_attempts": 4, "backoff": "LINEAR"}, "fallback": {"value": {"ok": true}}}`))
	require.NoError(t, err)
	// The fields both files set; the rest keep their defaults.
	pick := func(c errorrecovery.ErrorRecoveryConfig[any]) []any {
		return []any{c.Primary, c.Secondary, c.Retry.Backoff, c.Retry.MaxAttempts, c.Fallback.Value}
	}
	if diff := cmp.Diff(pick(y), pick(j)); diff != "" {
		t.Errorf("YAML and JSON differ (-yaml +json):\n%s", diff)
	}
}

func TestFallbackValueDecodesIntoTheResultType(t *testing.T) {
	cfg, err := config.Parse[int]("x.yaml", []byte("primary: FALLBACK\nfallback: {value: 42}\n"))
	if err != nil || !cfg.Fallback.HasValue || cfg.Fallback.Value != 42 {
		t.Fatalf("Parse[int]: %+v, %v", cfg.Fallback, err)
	}
	zero, err := config.Parse[string]("x.yaml", []byte("primary: FALLBACK\nfallback: {value: \"\"}\n"))
	if err != nil || !zero.Fallback.HasValue || zero.Fallback.Value != "" {
		t.Fatalf("an empty fallback value: %+v, %v", zero.Fallback, err)
	}
	_, err = config.Parse[int]("x.yaml", []byte("primary: FALLBACK\nfallback:\n  value: [1, 2]\n"))
	if e, ok := errors.AsType[*config.Error](err); !ok || e.Field != "fallback.value" || e.Line != 3 {
		t.Errorf("a list as an int fallback: %v", err)
	}
}

func TestBreakerIgnoreListsClassesThatDoNotCount(t *testing.T) {
	cfg, err := config.Parse[any]("x.yaml", []byte("primary: CIRCUIT_BREAKER\ncircuit_breaker: {ignore: [status429]}\n"))
	require.NoError(t, err)
	assert.Equal(t, breaker.OutcomeIgnore, cfg.Breaker.Classify(statusError(429)), "429")
	assert.Equal(t, breaker.OutcomeFailure, cfg.Breaker.Classify(statusError(503)), "503")
}

type statusError int

func (e statusError) Error() string   { return fmt.Sprintf("status %d", int(e)) }
func (e statusError) StatusCode() int { return int(e) }

type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }
func (timeoutError) Timeout() bool { return true }

func TestBuiltInErrorClasses(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		class string
		match []error
		miss  []error
	}{
		{"timeout", []error{context.DeadlineExceeded, timeoutError{}, fmt.Errorf("wrapped: %w", context.DeadlineExceeded)}, []error{errors.New("x"), context.Canceled}},
		{"connection", []error{refused, syscall.ECONNRESET, io.ErrUnexpectedEOF, net.ErrClosed}, []error{errors.New("x"), statusError(503)}},
		{"status5xx", []error{statusError(500), statusError(503), fmt.Errorf("w: %w", statusError(599))}, []error{statusError(429), statusError(404), errors.New("x")}},
		{"status429", []error{statusError(429)}, []error{statusError(503)}},
		{"canceled", []error{context.Canceled}, []error{context.DeadlineExceeded}},
		{"circuit_open", []error{breaker.ErrOpen, breaker.ErrTooManyTrials}, []error{bulkhead.ErrFull}},
		{"bulkhead_rejected", []error{bulkhead.ErrFull, bulkhead.ErrQueueTimeout}, []error{breaker.ErrOpen}},
		{"exhausted", []error{&errorrecovery.ExhaustedError{Attempts: 3, Last: errors.New("x")}}, []error{errors.New("x")}},
	}
	for _, tt := range tests {
		m, ok := config.ErrorClass(strings.ToUpper(tt.class)) // names ignore case
		if !ok {
			t.Errorf("class %s is not registered", tt.class)
			continue
		}
		for _, err := range tt.match {
			if !m(err) {
				t.Errorf("%s does not match %v", tt.class, err)
			}
		}
		for _, err := range tt.miss {
			if m(err) {
				t.Errorf("%s matches %v", tt.class, err)
			}
		}
	}
}

// registerTeapot registers the test's class once per test binary, so the
// test can run more than once (-count) in one process.
var registerTeapot = sync.OnceFunc(func() {
	config.RegisterErrorClass("test_teapot", errorrecovery.ErrorFunc(func(err error) bool { return err.Error() == "teapot" }))
})

func TestRegisterErrorClass(t *testing.T) {
	registerTeapot()
	cfg, err := config.Parse[any]("x.yaml", []byte("primary: RETRY\nretry: {retry_on: [Test_Teapot]}\n"))
	require.NoError(t, err)
	if len(cfg.Retry.RetryOn) != 1 || !cfg.Retry.RetryOn[0](errors.New("teapot")) {
		t.Errorf("retry_on: %v", cfg.Retry.RetryOn)
	}
	for name, m := range map[string]errorrecovery.ErrorMatcher{"": errorrecovery.ErrorIs(io.EOF), "test_x": nil, "TIMEOUT": errorrecovery.ErrorIs(io.EOF)} {
		func() {
			defer func() {
				assert.NotNil(t, recover(), "RegisterErrorClass(%q, %v) did not panic", name, m != nil)
			}()
			config.RegisterErrorClass(name, m)
		}()
	}
}
