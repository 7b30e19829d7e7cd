package main

import "strconv"

// target is a row of DESIGN.md's "Performance targets": the statecraft
// benchmark entry that measures it and the time and allocations it may
// take. Allocation counts are requirements; times are goals, and a missed
// one is explained with a profile (notes/<note>.md). A time goal is an
// absolute bound, a bound relative to a peer measured in the same run
// (DESIGN.md words some rows as ratios), or both, the tighter applying.
type target struct {
	id        string  // names the profile, and the note unless note is set
	path      string  // as DESIGN.md words it
	bench     string  // Row/entry in the results
	maxNs     float64 // the absolute time goal; 0 when only the peer sets one
	peer      string  // an entry of the same row that the goal is relative to, or ""
	peerRatio float64 // the goal is at most peerRatio times the peer's time
	maxAllocs float64 // the allocation requirement
	note      string  // the note's name when several targets share one
	parallel  bool    // runs goroutines at once: no instruction count
}

// noteName is the name of the note that explains t when it is missed.
func (t target) noteName() string {
	if t.note != "" {
		return t.note
	}
	return t.id
}

// peerBench is the peer entry's Row/entry, or "" when t has no peer.
func (t target) peerBench() string {
	if t.peer == "" {
		return ""
	}
	rowName, _, _ := splitName(t.bench)
	return rowName + "/" + t.peer
}

// targets are DESIGN.md's table, row by row, in its order; the shared
// bulkhead's row is one target per goroutine count that issue 18 names.
var targets = []target{
	{id: "instance", path: "`Instance.Fire`, 2-state toggle", bench: "Toggle/statecraft-Instance", maxNs: 10},
	{id: "run", path: "`Run` transition", bench: "Toggle/statecraft-Run", maxNs: 5},
	{id: "breaker-success", path: "breaker, closed, success (count window)", bench: "BreakerClosedSuccess/statecraft-AllowDone", maxNs: 10},
	{id: "breaker-reject", path: "breaker, open, reject", bench: "BreakerOpenReject/statecraft-Allow", maxNs: 5},
	{id: "breaker-time-window", path: "breaker success with a time window (1 min)", bench: "BreakerTimeWindow/window=1m/statecraft-AllowDone",
		maxNs: 30, peer: "gobreaker-Execute", peerRatio: 1.0 / 5},
	{id: "retry", path: "retry, first attempt succeeds", bench: "RetryFirstSuccess/statecraft-RetryExecutor",
		peer: "retrygo5-RetrierDo", peerRatio: 3},
	{id: "three-layers", path: "fallback+retry+breaker, success", bench: "FallbackRetryBreaker/statecraft-Workflow", maxNs: 50},
	{id: "five-layers", path: "five layers", bench: "FiveLayers/statecraft-Workflow", maxNs: 200},
	{id: "five-layers-ctxdone", path: "five layers, function waits on `ctx.Done()`", bench: "FiveLayersCtxDone/statecraft-Workflow", maxNs: 500, maxAllocs: 2},
	sharedBulkhead(1), sharedBulkhead(2), sharedBulkhead(8), sharedBulkhead(16), sharedBulkhead(64), sharedBulkhead(128),
	{id: "ratelimit-allow", path: "rate limiter, permit available", bench: "RateLimitAllow/statecraft-Allow",
		peer: "xrate-Allow", peerRatio: 1},
	{id: "perkey-hot", path: "per-key machine lookup, hot key", bench: "PerKeyHotKey/statecraft-AcquireRelease", maxNs: 20},
}

// sharedBulkhead is the shared bulkhead's target at g goroutines: no
// slower than failsafe-go's bare semaphore, no allocation while a slot is
// free.
func sharedBulkhead(g int) target {
	n := strconv.Itoa(g) + " goroutines"
	if g == 1 {
		n = "1 goroutine"
	}
	return target{id: "shared-bulkhead-" + strconv.Itoa(g), path: "shared bulkhead acquire+release, " + n,
		bench: "SharedBulkhead/goroutines=" + strconv.Itoa(g) + "/statecraft-AcquireRelease",
		peer:  "failsafe-AcquireRelease", peerRatio: 1, note: "shared-bulkhead", parallel: true}
}

// benchRegexp is the -bench pattern that runs only t's entry.
func (t target) benchRegexp() string {
	rowName, entryName, _ := splitName(t.bench)
	pattern := ""
	for i, part := range append(splitPath(rowName), entryName) {
		if i == 0 {
			part = "Benchmark" + part
		}
		if i > 0 {
			pattern += "/"
		}
		pattern += "^" + regexpQuote(part) + "$"
	}
	return pattern
}

// minimalPeers are the single-purpose APIs issue 9 sets apart: against
// them statecraft must not be slower within noise, where against
// feature-equivalent peers it must be at least 3x faster. Each is set
// against the statecraft API doing the same work (a bare permit against a
// bare permit, not against a call through the breaker).
var minimalPeers = map[string][]string{
	"failsafe-TryAcquireRecord": {"statecraft-AllowDone", "statecraft-AcquireDone"}, // the breaker's (or adaptive limiter's) bare permit, no execution
	"failsafe-TryAcquirePermit": {"statecraft-Allow", "statecraft-Acquire"},         // the same, refused
	"failsafe-AcquireRelease":   {"statecraft-AcquireRelease"},                      // the bulkhead's bare semaphore
	"retrygo5-RetrierDo":        {"statecraft-RetryExecutor"},                       // a reused Retrier: a loop around the call
	"xrate-Allow":               {"statecraft-Allow"},                               // x/time/rate's token bucket, permit free or refused
}

const requiredSpeedup = 3

// growthSections are the cost-growth benchmarks, shown as one table per
// benchmark with a line per parameter.
var growthSections = map[string]bool{
	"States": true, "SharedBreaker": true, "SharedBulkhead": true,
	"BreakerTimeWindow": true, "BreakerMixedOutcomes": true, "Layers": true,
	"SharedAdaptiveLimiter": true,
}

// sectionNotes say in one line what a benchmark measures; the bench
// package's comments say it in full.
var sectionNotes = map[string]string{
	"Toggle":                       "One transition of a two-state machine, nothing attached. statecraft-Instance-string uses string states and events, as looplab/fsm must.",
	"ToggleGuardAction":            "One transition whose guard reads the machine's data and whose action increments it.",
	"BreakerClosedSuccess":         "A success through a closed breaker. -AllowDone, -TwoStepAllowDone and -TryAcquireRecord take a permit and report a success; -Call, -Execute and -Executor call a function returning nil.",
	"BreakerOpenReject":            "A call refused by an open breaker (tripped by failures); the function never runs.",
	"BreakerClosedSuccessParallel": "BreakerClosedSuccess from GOMAXPROCS goroutines (b.RunParallel) sharing the breaker.",
	"BreakerOpenRejectParallel":    "BreakerOpenReject from GOMAXPROCS goroutines sharing the breaker.",
	"RetryFirstSuccess":            "A retry (3 attempts, zero delay) whose first attempt succeeds.",
	"RetryFailTwice":               "A retry whose first two attempts fail and whose third succeeds, zero delays.",
	"FallbackRetryBreaker":         "A success through fallback, retry and a circuit breaker.",
	"FiveLayers":                   "A success through fallback, bulkhead, overall timeout, retry, breaker and attempt timeout; the function ignores its context.",
	"FiveLayersCtxDone":            "FiveLayers with a function that selects on ctx.Done(), so statecraft arms its deadline timer too.",
	"States":                       "One transition of a ring of n states: the cost must not grow with n.",
	"SharedBreaker":                "A closed breaker's success path from g goroutines sharing it; b.N calls in all.",
	"SharedBulkhead":               "Admission to a 10-slot bulkhead shared by g goroutines; beyond 10 a call may wait for a slot.",
	"BreakerTimeWindow":            "The success path with a windowed breaker (10 time buckets) of 10 µs, 10 ms and 1 min.",
	"BreakerMixedOutcomes":         "One failure in four calls, with count windows of 10, 100 and 1000 outcomes (never opening).",
	"Layers":                       "A success through 1 to 7 layers, added in this order: retry, breaker, fallback, bulkhead, overall timeout, attempt timeout, rate limiter; the function ignores its context.",
	"RateLimitAllow":               "A call that finds a rate limiter's permit free and takes it, without waiting (a billion permits a second, a bucket of a billion).",
	"RateLimitAllowParallel":       "RateLimitAllow from GOMAXPROCS goroutines sharing the limiter.",
	"RateLimitReject":              "A call refused by a rate limiter with no permit free (one an hour, spent).",
	"SharedAdaptiveLimiter":        "An adaptive limiter's permit taken and finished from g goroutines sharing the limiter.",
	"AdaptiveLimiterReject":        "A call refused by an adaptive limiter at its limit.",
	"RetryBudget":                  "A retry (3 attempts, zero delay) whose first attempt fails and whose second, allowed by a retry budget with room, succeeds.",
	"RetryFailOnce":                "RetryBudget without the budget: the budget's own cost is the difference.",
	"HedgeFirstAnswers":            "A hedged call (at most one hedge, 1 s delay) whose first attempt answers at once: what hedging costs a call that did not need it.",
	"HedgeWins":                    "A hedged call whose first attempt hangs until cancelled and whose hedge, started at once, answers.",
	"PerKeyHotKey":                 "A lease on one host's breaker among 1000 in a per-key registry, taken and given back (Acquire, Release).",
	floorSection:                   "Go's own primitives on this machine (DESIGN.md's floors): what a transition or permit using them cannot undercut.",
}

// floorSection holds the Go primitives measured on the machine, which
// the other rows are read against; it has no statecraft entry and no
// peers.
const floorSection = "Floor"

// sectionOrder is the order of the benchmarks in the document: the
// comparisons of issue 9, then the cost-growth benchmarks, then the
// floors.
var sectionOrder = []string{
	"Toggle", "ToggleGuardAction",
	"BreakerClosedSuccess", "BreakerOpenReject", "BreakerClosedSuccessParallel", "BreakerOpenRejectParallel",
	"RetryFirstSuccess", "RetryFailTwice",
	"FallbackRetryBreaker", "FiveLayers", "FiveLayersCtxDone",
	"RateLimitAllow", "RateLimitAllowParallel", "RateLimitReject",
	"SharedAdaptiveLimiter", "AdaptiveLimiterReject",
	"RetryFailOnce", "RetryBudget", "HedgeFirstAnswers", "HedgeWins", "PerKeyHotKey",
	"States", "SharedBreaker", "SharedBulkhead", "BreakerTimeWindow", "BreakerMixedOutcomes", "Layers",
	floorSection,
}

// paramNames names the parameter of each benchmark that has one, as
// the heading of its column.
var paramNames = map[string]string{
	"States":                "states",
	"SharedBreaker":         "goroutines",
	"SharedBulkhead":        "goroutines",
	"BreakerTimeWindow":     "window",
	"BreakerMixedOutcomes":  "window size",
	"Layers":                "layers",
	"SharedAdaptiveLimiter": "goroutines",
}
