"""``infodyn energy`` through a subprocess: run directory, results, bad input with exit code 2."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from infodyn.energy import IsingModel, KPairwiseModel, all_states


def run_cli(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "infodyn.cli", "energy", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_energy_cli_writes_run_directory(tmp_path):
    rng = np.random.default_rng(0)
    n = 8
    J = np.triu(rng.normal(0.3, 0.6, (n, n)), 1)
    truth = IsingModel(J + J.T, rng.normal(2.0, 0.5, n))
    raster = truth.sample(6000, seed=1, chains=2).reshape(2, 3000, n)
    raster = np.concatenate([raster, np.zeros((2, 3000, 1), np.uint8)], axis=2)  # a silent unit
    path = tmp_path / "spikes.npz"
    np.savez(path, raster=raster)
    out = tmp_path / "run"
    res = run_cli(str(path), "--out", str(out), "--samples", "2000")
    assert res.returncode == 0, res.stderr
    r = json.loads((out / "results.json").read_text())
    assert r["bits_per_word"] == n and r["dropped_constant_bits"] == [n]
    assert r["n_train"] == 4800 and r["n_test"] == 1200
    h = r["heldout"]
    assert h["model_test_bits"] > h["independent_test_bits"]
    assert r["memories"]["n_distinct"] >= 1 and r["log_z"]["method"] == "exact"
    assert sum(t["fraction_of_words"] for t in r["memories"]["top"]) <= 1.0 + 1e-12
    assert all(0 <= t["basin"]["1_flips"] <= 1 for t in r["memories"]["top"])
    for f in r["files"]["figures"] + ["model.npz", "config.json"]:
        assert (out / f).exists(), f
    model = IsingModel.load(out / "model.npz")
    assert model.n == n and model.fit_info["method"] == "mpf"
    assert json.loads((out / "config.json").read_text())["command"] == "energy"
    # the thermodynamics section: C(T)/N of the saved model, by brute force at one temperature
    th = r["thermodynamics"]
    hc = th["heat_capacity"]
    T = hc["temperatures"][10]
    e = model.energy(all_states(n))
    p = np.exp(-(e - e.min()) / T)
    p /= p.sum()
    assert hc["c_per_unit"][10] == pytest.approx((p @ e**2 - (p @ e) ** 2) / T**2 / n, rel=1e-8)
    assert hc["method"] == "exact" and min(hc["temperatures"]) <= hc["peak_temperature"]
    assert 0 < th["entropy_bits_per_unit_T1"] < 1
    assert th["zipf_data"]["slope"] < 0 and th["zipf_model"]["n_words"] == 2000
    # the K-pairwise model through the same command
    out2 = tmp_path / "run_k"
    res = run_cli(str(path), "--out", str(out2), "--samples", "2000", "--model", "k_pairwise")
    assert res.returncode == 0, res.stderr
    r2 = json.loads((out2 / "results.json").read_text())
    assert isinstance(IsingModel.load(out2 / "model.npz"), KPairwiseModel)
    assert r2["fit"]["model"] == "k_pairwise"
    assert r2["heldout"]["model_test_bits"] > r2["heldout"]["independent_test_bits"]


def _main(monkeypatch, capsys, *args):
    """Run the console entry point in-process; return (exit code, stderr)."""
    from infodyn.cli import main

    monkeypatch.setattr(sys, "argv", ["infodyn", "energy", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_energy_cli_bad_input(tmp_path, monkeypatch, capsys):
    code, err = _main(monkeypatch, capsys, str(tmp_path / "missing.h5"), "--out", str(tmp_path))
    assert code == 2 and "no such file" in err
    path = tmp_path / "flat.npz"
    np.savez(path, raster=np.zeros((200, 4), np.uint8))
    code, err = _main(monkeypatch, capsys, str(path), "--out", str(tmp_path / "o2"))
    assert code == 2 and "nothing to fit" in err
    assert len(err.strip().splitlines()) == 1
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o3"), "--units", "a-b"
    )
    assert code == 2 and "units must look like '0,3,5' or '0-19,25'" in err
    code, err = _main(  # a repeat was accepted by energy and refused by info
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o3"), "--units", "0-2,1"
    )
    assert code == 2 and "nothing to fit" in err  # the set {0, 1, 2}, as in criticality
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o4"), "--method", "x"
    )
    assert code == 2 and "method" in err


def test_energy_cli_max_units_names_its_option(tmp_path, monkeypatch, capsys):
    # the refusal named max_units, a setting the command line could not change
    rng = np.random.default_rng(4)
    path = tmp_path / "six.npz"
    np.savez(path, raster=(rng.random((400, 6)) < 0.3).astype(np.uint8))
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o"), "--max-units", "4"
    )
    assert code == 2 and "6 units spike, more than --max-units = 4" in err and "raise" in err
    assert len(err.strip().splitlines()) == 1
    code, err = _main(
        monkeypatch, capsys, str(path), "--out", str(tmp_path / "o"), "--max-units", "6",
        "--samples", "200",
    )  # fmt: skip
    assert code in (0, None), err
