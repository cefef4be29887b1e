# craton — build, test, install, docs. `make help` lists targets.
GO        ?= go
PREFIX    ?= /usr
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
P11DIR    ?= $(LIBDIR)/pkcs11
P11KITDIR ?= $(PREFIX)/share/p11-kit/modules
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/craton-co/craton/cmd.Version=$(VERSION)

.PHONY: all build lib install test test-interop demo docs fuzz reliability-long help
all: build lib

build: ## build the craton CLI (./craton)
	$(GO) build -ldflags "$(LDFLAGS)" -o craton .

lib: ## build libcraton_hsm.so (the engine as a PKCS#11 v3.0 module) and its integrity digest
	$(GO) build -buildmode=c-shared -o libcraton_hsm.so ./capi
	rm -f libcraton_hsm.h
	sha256sum libcraton_hsm.so | cut -d' ' -f1 > libcraton_hsm.so.sha256

install: build lib ## install the CLI, the module (+ digest) and its p11-kit registration
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(P11DIR) $(DESTDIR)$(P11KITDIR)
	install -m 0755 craton $(DESTDIR)$(BINDIR)/craton
	install -m 0755 libcraton_hsm.so $(DESTDIR)$(P11DIR)/libcraton_hsm.so
	install -m 0644 libcraton_hsm.so.sha256 $(DESTDIR)$(P11DIR)/libcraton_hsm.so.sha256
	printf 'module: %s\n' $(P11DIR)/libcraton_hsm.so > $(DESTDIR)$(P11KITDIR)/craton-hsm.module

test: ## run every test (installs missing system packages)
	./scripts/test.sh

test-interop: ## real clients (pkcs11-tool, p11tool, OpenSSL, p11-kit, NSS, Java) against libcraton_hsm.so
	$(GO) test -v ./interop

demo: ## migrate a demo SoftHSMv2 token into the embedded engine and verify
	./scripts/demo.sh

docs: ## regenerate docs/cli and docs/exit-codes.md
	$(GO) run ./internal/gendocs

fuzz: ## long fuzzing runs of every fuzz target (FUZZTIME each, default 5m; docs/reliability.md)
	FUZZTIME=$${FUZZTIME:-5m} ./scripts/fuzz.sh

reliability-long: ## 500 kill -9 crash trials of migrate move, 40 random PKCS#11 fault points, 5000 store bit-flip trials
	CRATON_CRASH_TRIALS=500 $(GO) test -count=1 -timeout 3h -v -run TestCrashMoveKill9Converges ./cmd
	CRATON_FAULT_POINTS=40 $(GO) test -race -count=1 -timeout 2h -v -run TestFaultsMoveRandomPoint ./internal/faults
	CRATON_BITFLIP_TRIALS=5000 $(GO) test -count=1 -timeout 1h -run TestStoreBitFlips ./hsm

bench: build lib ## engine vs SoftHSMv2 through the PKCS#11 ABI, migration throughput, Go benchmarks -> docs/benchmarks.md (~8 min, 2 cores)
	$(GO) run ./bench -lib ./libcraton_hsm.so -craton ./craton -out docs/benchmarks.md

bench-large: build lib ## bench plus the 10,000-key migration (adds ~10 min)
	$(GO) run ./bench -lib ./libcraton_hsm.so -craton ./craton -out docs/benchmarks.md -large

.PHONY: bench bench-large

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
