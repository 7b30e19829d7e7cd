# statecraft's everyday commands. Run "make help" for the list.

GO       ?= go
FUZZTIME ?= 10s
# staticcheck: the one "go install" put in GOPATH/bin, else the one on PATH.
STATICCHECK ?= $(shell gobin="$$($(GO) env GOPATH)/bin/staticcheck"; \
	if [ -x "$$gobin" ]; then echo "$$gobin"; else command -v staticcheck || echo staticcheck; fi)
STATICCHECK_VERSION := v0.8.2

.DEFAULT_GOAL := help
.PHONY: help demo test fuzz bench lint

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

demo: ## print the sample door machine as Graphviz dot (make -s demo | dot -Tsvg > door.svg)
	@$(GO) run ./cmd/statecraft demo

test: ## the whole suite: every test with -race, allocation counts without it, then each fuzz target for FUZZTIME
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run 'Alloc' ./...
	@$(MAKE) --no-print-directory fuzz

# Each "func FuzzX" in a *_test.go file of a package of this module runs on
# its own (go test fuzzes one target per run), without -race, so a new
# target is picked up with no edit here. go list names the packages, so
# nested modules (bench/) and testdata folders are left out.
fuzz: ## each fuzz target, one run per target, for FUZZTIME (default 10s)
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
