# Two commands do all set-up from a fresh clone: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.infodyn-installed
PYTHON ?= python3
DEMO_OUT ?= runs/demo

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/infodyn demo --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile tests

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

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
	rm -rf $(VENV) runs .pytest_cache
