# Switchboard: build, test and lint.
#
#   make test        install the pinned SDKs (npm ci) and run every Go test, SDK end-to-end tests included
#   make test-race   the same Go tests with the race detector (the e2e server is race-built too)
#   make lint        gofmt, go vet, staticcheck (pinned)
#   make check       lint + test (what CI runs)
#   make build       static binary ./bin/switchboard (version, commit and date stamped)
#   make release     static binaries for linux and darwin, amd64 and arm64, in ./dist with SHA256SUMS
#   make run         the server with the demo data on 127.0.0.1:8080

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := check

GO    ?= go
NPM   ?= npm
GOBIN := $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN := $(shell $(GO) env GOPATH)/bin
endif

# staticcheck release 2026.2.2 is module version v0.8.2.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(GOBIN)/staticcheck

# Go sources, without anything npm put under e2e/node_modules.
GOFILES = $(shell find . -name '*.go' -not -path './e2e/node_modules/*' -not -path './.git/*')

.PHONY: check test test-race lint build release run e2e-deps staticcheck clean

# What `switchboard version` prints: the tag (or describe) of this checkout,
# its commit and the commit's date (reproducible: not the build's clock).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
RELEASE_TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST            ?= dist

# The PostgreSQL tests create (and drop) a database per test on this server.
# Point them elsewhere with SWITCHBOARD_TEST_POSTGRES_URL=...; set it empty to
# skip them (outside CI).
PG_DEFAULT_URL := postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
test test-race: export SWITCHBOARD_TEST_POSTGRES_URL ?= $(PG_DEFAULT_URL)

# Outside CI, when the default server is not there at all, its tests are
# skipped with one line saying so, instead of each failing with "connection
# refused". In CI (CI set) they run, and fail without a server.
define pg_check
if [ -z "$${CI:-}" ] && [ "$$SWITCHBOARD_TEST_POSTGRES_URL" = '$(PG_DEFAULT_URL)' ] && \
	! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	echo "make: no PostgreSQL on 127.0.0.1:5432, so the PostgreSQL tests are skipped (start one, or set SWITCHBOARD_TEST_POSTGRES_URL: see README, Tests)"; \
	export SWITCHBOARD_TEST_POSTGRES_URL=; \
fi;
endef

check: lint test

e2e-deps:
	$(NPM) ci --prefix e2e --no-audit --no-fund

test: e2e-deps
	@$(pg_check) echo "$(GO) test -count=1 ./..."; $(GO) test -count=1 ./...

test-race: e2e-deps
	@$(pg_check) echo "$(GO) test -race -count=1 ./..."; CGO_ENABLED=1 $(GO) test -race -count=1 ./...

# Installs the pinned staticcheck into GOBIN unless that exact version is there.
staticcheck:
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -qF "($(STATICCHECK_VERSION:v%=%))"; then \
		echo "installing staticcheck $(STATICCHECK_VERSION)"; \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

lint: staticcheck
	@echo "gofmt -l"
	@out="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	"$(STATICCHECK)" ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o bin/switchboard ./cmd/switchboard

# One static binary per target (into DIST, default ./dist) (no cgo: the SQLite driver and PDFium are pure
# Go/WebAssembly), then SHA256SUMS in the format `sha256sum -c` checks.
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	for t in $(RELEASE_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; \
		echo "building $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags='$(LDFLAGS)' \
			-o $(DIST)/switchboard-$(VERSION)-$$os-$$arch ./cmd/switchboard; \
	done
	cd $(DIST) && sha256sum switchboard-* > SHA256SUMS

run:
	$(GO) run ./cmd/switchboard serve --demo

clean:
	rm -rf bin dist
