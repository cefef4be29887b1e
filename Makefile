# craton — build, test, docs. `make help` lists targets.
GO      ?= go
PREFIX  ?= /usr
DESTDIR ?=
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/craton-co/craton/cmd.Version=$(VERSION)

.PHONY: all build test docs demo help
all: build

build: ## build the craton CLI
	$(GO) build -ldflags "$(LDFLAGS)" -o craton .

test: ## run every test (installs missing system packages)
	./scripts/test.sh

docs: ## regenerate docs/cli and docs/exit-codes.md
	$(GO) run ./internal/gendocs

demo: ## migrate a demo SoftHSMv2 token into the embedded engine and verify
	./scripts/demo.sh

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
