package main

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The example starts a server, client connections and a breaker timer:
// none may outlive run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// line is one call line of the output.
type line struct {
	outcome  string
	attempts int
	source   string
	status   string
	breaker  string
	server   string
	body     string
}

var callLine = regexp.MustCompile(`^call +(\d+): (.+?) +attempts=(\d+) source=(\w+) +status=(\S+) +breaker=(\w+) +server=\[(.*)\] body=(".*")$`)

// parse returns the call lines of out by call number.
func parse(t *testing.T, out string) map[int]line {
	t.Helper()
	calls := map[int]line{}
	for _, s := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(s, "call ") {
			continue
		}
		m := callLine.FindStringSubmatch(s)
		require.NotNil(t, m, "malformed call line %q", s)
		n, _ := strconv.Atoi(m[1])
		attempts, _ := strconv.Atoi(m[3])
		body, err := strconv.Unquote(m[8])
		require.NoErrorf(t, err, "body of %q", s)
		calls[n] = line{m[2], attempts, m[4], m[5], m[6], m[7], body}
	}
	return calls
}

func runOutput(t *testing.T) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(&out), "run")
	return out.String()
}

func TestRunFollowsTheScript(t *testing.T) {
	out := runOutput(t)
	calls := parse(t, out)
	want := []line{
		{"retries exhausted", 3, "fallback", "503", "Closed", "503 503 503", "no quote yet"},
		{"ok", 1, "network", "200", "Closed", "200", "quote #4"},
		{"ok after retries", 2, "network", "200", "Closed", "503 200", "quote #6"},
		{"ok after retries", 2, "network", "200", "Closed", "slow 200", "quote #8"},
		{"ok after retries", 2, "network", "200", "Closed", "drop 200", "quote #10"},
		{"retries exhausted", 3, "cache", "503", "Closed", "503 503 503", "quote #10"},
		{"breaker opened", 2, "cache", "-", "Open", "503 503", "quote #10"},
		{"rejected: breaker open", 0, "cache", "-", "Open", "", "quote #10"},
		{"rejected: breaker open", 0, "cache", "-", "Open", "", "quote #10"},
		{"ok", 1, "network", "200", "Closed", "200", "quote #16"},
		{"ok", 1, "network", "200", "Closed", "200", "quote #17"},
	}
	assert.Len(t, calls, len(want), "call lines of\n%s", out)
	for i, w := range want {
		if got, ok := calls[i+1]; !ok {
			t.Errorf("no line for call %d", i+1)
		} else if got != w {
			t.Errorf("call %d:\n got %+v\nwant %+v", i+1, got, w)
		}
	}
	if !strings.Contains(out, "transport: 11 round trips, 17 requests, 9 retries, 3 rejected by the breaker\n") {
		t.Errorf("summary line missing or different:\n%s", out)
	}
}

// TestRunShowsEachPattern checks the properties the example is there to
// show, independently of the exact script.
func TestRunShowsEachPattern(t *testing.T) {
	calls := parse(t, runOutput(t))
	var retried, cachedWhileOpen, recovered bool
	opened := 0
	for n := 1; n <= len(calls); n++ {
		c := calls[n]
		if c.source == "network" && c.attempts > 1 {
			retried = true
		}
		if c.breaker == "Open" && c.source == "cache" && opened == 0 {
			opened = n
		}
		if c.attempts == 0 && c.source == "cache" {
			cachedWhileOpen = true
		}
		if opened > 0 && n > opened && c.source == "network" && c.breaker == "Closed" {
			recovered = true
		}
	}
	if !retried {
		t.Error("no call succeeded after a retry")
	}
	if opened == 0 || !cachedWhileOpen {
		t.Error("no call was answered from the cache while the breaker was open")
	}
	if !recovered {
		t.Error("the breaker did not close again after opening")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunReportsWriteError(t *testing.T) {
	require.Error(t, run(failingWriter{}), "run to a failing writer: got nil error")
}
