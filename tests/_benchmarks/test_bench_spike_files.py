"""``benchmarks/bench_spike_files.py`` on a small raster: every row is printed and the library's
two writers' files read back as the raster written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module():
    path = ROOT / "benchmarks" / "bench_spike_files.py"
    spec = importlib.util.spec_from_file_location("bench_spike_files", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_small_run(capsys):
    mod = _module()
    assert mod.main(["--units", "300", "--steps", "60", "--rate", "0.3", "--repeats", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 6 + 2  # header, six filters, two writers
    assert rows[-2].startswith("| save_spikes | library |")
    assert rows[-1].startswith("| SpikeWriter | library |")


def test_a_file_that_reads_back_wrong_fails(monkeypatch, capsys):
    mod = _module()
    monkeypatch.setattr(mod, "same_spikes", lambda path, train: False)
    assert mod.main(["--units", "50", "--steps", "20", "--repeats", "1"]) == 1
    assert "does not read back" in capsys.readouterr().out
