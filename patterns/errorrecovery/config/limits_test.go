package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statecraft/statecraft/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// hostile are inputs that crashed Parse, or made it run out of memory or
// time, before the limits (issue 14). Each must be refused quickly, with
// an error. Most are 100 KB or less: the YAML lexer reads the whole file
// before the limits are checked, at about 1 µs a byte (5 under -race).
var hostile = map[string]string{
	"tag panics the decoder": "secondary: !x 0\n",
	"deep block":             indented(350),
	"deep sequence":          strings.Repeat("- ", 100_000) + "x\n",
	"deep flow":              "primary: RETRY\nfallback:\n  value: " + strings.Repeat("[", 100_000) + "\n",
	"deep flow mapping":      strings.Repeat("{a: ", 20_000) + "x" + strings.Repeat("}", 20_000) + "\n",
	"wide block mapping":     "primary: FALLBACK\nfallback:\n  value:\n" + wideBlock(8000),
	"wide flow mapping":      "{" + strings.Repeat("a: 1, ", 15_000) + "}\n",
	"long sequence":          "secondary:\n" + strings.Repeat("- RETRY\n", 12_000),
	"many entries":           manyEntries,
	"many documents":         strings.Repeat("--- x\n", 15_000),
	"chain of tags":          "primary: " + strings.Repeat("!t ", 30_000) + "RETRY\n",
	"chain of anchors":       "primary: " + strings.Repeat("&a ", 30_000) + "RETRY\n",
	"many aliases":           "primary: " + strings.Repeat("*a ", 30_000) + "\n",
}

func wideBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("    k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(": 1\n")
	}
	return b.String()
}

// manyEntries is 11 lists of MaxWidth items each: each is within
// MaxWidth, together they pass MaxEntries.
var manyEntries = "primary: FALLBACK\nfallback: {value: [" +
	strings.Repeat("["+strings.Repeat("1,", config.MaxWidth-1)+"1], ", 11) + "]}\n"

func TestHostileInputsAreRefusedQuickly(t *testing.T) {
	for name, src := range hostile {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := config.Parse[any]("hostile.yaml", []byte(src))
			if took := time.Since(start); took > testutil.Quick {
				t.Errorf("took %v", took)
			}
			e, ok := errors.AsType[*config.Error](err)
			if !ok {
				t.Fatalf("error %v (%T), want a *config.Error", err, err)
			}
			assert.Equal(t, "hostile.yaml", e.File, "the error names file")
		})
	}
}

func TestParserPanicIsAnError(t *testing.T) {
	_, err := config.Parse[any]("x.yaml", []byte("secondary: !x 0\n"))
	require.ErrorIs(t, err, config.ErrParser, "error")
	if e, ok := errors.AsType[*config.Error](err); !ok || e.File != "x.yaml" {
		t.Errorf("error %v does not name the file", err)
	}
}

func TestLimitsAreCheckedBeforeParsing(t *testing.T) {
	tests := []struct {
		name, src string
		limit     string
		line      int
	}{
		{"deep sequence", strings.Repeat("- ", 100_000) + "x\n", "depth", 1},
		{"deep indentation", indented(config.MaxDepth + 1), "depth", config.MaxDepth + 1},
		{"deep flow", "primary: RETRY\nfallback: {value: " + strings.Repeat("[", 100_000) + "}\n", "depth", 2},
		{"wide block mapping", "fallback:\n  value:\n" + wideBlock(config.MaxWidth+1), "width", config.MaxWidth + 3},
		{"wide flow sequence", "secondary: [" + strings.Repeat("RETRY, ", config.MaxWidth) + "RETRY]\n", "width", 1},
		{"many entries", manyEntries, "entries", 2},
		{"chain of tags", "primary: " + strings.Repeat("!t ", config.MaxDepth) + "RETRY\n", "depth", 1},
		{"two documents", "---\nprimary: RETRY\n---\nprimary: RETRY\n", "documents", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse[any]("x.yaml", []byte(tt.src))
			le, ok := errors.AsType[*config.LimitError](err)
			require.True(t, ok, "error %v", err)
			require.Equal(t, tt.limit, le.Limit, "error %v", err)
			e, _ := errors.AsType[*config.Error](err)
			if tt.line > 0 && e.Line != tt.line {
				t.Errorf("at line %d, want %d", e.Line, tt.line)
			}
		})
	}
}

// indented is n mappings nested by indentation, each one level deeper.
func indented(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "a:\n")
	}
	return b.String()
}

func TestWhatIsUnderTheLimitsParses(t *testing.T) {
	// The deepest, widest fallback value allowed decodes: each limit is
	// a bound, not a guess.
	value := "[" + strings.Repeat("[", config.MaxDepth-4) + "1" + strings.Repeat("]", config.MaxDepth-4) + ", " +
		strings.Repeat("2, ", config.MaxWidth-2) + "3]"
	src := "primary: FALLBACK\nfallback:\n  value: " + value + "\n"
	if _, err := config.Parse[any]("x.yaml", []byte(src)); err != nil {
		t.Fatalf("a value %d deep and %d wide: %v", config.MaxDepth-2, config.MaxWidth, err)
	}
	// Quoted strings, comments and block scalars hold no structure.
	src = "primary: FALLBACK # [[[[\nname: \"[[[[{{{{\"\nfallback:\n  value: |\n" +
		strings.Repeat("    - - - - [[[[ - - - -\n", config.MaxWidth+100) +
		"  ignore_deadline: false\n"
	if _, err := config.Parse[any]("x.yaml", []byte(src)); err != nil {
		t.Fatalf("brackets and dashes in strings, comments and block scalars: %v", err)
	}
}

func TestBigInputFailsFast(t *testing.T) {
	src := "primary: RETRY\nname: " + strings.Repeat("x", config.MaxFileSize) + "\n"
	start := time.Now()
	_, err := config.Parse[any]("big.yaml", []byte(src))
	if le, ok := errors.AsType[*config.LimitError](err); !ok || le.Limit != "size" {
		t.Fatalf("error %v, want a *LimitError of size", err)
	}
	if took := time.Since(start); took > testutil.Quick {
		t.Errorf("took %v", took)
	}
}

func TestReadFileRefusesLargeFilesWithoutReadingThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	f, err := os.Create(path)
	require.NoError(t, err)
	// A sparse file of 1 GB: reading it all would take seconds.
	require.NoError(t, f.Truncate(1<<30))
	f.Close()
	_, err = config.ReadFile[any](path)
	le, ok := errors.AsType[*config.LimitError](err)
	require.True(t, ok, "error %v", err)
	require.Equal(t, "size", le.Limit, "error %v", err)
	require.Equal(t, config.MaxFileSize, le.Max, "error %v", err)
	if e, ok := errors.AsType[*config.Error](err); !ok || e.File != path {
		t.Errorf("error %v does not name the file", err)
	}
}

func TestReadFileRefusesDevicesAndDirectories(t *testing.T) {
	for _, path := range []string{"/dev/zero", t.TempDir()} {
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		start := time.Now()
		_, err := config.ReadFile[any](path)
		assert.ErrorIs(t, err, config.ErrNotRegular, "%s: error %v, want ErrNotRegular", path, err)
		if took := time.Since(start); took > testutil.Quick {
			t.Errorf("%s: took %v", path, took)
		}
	}
}

func TestReadFileReadsAPipeUpToTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip(err)
	}
	write := func(data []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.Write(data) // stops at an error once the reader is gone
	}
	go write([]byte("primary: RETRY\n"))
	if _, err := config.ReadFile[any](path); err != nil {
		t.Errorf("a config through a pipe: %v", err)
	}
	go write(make([]byte, 4*config.MaxFileSize))
	_, err := config.ReadFile[any](path)
	if le, ok := errors.AsType[*config.LimitError](err); !ok || le.Limit != "size" {
		t.Errorf("an endless pipe: error %v, want a *LimitError of size", err)
	}
}

func TestIntegerSettingsRefuseOtherNumbers(t *testing.T) {
	tests := []struct {
		src, field string
		outOfRange bool
	}{
		{"primary: RETRY\nretry: {max_attempts: 2.9}\n", "retry.max_attempts", false},
		{"primary: RETRY\nretry:\n  max_attempts: 2.9\n", "retry.max_attempts", false},
		{"primary: RETRY\nhealth_window: 1.25e1\n", "health_window", false},
		{"primary: RETRY\nhealth_window: \"2.5\"\n", "health_window", false},
		{"primary: RETRY\nhealth_window: 1e19\n", "health_window", true},
		{"primary: RETRY\nhealth_window: 18446744073709551616\n", "health_window", true},
		{"primary: RETRY\nhealth_window: -9223372036854775809\n", "health_window", true},
		{"primary: RETRY\nhealth_window: .inf\n", "health_window", true},
		{"primary: RETRY\nhealth_window: .nan\n", "health_window", false},
		{"primary: BULKHEAD\nbulkhead: {max_queue_size: !!float 0.5}\n", "bulkhead.max_queue_size", false},
	}
	for _, tt := range tests {
		_, err := config.Parse[any]("x.yaml", []byte(tt.src))
		ie, ok := errors.AsType[*config.IntegerError](err)
		if !ok || ie.OutOfRange != tt.outOfRange {
			t.Errorf("%q: error %v, want an *IntegerError (out of range %v)", tt.src, err, tt.outOfRange)
			continue
		}
		if e, _ := errors.AsType[*config.Error](err); e.Field != tt.field || e.Line == 0 {
			t.Errorf("%q: the error is at %q line %d, want %s", tt.src, e.Field, e.Line, tt.field)
		}
	}
	// An integer written as a float is an integer.
	cfg, err := config.Parse[any]("x.yaml", []byte("primary: RETRY\nretry: {max_attempts: 3.0}\nhealth_window: 1e3\n"))
	if err != nil || cfg.Retry.MaxAttempts != 3 || cfg.HealthWindow != 1000 {
		t.Errorf("3.0 and 1e3: %v", err)
	}
}

func TestNumbersBeyondTheirBoundsAreRefused(t *testing.T) {
	tests := []struct {
		src, config, field string
	}{
		{"primary: RETRY\nhealth_window: 9223372036854775807\n", "ErrorRecoveryConfig", "HealthWindow"},
		{"primary: RETRY\nhealth_window: 1e11\n", "ErrorRecoveryConfig", "HealthWindow"},
		{"primary: RETRY\nretry: {max_attempts: 9223372036854775807}\n", "RetryConfig", "MaxAttempts"},
		{"primary: RETRY\nretry: {max_delay: 1000h}\n", "RetryConfig", "MaxDelay"},
		{"primary: BULKHEAD\nbulkhead: {max_queue_size: 1e9}\n", "bulkhead.Config", "MaxQueueSize"},
		{"primary: CIRCUIT_BREAKER\ncircuit_breaker: {window_size: 1e9}\n", "breaker.Config", "WindowSize"},
		{"primary: DEADLINE\ndeadline: {timeout: 2562047h}\n", "DeadlineConfig", "Timeout"},
	}
	for _, tt := range tests {
		start := time.Now()
		_, err := config.Parse[any]("x.yaml", []byte(tt.src))
		ce, ok := errors.AsType[*errorrecovery.ConfigError](err)
		if !ok || ce.Config != tt.config || ce.Field != tt.field {
			t.Errorf("%q: error %v, want a *ConfigError of %s.%s", tt.src, err, tt.config, tt.field)
		}
		if took := time.Since(start); took > testutil.Quick {
			t.Errorf("%q: took %v", tt.src, took)
		}
	}
}
