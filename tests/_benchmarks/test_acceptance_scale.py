"""``benchmarks/acceptance_scale.py`` end to end on a tiny network: training with both branching
hooks, the measured record, its figures, ``--measure`` on the checkpoint (the hooks' states
load) and ``--summary``, all in a temporary folder."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its acceptance_scale_tools
    path = ROOT / "benchmarks" / "acceptance_scale.py"
    spec = importlib.util.spec_from_file_location("acceptance_scale", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_record_with_both_branching_metrics(monkeypatch, tmp_path, capsys):
    mod = _module(monkeypatch)
    common = ["--n", "300", "--k", "20", "--inh-factor", "1", "--rec-scale", "2.5", "--h", "0.05"]
    common += ["--steps", "400", "--window", "400", "--trials", "2", "--trial-steps", "1500"]
    common += ["--discard", "100", "--subsample", "50", "--run-dir", str(tmp_path / "run")]
    common += ["--out", str(tmp_path / "out"), "--record", "tiny"]
    mod.main([*common, "--iterations", "2"])
    record = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert record["iterations"] == 2 and not record["stopped_by_time_limit"]
    md = tmp_path / "out" / "tiny.md"  # a run writes its markdown record too (it did not)
    assert md.read_text().startswith(mod.MARK.format(record="tiny") + "\n")
    for row in record["history"]:
        assert set(mod.HISTORY_KEYS) <= set(row)
        for key in ("branching", "branching_mr"):  # a number, or None (JSON's NaN)
            assert row[key] is None or (isinstance(row[key], float) and math.isfinite(row[key]))
    assert any(row["branching_mr"] is not None for row in record["history"])
    for figure in ("tiny_activity.png", "tiny_training.png"):
        assert (tmp_path / "out" / figure).stat().st_size > 10_000
    mod.main([*common, "--iterations", "2", "--measure"])  # the checkpoint with its two hooks
    measured = json.loads((tmp_path / "out" / "tiny.json").read_text())
    for rec in (measured, record):
        rec["after"].pop("seconds")
    assert measured["after"] == record["after"]  # the same weights, trials and analysis
    mod.main([*common, "--summary"])
    text = (tmp_path / "out" / "tiny.md").read_text()
    assert "| rate (Hz) |" in text and "naive and MR m of each training sequence" in text
    assert not (ROOT / "benchmarks" / "results" / "tiny.json").exists()
    md.write_text("# a record edited by hand\n")  # --summary rewrote it from the JSON's keys
    with pytest.raises(SystemExit, match="not written by this script"):
        mod.main([*common, "--summary"])
    assert md.read_text() == "# a record edited by hand\n"
    with pytest.raises(SystemExit):  # a run too: its JSON replaced the record's, .md kept
        mod.main([*common, "--iterations", "2", "--measure"])
    assert md.read_text() == "# a record edited by hand\n"
    mod.main([*common, "--summary", "--force"])
    assert md.read_text() == text
    with pytest.raises(SystemExit):  # no step left to analyse
        mod.main([*common, "--discard", "1500"])  # (the last --discard counts)
