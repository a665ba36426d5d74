# The two commands of the README's quick start, and the set-up they share.
# `make run` and `make test` create .venv from requirements.lock on first use.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench docs dashboard compare sweep workshop clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "copsim needs Python 3.11"' \
		|| { echo "copsim: Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m copsim.engine.warmup
	@touch $(STAMP)

run: setup
	$(BIN)/copsim run

test: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python benchmarks/speed_floor.py

docs: setup   # the documentation site, tutorials executed, warnings as errors
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html
	@echo "Open docs/_build/html/index.html"

dashboard: setup
	$(BIN)/copsim dashboard

compare: setup
	$(BIN)/copsim compare microentre self_organised national_coordinator ecosystem --reps 20

sweep: setup
	$(BIN)/copsim sweep experiments/facilitation_vs_funding.toml
	$(BIN)/copsim analyze sweeps/facilitation_vs_funding

workshop: setup
	$(BIN)/copsim workshop

clean:
	rm -rf $(VENV) runs test-output docs/_build
