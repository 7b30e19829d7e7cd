package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statecraft/statecraft/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeConfig writes a config file for a test and returns its path.
func writeConfig(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	return path
}

// runQuickly is runCmd that fails the test when the command takes more
// than a second.
func runQuickly(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	start := time.Now()
	code, stdout, stderr = runCmd(t, args...)
	assert.LessOrEqual(t, time.Since(start), testutil.Quick, "statecraft %s took too long", strings.Join(args, " "))
	return code, stdout, stderr
}

func TestSimulateRefusesAHugeTimeline(t *testing.T) {
	code, stdout, _ := runQuickly(t, "simulate", "-f", "testdata/configs/retry.yaml", "--timeline", "9223372036854775807")
	assert.Equal(t, ExitUsage, code, "exit status")
	assert.Empty(t, stdout, "stdout")
	code, _, _ = runQuickly(t, "simulate", "-f", "testdata/configs/retry.yaml", "--timeline", "1001")
	assert.Equal(t, ExitUsage, code, "--timeline 1001: exit status")
}

func TestSimulateOfARetryThatNeverEndsFinishes(t *testing.T) {
	// Refused by the config's bounds.
	huge := writeConfig(t, "primary: RETRY\nretry: {max_attempts: 9223372036854775807}\n")
	code, stdout, stderr := runQuickly(t, "simulate", "-f", huge, "--failure-rate", "1", "--quiet")
	assert.Equal(t, ExitFail, code, "max_attempts max int: exit status")
	assert.Empty(t, stdout, "max_attempts max int: stdout")
	assert.Contains(t, stderr, "retry.max_attempts", "max_attempts max int: want stderr naming the field")
	// Within the bounds, but longer than a run may go on in virtual time.
	long := writeConfig(t, "primary: RETRY\nretry: {max_attempts: 100000, backoff: FIXED, initial_delay: 1h, max_delay: 1h}\n")
	code, stdout, stderr = runQuickly(t, "simulate", "-f", long, "--failure-rate", "1", "--executions", "10", "--quiet")
	assert.Equal(t, ExitFail, code, "retrying for days: exit status")
	assert.Empty(t, stdout, "retrying for days: stdout")
	assert.Contains(t, stderr, "virtual time", "retrying for days: want the overrun on stderr")
}

func TestHostileConfigFilesFailFast(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	for _, cmd := range []string{"validate", "simulate"} {
		code, stdout, stderr := runQuickly(t, cmd, "-f", "/dev/zero")
		assert.Equal(t, ExitFail, code, "%s -f /dev/zero: exit status", cmd)
		assert.Empty(t, stdout, "%s -f /dev/zero: stdout", cmd)
		assert.Contains(t, stderr, "/dev/zero", "%s -f /dev/zero: want stderr naming the file", cmd)
	}
	deep := writeConfig(t, "primary: RETRY\nfallback: {value: "+strings.Repeat("[", 100_000)+"}\n")
	code, _, stderr := runQuickly(t, "validate", "-f", deep)
	assert.Equal(t, ExitFail, code, "a file 100,000 deep: exit status")
	// True, not Contains: deep is 100 KB, too long to print.
	assert.True(t, strings.Contains(stderr, deep+":2:"), "a file 100,000 deep: stderr %.200q, want an error at line 2", stderr)
}
