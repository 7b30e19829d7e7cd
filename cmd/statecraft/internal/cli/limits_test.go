package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a config file for a test and returns its path.
func writeConfig(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runQuickly is runCmd that fails the test when the command takes more
// than a second.
func runQuickly(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	start := time.Now()
	code, stdout, stderr = runCmd(t, args...)
	if took := time.Since(start); took > time.Second {
		t.Errorf("statecraft %s took %v", strings.Join(args, " "), took)
	}
	return code, stdout, stderr
}

func TestSimulateRefusesAHugeTimeline(t *testing.T) {
	code, stdout, _ := runQuickly(t, "simulate", "-f", "testdata/configs/retry.yaml", "--timeline", "9223372036854775807")
	if code != ExitUsage || stdout != "" {
		t.Errorf("exit %d, stdout %q; want exit 2 and nothing on stdout", code, stdout)
	}
	code, _, _ = runQuickly(t, "simulate", "-f", "testdata/configs/retry.yaml", "--timeline", "1001")
	if code != ExitUsage {
		t.Errorf("--timeline 1001: exit %d, want 2", code)
	}
}

func TestSimulateOfARetryThatNeverEndsFinishes(t *testing.T) {
	// Refused by the config's bounds.
	huge := writeConfig(t, "primary: RETRY\nretry: {max_attempts: 9223372036854775807}\n")
	code, stdout, stderr := runQuickly(t, "simulate", "-f", huge, "--failure-rate", "1", "--quiet")
	if code != ExitFail || stdout != "" || !strings.Contains(stderr, "retry.max_attempts") {
		t.Errorf("max_attempts max int: exit %d, stdout %q, stderr %q; want exit 1 naming retry.max_attempts", code, stdout, stderr)
	}
	// Within the bounds, but longer than a run may go on in virtual time.
	long := writeConfig(t, "primary: RETRY\nretry: {max_attempts: 100000, backoff: FIXED, initial_delay: 1h, max_delay: 1h}\n")
	code, stdout, stderr = runQuickly(t, "simulate", "-f", long, "--failure-rate", "1", "--executions", "10", "--quiet")
	if code != ExitFail || stdout != "" || !strings.Contains(stderr, "virtual time") {
		t.Errorf("retrying for days: exit %d, stdout %q, stderr %q; want exit 1 and the overrun", code, stdout, stderr)
	}
}

func TestHostileConfigFilesFailFast(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	for _, cmd := range []string{"validate", "simulate"} {
		code, stdout, stderr := runQuickly(t, cmd, "-f", "/dev/zero")
		if code != ExitFail || stdout != "" || !strings.Contains(stderr, "/dev/zero") {
			t.Errorf("%s -f /dev/zero: exit %d, stdout %q, stderr %q; want exit 1 naming the file", cmd, code, stdout, stderr)
		}
	}
	deep := writeConfig(t, "primary: RETRY\nfallback: {value: "+strings.Repeat("[", 100_000)+"}\n")
	code, _, stderr := runQuickly(t, "validate", "-f", deep)
	if code != ExitFail || !strings.Contains(stderr, deep+":2:") {
		t.Errorf("a file 100,000 deep: exit %d, stderr %q; want exit 1 at line 2", code, stderr)
	}
}
