package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file run the statecraft binary itself, built once
// (without -race, whatever the tests run with) into a temporary directory.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary returns the path of the built statecraft binary.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "statecraft-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "statecraft")
		cmd := exec.Command(goTool, "build", "-o", binPath, "github.com/statecraft/statecraft/cmd/statecraft")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// exe runs the binary from the repository's root with env added to the
// environment and returns its exit status and output.
func exe(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		require.NoError(t, err)
	}
	return code, out.String(), errOut.String()
}

func TestBinaryExitStatuses(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string // in stderr; "" means stderr must be empty
	}{
		{[]string{"--version"}, 0, ""},
		{[]string{"render", "--help"}, 0, ""},
		{[]string{"validate", "-f", "testdata/configs/layered.yaml"}, 0, ""},
		{[]string{"validate", "-f", "testdata/configs/invalid/unknown-key.yaml"}, 1, `unknown-key.yaml:4:3: retry.max_attempts_per_call: unknown key`},
		{[]string{"validate", "-f", "testdata/configs/invalid/bad-values.yaml"}, 1, "7 problems"},
		{[]string{"validate", "-f", "no/such/file.yaml"}, 1, "no such file"},
		{[]string{"validate"}, 2, "-f CONFIG is required"},
		{[]string{"simulate", "-f", "testdata/configs/layered.yaml", "--latency", "soon"}, 2, `invalid value "soon" for flag -latency`},
		{[]string{"render", "--format", "png"}, 2, `unknown format "png"`},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{nil, 2, "no command given"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := exe(t, nil, tt.args...)
			assert.Equal(t, tt.code, code, "exit status (stderr %q)", stderr)
			if tt.stderr == "" {
				assert.Empty(t, stderr, "stderr")
			} else {
				assert.Contains(t, stderr, tt.stderr, "stderr")
			}
		})
	}
}

func TestBinaryOutputMatchesGoldens(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"render/breaker.dot", []string{"render", "breaker"}},
		{"render/workflow.mmd", []string{"render", "workflow", "--format", "mermaid"}},
		{"simulate/layered-seed7.txt", []string{"simulate", "-f", "testdata/configs/layered.yaml", "--seed", "7",
			"--executions", "1800", "--duration", "30m", "--outage", "10m-15m", "--timeline", "6"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, stdout, stderr := exe(t, nil, tt.args...)
			require.Zero(t, code, "exit status (stderr %q)", stderr)
			require.Empty(t, stderr, "stderr")
			want, err := os.ReadFile(filepath.Join(goldenDir, tt.golden))
			require.NoError(t, err)
			assert.Equal(t, string(want), stdout, "binary output differs from %s", tt.golden)
		})
	}
}

// TestBinaryDemoIsDeterministic runs the README's first command twice:
// the same seed must print the same report, the committed golden one. How
// fast it runs is BenchmarkDemo's business, not a wall-clock bound here.
func TestBinaryDemoIsDeterministic(t *testing.T) {
	var outs []string
	for range 2 {
		code, stdout, stderr := exe(t, nil, "demo")
		require.Zero(t, code, "exit status (stderr %q)", stderr)
		require.Empty(t, stderr, "stderr")
		outs = append(outs, stdout)
	}
	assert.Equal(t, outs[0], outs[1], "two runs of the demo printed different reports")
	want, err := os.ReadFile(filepath.Join(goldenDir, "demo.txt"))
	require.NoError(t, err)
	assert.Equal(t, string(want), outs[0], "the binary's demo differs from testdata/demo.txt")
}

func TestBinaryRendersSVGWithoutGraphviz(t *testing.T) {
	// An empty PATH: no dot program to fall back on.
	code, stdout, stderr := exe(t, []string{"PATH="}, "render", "workflow", "--format", "svg")
	require.Zero(t, code, "exit status (stderr %q)", stderr)
	require.Empty(t, stderr, "stderr")
	for _, want := range []string{"<svg", "CheckCircuit", "circuit breaker", "</svg>"} {
		assert.Contains(t, stdout, want, "SVG")
	}
	svg := filepath.Join(t.TempDir(), "run.svg")
	code, _, stderr = exe(t, []string{"PATH="}, "demo", "--svg", svg)
	require.Zero(t, code, "demo --svg: exit status (stderr %q)", stderr)
	require.Empty(t, stderr, "demo --svg: stderr")
	data, err := os.ReadFile(svg)
	if assert.NoError(t, err, "demo --svg wrote no SVG") {
		assert.True(t, bytes.Contains(data, []byte("begin ×3600")), "demo --svg wrote no SVG with the run's counts")
	}
}
