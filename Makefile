# Groundwork — `make dev` runs the stack, `make test` is the test command.
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
# Later CLI tags carry a replace directive that `go install` refuses.
TEMPORAL_CLI_VERSION := v1.5.1
# The local mail catcher `make dev` sends e-mail to. Later tags' web UIs
# need npm packages the registry here does not serve.
MAILPIT_VERSION := v1.27.11

export GROUNDWORK_TEMPORAL_CLI := $(BIN)/temporal
export GROUNDWORK_MAILPIT := $(BIN)/mailpit
# promtool checks deploy/prometheus in test/alerts_test.go. Prometheus 3.x is
# tagged v0.3xx.y as a Go module: v0.316.0 is Prometheus 3.16.0, the
# prom/prometheus image of docker-compose.yml.
PROMTOOL_VERSION := v0.316.0
export GROUNDWORK_PROMTOOL := $(BIN)/promtool

.PHONY: all tools test-deps dev-deps dev-hello generate check-generated build console screenshots dev dev-cluster test lint unit chaos bench clean

all: build

## tools: build the pinned Temporal CLI, sqlc, staticcheck, workflowcheck and promtool into bin/ (`make dev` adds Mailpit)
tools: $(BIN)/temporal $(BIN)/sqlc $(BIN)/staticcheck $(BIN)/workflowcheck $(BIN)/promtool

$(BIN)/temporal:
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (the first time takes several minutes; later ones come from Go's cache)…"
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

# Mailpit's web UI is built by npm in its releases, not shipped in the Go
# module: build it from the module's lockfile, then the binary that embeds
# it. Without npm's registry, Mailpit is built without its UI (SMTP, API
# and the /view/ pages still work).
$(BIN)/mailpit:
	@echo "building Mailpit $(MAILPIT_VERSION) and its web UI into bin/ (about a minute, once)…"
	@src="$$(mktemp -d)"; trap 'rm -rf "$$src"' EXIT; \
	dir="$$($(GO) mod download -json github.com/axllent/mailpit@$(MAILPIT_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"; \
	cp -r "$$dir"/. "$$src" && chmod -R u+w "$$src" && cd "$$src" && \
	{ npm ci --no-audit --no-fund --ignore-scripts --silent && npm run build --silent >/dev/null || echo "npm failed: building Mailpit without its web UI"; } && \
	$(GO) build -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$(MAILPIT_VERSION)" -o $(BIN)/mailpit .

# sqlc and staticcheck are pinned by tools/go.mod (go tool directives).
$(BIN)/sqlc: tools/go.mod tools/go.sum
	@echo "building sqlc into bin/ (the first time takes a few minutes)…"
	cd tools && $(GO) build -o $(BIN)/sqlc github.com/sqlc-dev/sqlc/cmd/sqlc

$(BIN)/staticcheck: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

$(BIN)/promtool:
	@echo "building promtool $(PROMTOOL_VERSION) into bin/ (the first time takes a few minutes)…"
	GOBIN=$(BIN) $(GO) install -ldflags "-s -w -X github.com/prometheus/common/version.Version=3.16.0" github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)

# workflowcheck finds non-deterministic calls (time.Now, goroutines, map
# ranges…) reachable from workflow functions.
$(BIN)/workflowcheck: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(BIN)/workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck

# Debian packages the tests use: pdftotext/pdftoppm (poppler-utils), qpdf,
# LibreOffice to open every DOCX, fallback fonts for CJK and emoji, Chromium
# for the headless-browser tests (internal/browser), and nginx for the
# dev-cluster test.
TEST_PACKAGES := poppler-utils qpdf libreoffice-writer-nogui fonts-droid-fallback fonts-symbola chromium nodejs npm nginx
TEST_COMMANDS := pdftotext qpdf soffice chromium node npm nginx

## test-deps: install the Debian packages the tests need, when missing
test-deps:
	@missing=""; for c in $(TEST_COMMANDS); do command -v $$c >/dev/null || [ -x /usr/sbin/$$c ] || missing="$$missing $$c"; done; \
	[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing="$$missing fonts"; \
	if [ -n "$$missing" ]; then \
		echo "installing test packages (missing:$$missing)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(TEST_PACKAGES) >/dev/null; \
	fi
	@# The Standard Webhooks reference implementation, which checks our signatures.
	@[ -d internal/testkit/whverify/node_modules/standardwebhooks ] || npm ci --prefix internal/testkit/whverify --no-audit --no-fund --silent
	@[ clients/typescript/node_modules/.package-lock.json -nt clients/typescript/package-lock.json ] || npm ci --prefix clients/typescript --no-audit --no-fund --silent
	@# esbuild, which test/console_test.go uses to check the console's committed bundle.
	@[ clients/console/node_modules/.package-lock.json -nt clients/console/package-lock.json ] || npm ci --prefix clients/console --no-audit --no-fund --silent

# What `make dev` needs from the system: the PostgreSQL server (initdb,
# pg_ctl) and Chromium for research. Installed with apt when missing;
# elsewhere it says what to install instead of failing later.
DEV_PACKAGES := postgresql chromium

## dev-deps: install the PostgreSQL server and Chromium when missing (Debian/Ubuntu)
dev-deps:
	@missing=""; \
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if ! command -v apt-get >/dev/null; then \
			echo "make dev needs:$$missing. Install them with your package manager (PostgreSQL 15+ server binaries: initdb and pg_ctl; Chromium or Chrome for research) and run make dev again." >&2; exit 1; \
		fi; \
		echo "installing$$missing with apt (once)…"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing >/dev/null; \
	fi

## generate: regenerate db/sqlc from db/queries and db/migrations
generate: $(BIN)/sqlc
	$(BIN)/sqlc generate

## check-generated: fail when db/sqlc is stale
check-generated: $(BIN)/sqlc
	@$(BIN)/sqlc diff || { echo "db/sqlc is stale: run 'make generate' and commit the result" >&2; exit 1; }

## build: build bin/groundwork
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
build:
	@[ -x $(BIN)/groundwork ] && echo "building bin/groundwork (seconds when little changed)…" || echo "building bin/groundwork (the first build compiles Temporal's SDK, pgx, chromedp and the rest: 2–4 minutes on two cores; later builds take seconds)…"
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/groundwork ./cmd/groundwork

## console: rebuild the console's bundle (api/console/assets/console.js) from clients/console
console:
	npm ci --prefix clients/console --no-audit --no-fund --silent
	npm run build --prefix clients/console

## screenshots: drive the console in Chromium and save its screenshots into docs/images
screenshots: test-deps
	GROUNDWORK_SCREENSHOTS=$(CURDIR)/docs/images $(GO) test -count=1 -run 'TestConsole$$' ./test

## dev: run Postgres, Temporal, the API and the worker locally (state in .data/)
dev: dev-deps dev-hello $(BIN)/temporal $(BIN)/mailpit build
	$(BIN)/groundwork dev $(DEV_FLAGS)

# The first `make dev` builds three programs from source; say so before the
# long silence, not after.
dev-hello:
	@if [ ! -x $(BIN)/temporal ] || [ ! -x $(BIN)/mailpit ] || [ ! -x $(BIN)/groundwork ]; then \
		echo "make dev: the first run builds the Temporal CLI (its dev server and Web UI), Mailpit (the local mail catcher) and groundwork into bin/."; \
		echo "          On a two-core machine with a cold Go build cache that takes about 10 minutes; later runs start in seconds."; \
	fi

## dev-cluster: 2 API processes behind nginx, 2 workers, Postgres with a streaming read replica, Temporal (state in .data/; flags: make dev-cluster DEV_CLUSTER_FLAGS="--api-replicas 3")
dev-cluster: $(BIN)/temporal build
	$(BIN)/groundwork dev-cluster $(DEV_CLUSTER_FLAGS)

## lint: gofmt, go mod tidy, go vet, staticcheck and workflowcheck
lint: $(BIN)/staticcheck $(BIN)/workflowcheck
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff >&2; echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result" >&2; exit 1; }
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck ./workflows/...

## test: lint, generated-code check, unit and end-to-end tests (own Postgres + Temporal)
test: tools test-deps check-generated lint
	$(GO) test -count=1 -timeout 14m ./...

## unit: only the fast tests
unit: $(BIN)/promtool
	$(GO) test -short -count=1 ./...

## chaos: kill and restart every part of a local cluster under a 50-user load, then reconcile (about 5 minutes; bench/README.md)
chaos: $(BIN)/temporal test-deps
	$(GO) run ./bench/chaos $(CHAOS_FLAGS)

## bench: load and render benchmarks (see bench/README.md)
bench: tools build
	$(GO) run ./bench/load

clean:
	rm -rf $(BIN)
