# wraft — see README.md. `make test` is what CI runs.
GO ?= go
SEEDS ?= 300
SHELL := /bin/bash

.PHONY: all test vet unit sim sim-long demo fuzz clean web-test build wasm size

all: test

## test: everything CI runs: build, vet, unit and process tests, fuzz seed
## corpora, the simulator's seeds and scenarios, and the TypeScript host's tests
test: build vet unit sim web-test web-e2e

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /sim$$)

## sim: the deterministic simulator: $(SEEDS) seeds, the seed scenarios, and
## seeds through raft.wasm compared with the native engine
sim:
	@mkdir -p bin
	@$(GO) test -count=1 -timeout 20m ./sim -seeds=$(SEEDS) -v > bin/sim.log 2>&1; status=$$?; \
	  grep -E '^(--- |ok|FAIL)|seeds \(from|through both' bin/sim.log | grep -v '^    wasm_test' ; \
	  grep -cE 'through both cores' bin/sim.log | sed 's/$$/ seeds gave byte-identical traces through raft.wasm and the native engine/'; \
	  if [ $$status -ne 0 ]; then tail -150 bin/sim.log; fi; exit $$status

## sim-long: 10,000 seeds
sim-long:
	$(GO) test -count=1 -timeout 3h ./sim -run TestSeeds -seeds=10000 -v

## demo: a local three-node cluster of real wraft node processes
demo: build
	bin/wraft demo

## fuzz: run every fuzzer for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	@for pkg in ./wire ./kv ./abi ./storage ./transport; do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

## build: bin/raft.wasm (with its sha256), the dashboard (web/dist-app, with
## that same raft.wasm) and bin/wraft, which embeds both
build: wasm
	cd web && npm ci --no-audit --no-fund && npm run build:app
	find dashboard/site -mindepth 1 ! -name README.md -delete
	cp -r web/dist-app/. dashboard/site/
	$(GO) build -trimpath -o bin/wraft ./cmd/wraft

## wasm: raft.wasm, its sha256 (sha256sum format) and the copy the daemon embeds
# Tests build their own raft.wasm (host/hosttest) with the same flags.
WASM_FLAGS = -buildmode=c-shared -trimpath -ldflags='-s -w'
wasm:
	@mkdir -p bin
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASM_FLAGS) -o bin/raft.wasm ./wasm
	cd bin && sha256sum raft.wasm > raft.wasm.sha256
	cp bin/raft.wasm host/corewasm/core/raft.wasm
	@cat bin/raft.wasm.sha256

## size: raft.wasm's size raw, gzip -9 and brotli (and after wasm-opt, if installed)
size: wasm
	@GO=$(GO) scripts/size.sh bin/raft.wasm
	@echo; echo "what takes the space (a build keeping function names):"
	@tmp=$$(mktemp -d) && GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -o $$tmp/raft.wasm ./wasm && \
	  $(GO) run ./scripts/wasmsize -top 12 $$tmp/raft.wasm; status=$$?; rm -rf $$tmp; exit $$status

## web-test: the TypeScript shim's node tests (encoding vectors, raft.wasm under Node, refsim hashes)
web-test:
	cd web && npm ci && npm test

clean:
	rm -rf bin dist host/corewasm/core/raft.wasm
	find dashboard/site -mindepth 1 ! -name README.md -delete

.PHONY: web-e2e screenshots

## web-e2e: the dashboard in Debian's Chromium (playwright-core): three raft.wasm
## nodes in workers; elections, kv, kill/restart, reload, phone width
web-e2e:
	@test -f bin/raft.wasm || $(MAKE) build
	cd web && npm ci --no-audit --no-fund && npm run build:app && npm run test:e2e

## screenshots: docs/assets/dashboard-{desktop,phone}.png from the built dashboard
screenshots:
	@test -f bin/raft.wasm || $(MAKE) build
	cd web && npm ci && npm run build:app && npm run screenshots
