"""Fixtures of the benchmark scripts' tests: the scripts are files, not modules of the package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_module():
    """``bench_module("bench_spike_files")``: ``benchmarks/bench_spike_files.py`` loaded."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    return load
