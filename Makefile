# Two commands do all set-up from a fresh clone: `make demo` and `make test` (`make docs`: the site).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.infodyn-installed
PYTHON ?= python3
DEMO_OUT ?= runs/demo

DOCS_STAMP := $(VENV)/.infodyn-docs-installed

.PHONY: demo test lint bench clean docs

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/infodyn demo --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15 tests

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test,docs]"
	@touch $(DOCS_STAMP)

# The documentation site, built offline into site/. Tutorials execute on every build (their
# cached outputs are dropped first) with matplotlib's inline backend, so their figures are embedded
# (an MPLBACKEND set outside would replace it); any warning (broken link, missing reference,
# docstring that does not render) fails the build.
docs: $(DOCS_STAMP)
	rm -rf .cache/mkdocs-jupyter
	env -u MPLBACKEND NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples docs
	$(VENV)/bin/ruff format --check src tests benchmarks examples docs

# Side-by-side benchmarks (long; not part of `make test`). Peer simulators for bench_network and
# bench_learning live in their own venvs: see the docstrings of those scripts.
bench: $(STAMP)
	$(PY) benchmarks/bench_criticality.py
	$(PY) benchmarks/bench_information.py
	$(PY) benchmarks/bench_energy.py
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_network.py
	$(PY) benchmarks/bench_learning.py

clean:
	rm -rf $(VENV) runs .pytest_cache site .cache
