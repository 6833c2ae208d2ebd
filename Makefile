# wraft — see README.md. `make test` is what CI runs.
GO ?= go
SEEDS ?= 300
SHELL := /bin/bash
STATICCHECK ?= v0.8.2

.PHONY: all test vet unit sim sim-long demo fuzz fuzz-short clean web-test build wasm size

all: test

## test: everything CI runs: build, vet, unit and process tests (and the ARM smoke
## test under qemu when installed), fuzz seed corpora, the simulator, the
## TypeScript host's tests and the dashboard in Chromium
test: build vet unit fuzz-short sim web-test web-e2e

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK) ./...

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

## fuzz: run every fuzzer for FUZZTIME each (fuzz-short: 2s each, part of test)
FUZZTIME ?= 30s
FUZZ_PKGS = ./wire ./kv ./abi ./raft ./storage ./transport ./server
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=2s
fuzz:
	@for pkg in $(FUZZ_PKGS); do \
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

.PHONY: release release-check arm-test

## release: dist/wraft-linux-{arm64,armv7,armv6,amd64} (no cgo), each embedding
## the same raft.wasm, dist/raft.wasm alone, and dist/SHA256SUMS; then
## release-check runs each binary's `wraft version` (the ARM ones under
## qemu-user-static when it is installed) and compares its core with dist/raft.wasm
# name:GOARCH:GOARM
RELEASE_TARGETS = linux-arm64:arm64: linux-armv7:arm:7 linux-armv6:arm:6 linux-amd64:amd64:
RELEASE_FLAGS = -trimpath -ldflags='-s -w'
release: build
	rm -rf dist && mkdir -p dist
	cp bin/raft.wasm dist/raft.wasm
	@set -e; for t in $(RELEASE_TARGETS); do IFS=: read -r name arch arm <<< "$$t"; \
	  echo "CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=$$arm $(GO) build $(RELEASE_FLAGS) -o dist/wraft-$$name ./cmd/wraft"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=$$arm $(GO) build $(RELEASE_FLAGS) -o dist/wraft-$$name ./cmd/wraft; \
	done
	cd dist && sha256sum raft.wasm $(foreach t,$(RELEASE_TARGETS),wraft-$(word 1,$(subst :, ,$(t)))) > SHA256SUMS
	@cat dist/SHA256SUMS
	@$(MAKE) --no-print-directory release-check

release-check:
	@want=$$(sha256sum dist/raft.wasm | cut -d' ' -f1); status=0; \
	for b in dist/wraft-linux-*; do \
	  case $$b in *amd64) run="";; *arm64) run=qemu-aarch64-static;; *) run=qemu-arm-static;; esac; \
	  if [ -n "$$run" ] && ! command -v $$run >/dev/null; then echo "?  $$b: not checked ($$run missing: apt-get install qemu-user-static)"; continue; fi; \
	  have=$$($$run $$b version | sed -n 's/^core sha256:\([0-9a-f]*\).*/\1/p'); \
	  if [ "$$have" = "$$want" ]; then echo "ok $$b embeds raft.wasm sha256:$$want"; \
	  else echo "✗  $$b embeds sha256:'$$have', want $$want (dist/raft.wasm)"; status=1; fi; \
	done; exit $$status

## arm-test: the linux/arm64 smoke test (e2e/arm): three nodes of the arm64
## build under qemu-aarch64-static elect, commit, lose the leader, elect and
## commit again. It tests dist/wraft-linux-arm64 against dist/raft.wasm after
## `make release`, else a fresh arm64 build. Installs qemu-user-static as root.
arm-test:
	@if [ ! -x /usr/bin/qemu-aarch64-static ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then echo "arm-test: /usr/bin/qemu-aarch64-static is missing: sudo apt-get install qemu-user-static"; exit 1; fi; \
	  echo "== installing qemu-user-static"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; \
	fi
	@if [ -f dist/wraft-linux-arm64 ] && [ -f dist/raft.wasm ]; then \
	  echo "testing dist/wraft-linux-arm64 with dist/raft.wasm"; \
	  WRAFT_ARM_BINARY=$(CURDIR)/dist/wraft-linux-arm64 WRAFT_ARM_CORE=$(CURDIR)/dist/raft.wasm $(GO) test -count=1 -v -timeout 5m ./e2e/arm; \
	else \
	  test -f host/corewasm/core/raft.wasm || $(MAKE) --no-print-directory wasm; \
	  $(GO) test -count=1 -v -timeout 5m ./e2e/arm; \
	fi

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

.PHONY: bench-peers

## bench-peers: wraft (native and wasm core) side by side with etcd and a
## hashicorp/raft KV server, each a 3-node loopback cluster with fsync on
## (bench/, its own module; etcd is built once into bench/.cache). Prints one
## table, writes bench/results/latest.json and latency.svg, and ends with
## the ratio-vs-etcd line. QUICK=1: small counts, about 2 minutes.
bench-peers: wasm
	$(GO) build -trimpath -o bin/wraft ./cmd/wraft
	cd bench && $(GO) run ./cmd/peers $(if $(filter-out 0,$(QUICK)),-quick) $(BENCHFLAGS)
