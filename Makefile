# autotrader — `make demo` and `make test` set up everything they need themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= $(abspath ../shared)
export AUTOTRADER_SHARED ?= $(SHARED)

.PHONY: install sysdeps test lint demo bench clean deb

# System packages (Debian): only when root and only what is missing.
sysdeps:
	@bash scripts/sysdeps.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory sysdeps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: install
	@$(BIN)/pytest -q $(PYTEST_ARGS)

lint: install
	@$(BIN)/ruff check src tests bench
	@$(BIN)/ruff format --check src tests bench
	@$(BIN)/mypy

demo: install
	@$(PY) -m autotrader.demo --config etc/demo.yaml

bench: install
	@$(PY) bench/run.py

# The Debian package (dh-virtualenv into /opt/venvs/autotrader) in dist/; as root the build
# tools are apt-installed first (scripts/debdeps.sh). Needs no .venv.
deb:
	@bash scripts/build-deb.sh dist

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var demo-state
