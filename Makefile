# noise-service: two commands do everything.
#   make run    install what is missing, build, and run the server on its defaults
#   make test   install what is missing, build, and run every test
# Other targets: make build, make bench, make sanitize, make soak, make deps, make format,
# make clean.

SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
DEBIAN_PACKAGES := libmicrohttpd-dev libsimdjson-dev pkg-config wrk
RELEASE := .build/release/noise-service
SWIFT_FLAGS := -c release --static-swift-stdlib

.PHONY: run test sanitize soak build deps system-deps python-deps bench format clean

run: system-deps build
	GLIBC_TUNABLES=glibc.malloc.hugetlb=1 $(RELEASE)

build: system-deps
	swift build $(SWIFT_FLAGS) --product noise-service

deps: system-deps python-deps

# Debian packages, installed only when missing (apt-get update runs once, before installing).
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES) $(EXTRA_DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

# A Python virtual environment for the tests and benchmarks, rebuilt when requirements change.
python-deps: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt clients/python/pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	$(PYTHON) -m pip install -q ./clients/python
	touch $@

test: system-deps python-deps
	swift format lint --strict -r Sources Tests Fuzz Package.swift
	swift test
	swift build $(SWIFT_FLAGS) --product noise-service
	NOISE_SERVICE_BINARY=$(RELEASE) $(PYTHON) -m pytest -q Tests/python
	NOISE_SERVICE_BINARY=$(RELEASE) $(PYTHON) Tests/load/run.py --short
	Tests/sanitize
	Fuzz/run 30

# The long load and fault run (about eight minutes), and five minutes per fuzz target.
soak: system-deps python-deps build
	NOISE_SERVICE_BINARY=$(RELEASE) $(PYTHON) Tests/load/run.py
	Fuzz/run 300

# The Swift tests and the HTTP integration tests under ThreadSanitizer and AddressSanitizer.
sanitize: system-deps python-deps
	Tests/sanitize

bench: system-deps python-deps
	$(PYTHON) -m pip install -q -r bench/requirements.txt
	swift build -c release --product noise-generation-bench
	swift build $(SWIFT_FLAGS) --product noise-service
	$(PYTHON) bench/library_vs_cleanlab.py
	$(PYTHON) bench/end_to_end.py
	$(PYTHON) bench/server_side.py
	$(PYTHON) bench/throughput.py

format:
	swift format format -i -r Sources Tests Fuzz Package.swift

clean:
	rm -rf .build $(VENV)
