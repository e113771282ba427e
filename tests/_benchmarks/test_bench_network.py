"""The network benchmark's orchestrator and its in-repo runners (small case, a few seconds).

The peer runners re-implement the network in other simulators; these tests check the NumPy
runner against infodyn's event engine spike for spike (an independent implementation of the same
equations), that the JAX runner reports its extra numbers, and that writing RESULTS.md touches
only this benchmark's block. The Brian2, snnTorch and Norse runners need their own venvs and are
exercised by the benchmark itself (their rasters are compared there).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_network", ROOT / "benchmarks" / "bench_network.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


SMALL = ["--n-steps", "400", "--n-rec", "80", "--n-in", "20", "--in-scale", "3", "--seed", "3"]


def row(text: str, name: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| {name}"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_numpy_peer_matches_event_engine_spike_for_spike(bench, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert bench.main([*SMALL, "--only", "event", "numpy", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    res = json.loads(out.read_text())["results"]
    assert "error" not in res["event"] and "error" not in res["numpy"]
    n_spikes = res["event"]["n_spikes"]
    assert 0.005 * 400 * 80 < n_spikes < 0.5 * 400 * 80  # an active, not saturated network
    assert res["numpy"]["n_spikes"] == n_spikes
    assert row(text, "NumPy dense loop")[4] == "identical"
    assert "event >= 250,000 steps/s" in text


def test_jax_runner_reports_first_call_and_sgemv_bound(bench, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert bench.main([*SMALL, "--only", "event", "jax", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    res = json.loads(out.read_text())["results"]
    jax_r = res["jax"]
    assert "error" not in jax_r, jax_r.get("error")
    assert jax_r["first_call_s"] > 0 and len(jax_r["sgemv_cpu_s"]) == 3
    # float32 vs float64: activity must agree even where the rasters part
    assert abs(jax_r["n_spikes"] - res["event"]["n_spikes"]) <= 0.05 * res["event"]["n_spikes"]
    assert "JAX engine within 1.5x of one sgemv per step" in text


def test_missing_venv_is_reported_not_fatal(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    runner = bench.Runner("x", ".venv-nowhere", "run_numpy.py")
    res = bench.run_one(runner, tmp_path / "case.npz", tmp_path, 3, 10.0)
    assert "missing" in res["error"]


def test_write_section_keeps_notes_and_other_sections(bench, tmp_path, monkeypatch):
    doc = tmp_path / "RESULTS.md"
    doc.write_text("# R\n\n## Network engines (issue 2)\n\nold\n\n## Other (issue 3)\n\nkeep\n")
    monkeypatch.setattr(bench, "RESULTS", doc)
    bench.write_section("TABLE 1")
    first = doc.read_text()
    assert "TABLE 1" in first and "old" in first and "keep" in first
    bench.write_section("TABLE 2")
    second = doc.read_text()
    assert "TABLE 2" in second and "TABLE 1" not in second
    assert second.count("## Other (issue 3)") == 1 and "keep" in second and "old" in second
