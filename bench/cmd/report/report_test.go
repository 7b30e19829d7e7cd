package main

import (
	"bytes"
	"io/fs"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleCSV is benchstat -format=csv output for two rows, cut short.
const sampleCSV = `,bench.txt,
,sec/op,CI
Toggle/statecraft-Instance-2,2.0e-08,3%
Toggle/looplab-Event-2,6.0e-07,5%
Toggle/stateless-Fire-2,2.4e-07,∞
RetryFirstSuccess/statecraft-RetryExecutor-2,1.3e-07,2%
RetryFirstSuccess/backoff-Retry-2,1.9e-07,4%
RetryFirstSuccess/retrygo5-RetrierDo-2,1.0e-08,1%
geomean,1e-07,

,bench.txt,
,allocs/op,CI
Toggle/statecraft-Instance-2,0,0%
Toggle/looplab-Event-2,5,0%
Toggle/stateless-Fire-2,0,0%
RetryFirstSuccess/statecraft-RetryExecutor-2,0,0%
RetryFirstSuccess/backoff-Retry-2,3,0%
RetryFirstSuccess/retrygo5-RetrierDo-2,0,0%
geomean,,
`

func TestParseBenchstatCSV(t *testing.T) {
	res, procs, err := parseBenchstatCSV(strings.NewReader(sampleCSV))
	require.NoError(t, err)
	assert.Equal(t, "2", procs, "procs")
	e := res.get("Toggle/statecraft-Instance")
	require.NotNil(t, e, "Toggle/statecraft-Instance")
	require.Equal(t, 20.0, e.ns.value, "Toggle/statecraft-Instance: ns")
	require.Equal(t, 0.03, e.ns.ci, "Toggle/statecraft-Instance: ns interval")
	require.Zero(t, e.allocs.value, "Toggle/statecraft-Instance: allocs")
	require.True(t, e.allocs.ok, "Toggle/statecraft-Instance: allocs parsed")
	s := res.get("Toggle/stateless-Fire")
	assert.True(t, math.IsNaN(s.ns.ci), "an infinite interval parsed as %v", s.ns.ci)
	assert.Equal(t, "stateless-Fire", res.index["Toggle"].bestPeer(nil).name, "best peer")
	assert.Equal(t, []string{"Toggle", "RetryFirstSuccess"}, res.sections(), "sections")
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, row, entry, procs string }{
		{"Toggle/statecraft-Instance-string-2", "Toggle", "statecraft-Instance-string", "2"},
		{"SharedBreaker/goroutines=64/statecraft-Call-8", "SharedBreaker/goroutines=64", "statecraft-Call", "8"},
		{"Toggle/statecraft-Run", "Toggle", "statecraft-Run", ""},
	} {
		row, entry, procs := splitName(c.in)
		assert.Equal(t, c.row, row, "splitName(%q): row", c.in)
		assert.Equal(t, c.entry, entry, "splitName(%q): entry", c.in)
		assert.Equal(t, c.procs, procs, "splitName(%q): procs", c.in)
	}
}

func TestBenchRegexp(t *testing.T) {
	assert.Equal(t, "^BenchmarkToggle$/^statecraft-Instance$", target{bench: "Toggle/statecraft-Instance"}.benchRegexp(), "benchRegexp")
}

func TestNotSlower(t *testing.T) {
	m := func(v, ci float64) measure { return measure{value: v, ci: ci, ok: true} }
	for _, c := range []struct {
		a, b measure
		want bool
	}{
		{m(10, 0.01), m(12, 0.01), true},        // faster
		{m(10.5, 0.05), m(10, 0.05), true},      // slower, within noise
		{m(20, 0.01), m(10, 0.01), false},       // slower
		{m(11, math.NaN()), m(10, 0.01), false}, // no interval: medians only
	} {
		assert.Equal(t, c.want, notSlower(c.a, c.b), "notSlower(%v, %v)", c.a, c.b)
	}
}

// TestWrite renders a report and checks its landmarks: the verdicts,
// a missed target's section with its note, the speed-up columns.
func TestWrite(t *testing.T) {
	res, procs, err := parseBenchstatCSV(strings.NewReader(sampleCSV))
	require.NoError(t, err)
	r := &report{res: res, procs: procs, machine: machine{cpu: "test CPU", cores: 2, goVersion: "go1.26", platform: "linux/amd64"},
		run: runInfo{count: 10, benchtime: "100ms", profileTime: "1s", date: "today", elapsed: "1m"}, benchstat: "table"}
	r.verdicts = check(res)
	for i := range r.verdicts {
		if r.verdicts[i].id == "retry" {
			r.verdicts[i].note, r.verdicts[i].profile = "the note", "the profile"
		}
	}
	res.instr = map[string]float64{"Toggle/statecraft-Instance": 96.6}
	r.instrNote = "counted elsewhere"
	var b bytes.Buffer
	r.write(&b)
	out := b.String()
	for _, want := range []string{
		"| CPU | test CPU |",
		"| `Instance.Fire`, 2-state toggle | `Toggle/statecraft-Instance` | ≤ 10.0 ns, 0 allocs | 20.0 ns ±3%, 0 allocs | 97 | **missed** | met |",
		"| retry, first attempt succeeds | `RetryFirstSuccess/statecraft-RetryExecutor` | ≤ 3× retrygo5-RetrierDo (10.0 ns): ≤ 30.0 ns, 0 allocs | 130 ns ±2%, 0 allocs | – | **missed** | met |",
		"| `Run` transition | `Toggle/statecraft-Run` | ≤ 5.00 ns, 0 allocs | not run | – | – | – |",
		"In this run they were counted elsewhere.",
		"### retry, first attempt succeeds: 130 ns, 0 allocs against ≤ 3× retrygo5-RetrierDo (10.0 ns): ≤ 30.0 ns, 0 allocs",
		"the note",
		"the profile",
		"| Toggle | Instance | 20.0 | 0 | stateless-Fire: 240 ns, 0 allocs | 12× | yes | – | – |",
		"| RetryFirstSuccess | RetryExecutor | 130 | 0 | backoff-Retry: 190 ns, 3 allocs | 1.5× | **no** | retrygo5-RetrierDo: 10.0 ns | **no** |",
	} {
		// True, not Contains: the report is printed once below, not per line.
		assert.True(t, strings.Contains(out, want), "the report lacks %q", want)
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestTimeGoal checks the three kinds of time goal DESIGN.md's table
// has (a bound, a ratio to a peer of the same run, both), and a goal
// whose peer did not run, which nothing can meet.
func TestTimeGoal(t *testing.T) {
	res, _, err := parseBenchstatCSV(strings.NewReader(sampleCSV))
	require.NoError(t, err)
	for _, c := range []struct {
		t     target
		ns    float64
		words string
	}{
		{target{bench: "Toggle/statecraft-Instance", maxNs: 10}, 10, "≤ 10.0 ns"},
		{target{bench: "RetryFirstSuccess/statecraft-RetryExecutor", peer: "retrygo5-RetrierDo", peerRatio: 3}, 30,
			"≤ 3× retrygo5-RetrierDo (10.0 ns): ≤ 30.0 ns"},
		{target{bench: "Toggle/statecraft-Instance", maxNs: 30, peer: "stateless-Fire", peerRatio: 1.0 / 5}, 30,
			"≤ 30.0 ns and ≤ 1/5 of stateless-Fire (240 ns): ≤ 30.0 ns"},
		{target{bench: "Toggle/statecraft-Instance", maxNs: 100, peer: "stateless-Fire", peerRatio: 1.0 / 5}, 48,
			"≤ 100 ns and ≤ 1/5 of stateless-Fire (240 ns): ≤ 48.0 ns"},
		{target{bench: "Toggle/statecraft-Instance", peer: "looplab-Event", peerRatio: 1}, 600,
			"≤ looplab-Event (600 ns): ≤ 600 ns"},
		{target{bench: "Toggle/statecraft-Instance", peer: "gobreaker-Execute", peerRatio: 1}, 0,
			"≤ gobreaker-Execute (not run)"},
		{target{bench: "Toggle/statecraft-Instance", maxNs: 10, peer: "gobreaker-Execute", peerRatio: 1}, 10,
			"≤ 10.0 ns and ≤ gobreaker-Execute (not run)"},
	} {
		ns, words := c.t.timeGoal(res)
		assert.Equal(t, c.ns, ns, "%+v: goal", c.t)
		assert.Equal(t, c.words, words, "%+v: words", c.t)
	}
	v := check(res)
	i := slices.IndexFunc(v, func(v verdict) bool { return v.id == "retry" })
	require.GreaterOrEqual(t, i, 0, "the retry target")
	assert.False(t, v[i].timeMet, "130 ns against a goal of 30 ns")
}

func TestExpand(t *testing.T) {
	res, _, err := parseBenchstatCSV(strings.NewReader(sampleCSV))
	require.NoError(t, err)
	assert.Equal(t, "20.0 ns, then (Floor/go-TimeNow not run)",
		expand("{{ns Toggle/statecraft-Instance}} ns, then {{ns Floor/go-TimeNow}}", res), "expand")
	assert.Equal(t, "(Toggle/statecraft-Instance's instructions not counted)",
		expand("{{instr Toggle/statecraft-Instance}}", res), "before counting")
	res.instr = map[string]float64{"Toggle/statecraft-Instance": 96.6}
	assert.Equal(t, "97 instructions in 20.0 ns",
		expand("{{instr Toggle/statecraft-Instance}} instructions in {{ns Toggle/statecraft-Instance}} ns", res), "after counting")
}

// TestNotes checks that every target has its explanation, ready for the
// run in which it is missed, and that each figure a note quotes names a
// row in the Row/entry form.
func TestNotes(t *testing.T) {
	for _, tg := range targets {
		_, err := notes.ReadFile("notes/" + tg.noteName() + ".md")
		assert.NoError(t, err, "target %s has no note", tg.id)
	}
	files, err := fs.Glob(notes, "notes/*.md")
	require.NoError(t, err)
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "notes/"), ".md")
		if rest, ok := strings.CutPrefix(name, "ratio-"); ok {
			assert.Contains(t, sectionOrder, rest, "%s explains a benchmark that does not exist", file)
		}
		b, err := notes.ReadFile(file)
		require.NoError(t, err)
		for _, m := range measured.FindAllStringSubmatch(string(b), -1) {
			kind, ref := m[1], m[2]
			row, entry, _ := splitName(ref)
			section, _, _ := strings.Cut(row, "/")
			assert.True(t, row != "" && strings.Contains(entry, "-") && slices.Contains(sectionOrder, section),
				"notes/%s.md: %q is not Benchmark/library-API of a known benchmark", name, ref)
			if kind == "instr" {
				assert.True(t, slices.ContainsFunc(targets, func(tg target) bool { return tg.bench == ref }),
					"notes/%s.md: instructions are counted for the targets' benchmarks only, not %q", name, ref)
			}
		}
	}
}

func TestTidyProfile(t *testing.T) {
	in := "File: bench.test\nBuild ID: 123\nType: cpu\nTime: today\n" +
		"     140ms 11.67% 11.67%      490ms 40.83%  github.com/statecraft/statecraft/engine.Run[go.shape.uint8,go.shape.uint8,go.shape.ada913a4].fire\n"
	want := "Type: cpu\n     140ms 11.67% 11.67%      490ms 40.83%  engine.Run[…].fire\n"
	assert.Equal(t, want, tidyProfile(in), "tidyProfile")
}

func TestParseIRefs(t *testing.T) {
	n, err := parseIRefs("==19103== Cachegrind, a cache and branch-prediction profiler\n==19103== \n==19103== I   refs:      3,069,719,589\n")
	require.NoError(t, err)
	assert.Equal(t, int64(3_069_719_589), n)
	n, err = parseIRefs("==7== I refs:      43\n")
	require.NoError(t, err)
	assert.Equal(t, int64(43), n)
	_, err = parseIRefs("valgrind: failed to start tool 'cachegrind'\n")
	assert.Error(t, err)
}

func TestIterationsAimAtTheBudgetWithinBounds(t *testing.T) {
	assert.Equal(t, 1_250_000, iterations(5, false), "a 5 ns operation")
	assert.Equal(t, 10_000, iterations(5000, false), "slow operations still run 10 000 times")
	assert.Equal(t, 2_000_000, iterations(0.5, false), "fast ones at most 2 000 000")
	assert.Equal(t, allocRuns, iterations(800, true), "an operation that allocates runs at least allocRuns times")
	assert.Equal(t, 1_250_000, iterations(5, true), "and more when the budget asks for more")
}
