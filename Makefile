# lanscout build, run and test entry points. `make run` and `make test` are
# the only set-up a fresh Debian machine needs.

GO        ?= go
BIN       := bin/lanscout
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/lanscout/lanscout/internal/cli.Version=$(VERSION)
DATA      ?= ./data
LISTEN    ?= :8443
# Debian packages the tests drive as real peers. Each entry is
# binary:package; a package is installed only when its binary is missing.
TEST_DEPS := snmpd:snmpd snmpget:snmp snmpsimd:snmpsim arp-scan:arp-scan nmap:nmap \
             nft:nftables ip:iproute2 tcpdump:tcpdump ping:iputils-ping /usr/bin/time:time \
             sshd:openssh-server wakeonlan:wakeonlan prometheus:prometheus \
             prometheus-snmp-exporter:prometheus-snmp-exporter icinga2:icinga2 nagios4:nagios4 \
             ocsinventory-agent:ocsinventory-agent chromium:chromium
export CGO_ENABLED := 0

.PHONY: all build run test test-deps bench lint fuzz generate clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lanscout

run: build
	$(BIN) server --listen $(LISTEN) --data $(DATA)

# Installs what the integration tests need, then runs every test. Tests
# that need root or a missing tool skip with the reason; as root (CI) they run.
test: test-deps
	@mkdir -p out
	$(GO) vet ./...
	$(GO) tool gotestsum --format pkgname-and-test-fails --jsonfile out/test.json -- \
		-count=1 -timeout 25m ./...

test-deps:
	@missing=""; for dep in $(TEST_DEPS); do \
		bin=$${dep%%:*}; pkg=$${dep#*:}; \
		command -v $$bin >/dev/null 2>&1 || [ -x /usr/sbin/$$bin ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make test: missing Debian packages:$$missing (run as root, or apt-get install them; tests that need them will skip)"; \
		else \
			echo "make test: installing$$missing"; \
			nostart=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
				printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && nostart=1; fi; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
			rc=$$?; [ -z "$$nostart" ] || rm -f /usr/sbin/policy-rc.d; [ $$rc = 0 ] || exit $$rc; \
		fi; \
	fi

# BENCHFLAGS="-sections election,agents -update" re-measures some sections
# and keeps the others as they are in BENCHMARKS.md.
bench: build test-deps
	$(GO) run ./internal/bench -lanscout $(BIN) -o BENCHMARKS.md $(BENCHFLAGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Short runs of every fuzz target; FUZZTIME=5m for a longer soak.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

generate:
	$(GO) generate ./...

clean:
	rm -rf bin out
