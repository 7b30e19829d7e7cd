# statecraft's everyday commands. Run "make help" for the list.

GO       ?= go
# FUZZTIME is a count of inputs ("Nx"), not a duration: a duration races
# the fuzz coordinator's own deadline in go1.26 (golang/go#75804), which
# fails a clean run with "context deadline exceeded" on a loaded machine.
# 30000 inputs take about 10 s per target on a 2-core machine.
FUZZTIME ?= 30000x
# staticcheck: the one "go install" put in GOPATH/bin, else the one on PATH.
STATICCHECK ?= $(shell gobin="$$($(GO) env GOPATH)/bin/staticcheck"; \
	if [ -x "$$gobin" ]; then echo "$$gobin"; else command -v staticcheck || echo staticcheck; fi)
STATICCHECK_VERSION := v0.8.2

# SOAK_TIME is how long make soak runs the chaos test, in seconds;
# SOAK_ROUNDS the executions per goroutine in each run (25 in make test).
SOAK_TIME   ?= 300
SOAK_ROUNDS ?= 250

.DEFAULT_GOAL := help
.PHONY: help demo test fuzz bench lint docs soak

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

demo: ## simulate a layered workflow through an outage (an hour of traffic, in under a second)
	@$(GO) run -tags nosvg ./cmd/statecraft demo

test: ## the whole suite: every test with -race, allocation counts without it, then each fuzz target for FUZZTIME inputs
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run 'Alloc' ./...
	@$(MAKE) --no-print-directory fuzz

# soak builds the errorrecovery tests once with -race, then runs the chaos
# test (200 goroutines through a full workflow on the manual clock) again
# and again, each run with a fresh seed it logs, until SOAK_TIME seconds
# have passed; it stops at the first failure.
soak: ## the chaos test of the full workflow under -race, again and again for SOAK_TIME seconds (default 300)
	@set -e; bin="$$(mktemp -d "$${TMPDIR:-/tmp}/soak.XXXXXX")/errorrecovery.test"; \
	$(GO) test -race -c -o "$$bin" ./patterns/errorrecovery/; \
	cd patterns/errorrecovery; start=$$(date +%s); end=$$((start + $(SOAK_TIME))); n=0; \
	while [ "$$(date +%s)" -lt "$$end" ]; do \
		"$$bin" -test.run '^TestChaosOfTheFullWorkflow$$' -test.count=1 -test.v -chaos.rounds=$(SOAK_ROUNDS) > "$$bin.log" 2>&1 \
			|| { cat "$$bin.log"; echo "soak: run $$((n+1)) failed after $$(( $$(date +%s) - start ))s"; exit 1; }; \
		n=$$((n+1)); \
	done; \
	grep -h 'seed\|after .* on the clock' "$$bin.log" | tail -2; \
	echo "soak: $$n runs of TestChaosOfTheFullWorkflow ($(SOAK_ROUNDS) rounds x 200 goroutines) clean in $$(( $$(date +%s) - start ))s"

# Each "func FuzzX" in a *_test.go file of a package of this module runs on
# its own (go test fuzzes one target per run), without -race, so a new
# target is picked up with no edit here. go list names the packages, so
# nested modules (bench/) and testdata folders are left out.
fuzz: ## each fuzz target, one run per target, for FUZZTIME inputs (default 30000x)
	@set -e; root="$$($(GO) list -m -f '{{.Dir}}')"; n=0; \
	for dir in $$($(GO) list -f '{{.Dir}}' ./...); do \
		pkg=".$${dir#"$$root"}"; \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$dir"/*_test.go 2>/dev/null | sort -u); do \
			echo "$(GO) test -run=NONE -fuzz=^$$target\$$ -fuzztime=$(FUZZTIME) $$pkg"; \
			$(GO) test -run=NONE -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzz: $$n targets, $(FUZZTIME) each"

# docs regenerates what docs/ draws from the code (see docs/README.md):
# each strategy's diagram in docs/diagrams (dot, Mermaid, SVG), and the
# diagram and snippet regions of the guides. A second run changes nothing;
# TestDocsAreUpToDate fails when the committed docs are out of date.
docs: ## diagrams (dot, Mermaid, SVG) and snippets of the guides in docs/, from the real definitions
	$(GO) run ./cmd/statecraft/internal/docgen/run

bench: ## benchmarks of this module, then of the bench/ module (peers)
	$(GO) test -run=NONE -bench=. -benchmem ./...
	cd bench && $(GO) test -run=NONE -bench=. -benchmem ./...

lint: ## go vet, staticcheck and gofmt, for this module and bench/
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	@command -v $(STATICCHECK) >/dev/null || { echo "staticcheck not found; install it with: $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; exit 1; }
	$(STATICCHECK) ./...
	cd bench && $(STATICCHECK) ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi

# bench-compare: statecraft side by side with its peers, in the bench/
# module (see bench/doc.go). The suite runs BENCH_COUNT times over, one
# run of each benchmark per pass, rather than each benchmark BENCH_COUNT
# times in a row: a shared VM's slow minutes then fall on every row alike,
# and rows compared within one report (a peer, a floor) saw the same
# machine. BENCH_COUNT and BENCH_TIME are chosen so that
# the whole run (benchmarks, benchstat, profiles, report) takes about six
# minutes on the 2-core machines this project runs on, under the ten its
# issue allows; DESIGN.md's targets are benchstat medians of -count 10.
# The raw output, benchstat's summaries and the profiles stay in a
# temporary folder whose name is printed. With valgrind installed, the
# report also counts each target's instructions per operation (steady where
# ns/op move between runs on a shared VM); without it, it says so.
# .ci/run does not run this target, so CI does not install valgrind.
BENCH_COUNT ?= 10
BENCH_TIME  ?= 150ms
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
BENCHSTAT ?= $(shell gobin="$$($(GO) env GOPATH)/bin/benchstat"; \
	if [ -x "$$gobin" ]; then echo "$$gobin"; else command -v benchstat || echo "$$gobin"; fi)

.PHONY: bench-compare
bench-compare: ## statecraft against its peers (bench/): benchmarks, benchstat and profiles into docs/performance.md
	@command -v $(BENCHSTAT) >/dev/null || $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)
	@set -e; out="$$(mktemp -d "$${TMPDIR:-/tmp}/bench-compare.XXXXXX")"; start="$$(date +%s)"; \
	cat /proc/loadavg > "$$out/load-before" 2>/dev/null || true; \
	echo "cd bench && $(GO) test -c -o $$out/bench.test . && for i in \$$(seq $(BENCH_COUNT)); do $$out/bench.test -test.run=NONE -test.bench=. -test.benchmem -test.count=1 -test.benchtime=$(BENCH_TIME); done > $$out/bench.txt"; \
	(cd bench && $(GO) test -c -o "$$out/bench.test" .); \
	for i in $$(seq $(BENCH_COUNT)); do \
		{ (cd bench && "$$out/bench.test" -test.run=NONE -test.bench=. -test.benchmem -test.count=1 -test.benchtime=$(BENCH_TIME)); echo $$? > "$$out/status"; } \
			| tee -a "$$out/bench.txt"; \
		if [ "$$(cat "$$out/status")" != 0 ]; then echo "bench-compare: the benchmarks failed; see $$out/bench.txt"; exit 1; fi; \
	done; \
	$(BENCHSTAT) "$$out/bench.txt" > "$$out/benchstat.txt"; \
	$(BENCHSTAT) -format=csv "$$out/bench.txt" > "$$out/benchstat.csv" 2>/dev/null; \
	cd bench && $(GO) run ./cmd/report -dir "$$out" -start "$$start" -count $(BENCH_COUNT) -benchtime $(BENCH_TIME) -out ../docs/performance.md; \
	echo "bench-compare: raw results, benchstat summaries and profiles in $$out"
