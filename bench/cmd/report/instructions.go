package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Instructions per operation, counted by valgrind's cachegrind: on the
// shared virtual machines this project runs on, ns/op of one binary moves
// by a fifth or more from run to run, while the instructions an operation
// executes do not, so a change to a hot path shows in them when its time
// is lost in the noise. They are not time (a cache miss or a contended
// line costs no instruction), so the targets stay in ns; the column says
// where a missed goal's instructions go down or up from one run to the
// next.

// instrBudget is about how many instructions the two counted runs of a
// benchmark differ by: enough that the startup each run repeats (the same
// in both, and subtracted out) and the runtime's background work are
// small beside it.
const instrBudget = 25e6

// instrCounter counts the instructions per operation of the bench
// package's benchmarks, run one at a time on one processor under
// cachegrind.
type instrCounter struct {
	valgrind string
	bin      string // the bench package's test binary
}

// newInstrCounter builds the bench package's test binary into dir. It
// returns errNoValgrind when valgrind is not installed.
func newInstrCounter(dir string) (*instrCounter, error) {
	vg, err := exec.LookPath("valgrind")
	if err != nil {
		return nil, errNoValgrind
	}
	bin := filepath.Join(dir, "instr.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Stderr = os.Stderr
	fmt.Fprintln(os.Stderr, "report:", strings.Join(build.Args, " "))
	if err := build.Run(); err != nil {
		return nil, err
	}
	return &instrCounter{valgrind: vg, bin: bin}, nil
}

var errNoValgrind = errors.New("valgrind is not installed (Debian: apt-get install valgrind)")

// perOp counts t's instructions per operation: it runs the benchmark for
// n and for 2n iterations (n from its time per operation, nsPerOp) and
// divides the difference by n, which takes out what both runs do once.
// An operation that allocates runs at least allocRuns times, so that the
// collections its allocations cause are many in the difference and not
// one more or one less.
func (c *instrCounter) perOp(t target, nsPerOp float64, allocates bool) (float64, error) {
	n := iterations(nsPerOp, allocates)
	short, err := c.count(t, n)
	if err != nil {
		return 0, err
	}
	long, err := c.count(t, 2*n)
	if err != nil {
		return 0, err
	}
	return float64(long-short) / float64(n), nil
}

// allocRuns is the fewest iterations counted of an operation that
// allocates.
const allocRuns = 100_000

// iterations is how many operations make about instrBudget instructions,
// guessing four instructions per ns, within [10 000, 2 000 000], and at
// least allocRuns for an operation that allocates.
func iterations(nsPerOp float64, allocates bool) int {
	n := int(instrBudget / (4 * max(nsPerOp, 1)))
	n = min(max(n, 10_000), 2_000_000)
	if allocates {
		n = max(n, allocRuns)
	}
	return n
}

// count runs t's benchmark for n iterations under cachegrind and returns
// the instructions the whole process executed. GOMAXPROCS is 1: with more,
// an idle processor's scheduler spins, and valgrind counts that too.
func (c *instrCounter) count(t target, n int) (int64, error) {
	cmd := exec.Command(c.valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
		c.bin, "-test.run=NONE", "-test.bench="+t.benchRegexp(), "-test.benchtime="+strconv.Itoa(n)+"x",
		"-test.count=1", "-test.cpu=1")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return parseIRefs(string(out))
}

// iRefs matches cachegrind's summary line of instructions executed,
// "==123== I   refs:      3,069,719,589" (older versions:
// "I refs:").
var iRefs = regexp.MustCompile(`(?m)^==\d+== I\s+refs:\s+([\d,]+)\s*$`)

// parseIRefs reads the instruction count from cachegrind's output.
func parseIRefs(out string) (int64, error) {
	m := iRefs.FindStringSubmatch(out)
	if m == nil {
		return 0, errors.New("no \"I refs\" line in cachegrind's output")
	}
	return strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
}
