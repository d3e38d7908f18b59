# The README's two commands, `make figures` and `make test`. Each bootstraps .venv on a fresh machine
# from a lock (exact versions and hashes): `make figures` (and `figures-quick`, `proofs`) from the
# runtime lock requirements-figures.lock (the core dependencies, numba, and what the sweep figures
# use: the `figures` extra), `make test` from the development lock requirements.lock (a superset:
# the same pins plus pytest, Dask, Sphinx, torch, JAX, ...). The dependency install is redone only
# when its lock changes, while ramplab itself is reinstalled (not editable) on every run, so what is tested and
# what draws the figures is the installed package, never the source tree.
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
LOCK    := requirements.lock
STAMP   := $(VENV)/.installed-lock
FIG_LOCK  := requirements-figures.lock
FIG_STAMP := $(VENV)/.installed-figures-lock
JOBS    ?= 2
# The suite runs from this scratch folder, which holds a decoy `theory.py` and `proofs/`: the
# installed `ramplab` must not care what a user keeps in the working directory.
RUNDIR  := .test-run
PYTEST   = cd $(RUNDIR) && MPLBACKEND=Agg $(abspath $(PY)) -m pytest -c $(CURDIR)/pyproject.toml \
           --rootdir $(CURDIR) -n $(JOBS) -q $(CURDIR)/tests --pyargs ramplab

.PHONY: test test-latest figures figures-quick proofs bench install install-figures lock clean decoys docs docs-quick docs-check

$(STAMP): $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	touch $(STAMP)

$(FIG_STAMP): $(FIG_LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(FIG_LOCK)
	touch $(FIG_STAMP)

# ramplab itself, not editable, over the development lock (install) or the runtime lock
# (install-figures); both locks hold the build backend, so the build needs no network.
# The reinstall keeps numba's on-disk cache of the fused kernel (the installed package's __pycache__,
# or NUMBA_CACHE_DIR when set): it is keyed on the kernels' source, so unchanged kernels are not
# recompiled, and warm_up compiles the common paths here once instead of in the first call.
install: $(STAMP)
	rm -rf build
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	$(PY) -c "from ramplab.theory.dynamics._risk import warm_up; warm_up()"

install-figures: $(FIG_STAMP)
	rm -rf build
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	$(PY) -c "from ramplab.theory.dynamics._risk import warm_up; warm_up()"

decoys:
	rm -rf $(RUNDIR) && mkdir -p $(RUNDIR)/proofs
	echo 'raise ImportError("decoy theory.py in the working directory was imported")' > $(RUNDIR)/theory.py
	echo 'raise ImportError("decoy proofs/ in the working directory was imported")' > $(RUNDIR)/proofs/__init__.py

test: install decoys
	$(PYTEST)

# Newest versions pyproject.toml allows, in a venv of their own: for finding drift early (not in CI).
test-latest: PY := .venv-latest/bin/python
test-latest: decoys
	test -x $(PY) || $(PYTHON) -m venv .venv-latest
	$(PY) -m pip install --quiet --upgrade --upgrade-strategy eager '.[dev]'
	$(PYTEST)

# Regenerate the lock from pyproject.toml against the package index (uv ignores this machine's pip
# configuration, so the lock resolves as a user's pip would). Existing pins are kept where they still
# satisfy pyproject.toml; `make lock UPGRADE=--upgrade` moves everything to the newest versions.
# TORCH_WHEELS: where uv finds PyTorch's CPU-only wheel (torch==2.13.0+cpu, which the package index
# lacks; its torch==2.13.0 is the multi-GB CUDA build): this machine's /opt/wheels, or elsewhere
# `make lock TORCH_WHEELS=https://download.pytorch.org/whl/cpu/torch/`.
UPGRADE ?=
TORCH_WHEELS ?= $(wildcard /opt/wheels)
# The runtime lock is then compiled from a copy of the development lock, so it keeps the same pins
# (a subset of requirements.lock: what the `figures` extra needs).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	    $(if $(TORCH_WHEELS),--find-links $(TORCH_WHEELS)) --generate-hashes $(UPGRADE) -o $(LOCK)
	cp $(LOCK) $(FIG_LOCK)
	$(VENV)/bin/uv pip compile pyproject.toml --extra figures --universal --python-version 3.11 \
	    --generate-hashes -o $(FIG_LOCK)

figures: install-figures
	$(VENV)/bin/ramplab figures --out figures/output

figures-quick: install-figures
	$(VENV)/bin/ramplab figures --quick --out figures/output

proofs: install-figures
	$(VENV)/bin/ramplab proofs

bench: install
	$(VENV)/bin/ramplab bench

# The documentation site: Sphinx (numpydoc, MyST for docs/math.md, sphinx-gallery executing every
# tutorial in docs/tutorials/) into docs/_build/html, warnings as errors. MathJax 3 comes from the
# npm registry, pinned by docs/package-lock.json, installed into docs/_build/npm (redone only when
# the lock changes) and copied into the site, so equations render with no network when read.
# `make docs-quick` (or RAMPLAB_TUTORIAL_QUICK=1 make docs) runs the tutorials at CI size.
DOCS_NPM      := docs/_build/npm
MATHJAX_STAMP := $(DOCS_NPM)/.installed-lock
SPHINXOPTS    ?=

$(MATHJAX_STAMP): docs/package.json docs/package-lock.json
	mkdir -p $(DOCS_NPM)
	cp docs/package.json docs/package-lock.json $(DOCS_NPM)/
	cd $(DOCS_NPM) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

docs: install $(MATHJAX_STAMP)
	cd docs && MPLBACKEND=Agg $(abspath $(PY)) -m sphinx -b html -W --keep-going $(SPHINXOPTS) . _build/html
	@echo "site: docs/_build/html/index.html"

docs-quick:
	RAMPLAB_TUTORIAL_QUICK=1 $(MAKE) docs

# Checks of the built site (after `make docs`): every public name has a page, the tutorials run as
# plain scripts, and headless Chromium (Debian's `chromium`) sees figures and rendered equations;
# screenshots go to docs/_build/screenshots/.
docs-check: install decoys
	cd $(RUNDIR) && RAMPLAB_DOCS_CHECK=1 MPLBACKEND=Agg $(abspath $(PY)) -m pytest -c $(CURDIR)/pyproject.toml \
	    --rootdir $(CURDIR) -n $(JOBS) -q -p no:cacheprovider $(CURDIR)/tests/docs

clean:
	rm -rf $(VENV) .venv-latest $(RUNDIR) build figures/output .pytest_cache .hypothesis \
	    docs/_build docs/api docs/tutorials_built
