package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
	"github.com/statecraft/statecraft/patterns/errorrecovery/config"
)

// fuzzSeeds are the inputs of issue 14 that crashed Parse or made it run
// out of memory or time, and inputs at the limits and the number rules,
// at sizes that keep each run of the fuzzer fast: a seed of kilobytes
// takes the fuzzer seconds to minimize each time it finds a mutation of
// it interesting.
var fuzzSeeds = []string{
	"secondary: !x 0\n",
	"primary: !x 0\n",
	"retry: !!map 0\n",
	"primary: RETRY\nretry: {max_attempts: 2.9}\n",
	"primary: RETRY\nretry: {max_attempts: 3.0}\n",
	"primary: RETRY\nretry: {max_attempts: 9223372036854775807}\n",
	"primary: RETRY\nretry: {max_attempts: 18446744073709551616}\n",
	"primary: RETRY\nhealth_window: 9223372036854775807\n",
	"primary: RETRY\nhealth_window: 1e11\n",
	"primary: RETRY\nhealth_window: 1e19\n",
	"primary: RETRY\nhealth_window: .inf\nalert_threshold: .nan\n",
	"primary: BULKHEAD\nbulkhead: {max_concurrent: 0x7fffffff, max_queue_size: -1e3}\n",
	"primary: CIRCUIT_BREAKER\ncircuit_breaker: {window_size: 1048577, open_timeout: 2562047h}\n",
	"primary: DEADLINE\nglobal_timeout: 25h\n",
	strings.Repeat("- ", 300) + "x\n",
	"fallback: {value: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "}\n",
	strings.Repeat("{a: ", 100) + "x" + strings.Repeat("}", 100) + "\n",
	nested(config.MaxDepth + 1),
	"primary: FALLBACK\nfallback:\n  value:\n" + wideBlock(50),
	"secondary: [" + strings.Repeat("RETRY, ", 50) + "RETRY]\n",
	"primary: FALLBACK\nfallback:\n  value: |\n    - - - [[[\n  ignore_deadline: false\n",
	"name: \"[[[[\\\" {{\"\nprimary: 'it''s' # [[[\n",
	"--- [[[[\n",
	"a: &a [x, x]\nb: [*a, *a]\n",
	"primary: " + strings.Repeat("!t &a ", 40) + "RETRY\n",
	strings.Repeat("--- x\n", 3),
	"0: !t\n0: !t\n0: !t\n0:\n",
	"-\n0:\n-\n0:\n-\n0:\n",
	"0: ! &\n0\n0:\n",
	"? \n''00:\n",
	"{0: \"\": 0, 0}\n",
	"[- - 0, a: b]\n",
	"primary: FALLBACK\nfallback: {value: &v [1, 2]}\nname: *v\n",
}

// nested is n mappings nested by indentation, one space a level.
func nested(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

// FuzzParseConfig checks that Parse never panics, returns its problems as
// Errors, and accepts only configs that build.
func FuzzParseConfig(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, pattern := range []string{"*.yaml", "*.json", "invalid/*"} {
		files, _ := filepath.Glob(samples + pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse[any]("fuzz.yaml", data)
		if err != nil {
			if _, ok := errors.AsType[config.Errors](err); !ok {
				t.Fatalf("Parse returned %T, want config.Errors: %v", err, err)
			}
			return
		}
		w, err := errorrecovery.NewWorkflow(cfg)
		require.NoError(t, err, "Parse accepted a config NewWorkflow refuses:\n%q", data)
		if b := w.Breaker(); b != nil {
			b.Close()
		}
		sections := map[string]error{}
		if cfg.Retry != nil {
			sections["retry"] = cfg.Retry.Validate()
		}
		if cfg.Breaker != nil {
			sections["circuit_breaker"] = cfg.Breaker.Validate()
		}
		if cfg.Bulkhead != nil {
			sections["bulkhead"] = cfg.Bulkhead.Validate()
		}
		if cfg.Deadline != nil {
			sections["deadline"] = cfg.Deadline.Validate()
		}
		for name, err := range sections {
			require.NoError(t, err, "Parse accepted a %s section that does not validate:\n%q", name, data)
		}
	})
}
