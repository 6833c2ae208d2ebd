# wraft — see README.md. `make test` is what CI runs.
GO ?= go
SEEDS ?= 300

.PHONY: all test vet unit sim sim-long demo fuzz clean

all: test

## test: vet, unit tests, fuzz seed corpora and the simulator's seeds
test: vet unit sim

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /sim$$)

## sim: the deterministic simulator, $(SEEDS) seeds plus the seed scenarios
sim:
	$(GO) test -count=1 ./sim -seeds=$(SEEDS) -v -run 'TestSeeds|TestScenario' 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|sim:)' || true; \
	$(GO) test -count=1 ./sim -seeds=$(SEEDS)

## sim-long: 10,000 seeds
sim-long:
	$(GO) test -count=1 -timeout 3h ./sim -run TestSeeds -seeds=10000 -v

## demo: a simulated three-node cluster narrated in the terminal
demo:
	$(GO) run ./cmd/wraft demo

## fuzz: run every fuzzer for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	@for pkg in ./wire ./kv ./abi; do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

clean:
	rm -rf bin dist
