# The README's two commands. Each bootstraps .venv on a fresh machine; re-running is quick because
# the install is keyed on pyproject.toml (the stamp file is rebuilt only when it changes).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: test figures figures-quick proofs bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -q

figures: $(STAMP)
	$(PY) -m figures --out figures/output

figures-quick: $(STAMP)
	$(PY) -m figures --quick --out figures/output

proofs: $(STAMP)
	$(PY) -m proofs

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) figures/output .pytest_cache .hypothesis
