"""The infodyn command through a subprocess: simulate, errors with exit code 2, help."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from faultkit import cli_subprocess

import infodyn as idn

SMALL = """
[network]
n_in = 20
n_rec = 50
in_scale = 4.0
n_ref = 2

[input]
kind = "poisson"
rate_hz = 40.0
n_steps = {n_steps}

[simulation]
engine = "{engine}"
"""


def run_cli(*args, cwd=None, env=None):
    return cli_subprocess(*args, cwd=cwd, env=env)


@pytest.mark.parametrize("engine, n_steps", [("jax", 300), ("event", 2500)])
def test_simulate_writes_run_directory(tmp_path, engine, n_steps):
    cfg = tmp_path / "c.toml"
    cfg.write_text(SMALL.format(engine=engine, n_steps=n_steps))
    out = tmp_path / "run"
    res = run_cli("simulate", str(cfg), "--out", str(out))
    assert res.returncode == 0, res.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["engine"] == engine and results["n_steps"] == n_steps
    assert results["mean_rate_hz"] > 0
    for name in ("spikes.h5", "config.json", "figures/raster.png", "figures/rates.png"):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["command"] == "simulate" and "infodyn_version" in config
    assert "holds a finished run" not in res.stderr
    if engine == "jax":  # a second run into the folder replaced the first without a word
        again = run_cli("simulate", str(cfg), "--out", str(out))
        assert again.returncode == 0, again.stderr
        assert "holds a finished run; this one replaces it when it finishes" in again.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        ("[network]\nv_th = -1.0\n", "v_th"),
        ("[network]\ntau_m = 0\n", "tau_m"),
        ("[network]\nbogus = 1\n", "bogus"),
        ("[input]\nrate_hz = 'fast'\n", "rate_hz"),
        ("[nonsense]\n", "nonsense"),
        ("this is = = not toml", "invalid TOML"),
        ("[network]\nk_in = 5\n", "k_in needs connectivity"),
    ],
)
def test_bad_configs_exit_2_with_one_line(tmp_path, content, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    res = run_cli("simulate", str(cfg), "--out", str(tmp_path / "o"))
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_missing_config_exit_2(tmp_path):
    res = run_cli("simulate", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "no such" in res.stderr and "Traceback" not in res.stderr


def test_help_lists_commands():
    res = run_cli("--help")
    assert res.returncode == 0 and "simulate" in res.stdout


def test_python_dash_m_infodyn_is_the_command_line(tmp_path):
    """``python -m infodyn`` (no script on PATH) runs the same app, exit codes included;
    ``--version`` prints the package's version."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    run = [sys.executable, "-m", "infodyn"]
    res = subprocess.run([*run, "--help"], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0 and "criticality" in res.stdout
    res = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env, timeout=300)
    assert (res.returncode, res.stdout) == (0, f"infodyn {idn.__version__}\n")
    res = subprocess.run(
        [*run, "simulate", "missing.toml", "--out", "o"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert res.returncode == 2 and "missing.toml" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_example_configs_are_valid():
    from infodyn.experiments.config import SimulateConfig, load_config

    root = Path(__file__).resolve().parents[2] / "examples"
    paths = sorted(root.glob("simulate*.toml"))
    assert [p.name for p in paths] == [
        "simulate_brunel_ai.toml", "simulate_lif.toml", "simulate_sparse_100k.toml"
    ]  # fmt: skip
    for path in paths:
        cfg = load_config(path, SimulateConfig)
        net = cfg.build_network()
        n_in = cfg.network.get("n_in", net.n_rec)  # private inputs: one a unit
        assert (net.n_rec, net.n_in) == (cfg.network["n_rec"], n_in)


def test_simulate_sparse_k_in_network(tmp_path):
    """``[network] k_in`` builds a sparse network that the event engine streams to HDF5."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        SMALL.format(engine="event", n_steps=2500).replace(
            "n_rec = 50", 'n_rec = 300\nconnectivity = "ei"\nk_in = 40\nrec_scale = 2.0'
        )
    )
    out = tmp_path / "run"
    res = run_cli("simulate", str(cfg), "--out", str(out))
    assert res.returncode == 0, res.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["n_units"] == 300 and results["mean_rate_hz"] > 0
    network = json.loads((out / "config.json").read_text())["config"]["network"]
    assert network["k_in"] == 40 and network["weights"] == "auto"


def test_simulate_refuses_a_dense_network_larger_than_memory(tmp_path):
    cfg = tmp_path / "big.toml"
    cfg.write_text("[network]\nn_in = 5\nn_rec = 100000\n")
    res = run_cli(
        "simulate", str(cfg), "--out", str(tmp_path / "o"), env={"INFODYN_MEMORY_LIMIT": "4G"}
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "needs" in res.stderr and "is free" in res.stderr and "k_in" in res.stderr


def test_simulate_resume_extends_a_finished_run(tmp_path):
    """--resume with a larger [input] n_steps runs the new steps only; with as many steps it
    says how to extend (exit 2, one line)."""
    for n_steps in (200, 350):
        (tmp_path / f"c{n_steps}.toml").write_text(SMALL.format(engine="event", n_steps=n_steps))
    out = tmp_path / "run"
    assert run_cli("simulate", str(tmp_path / "c200.toml"), "--out", str(out)).returncode == 0
    res = run_cli("simulate", str(tmp_path / "c350.toml"), "--out", str(out), "--resume")
    assert res.returncode == 0, res.stderr
    assert "simulated 350 steps of 50 units (event engine, resumed at step 200)" in res.stdout
    again = run_cli("simulate", str(tmp_path / "c350.toml"), "--out", str(out), "--resume")
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.strip().count("\n") == 0, again.stderr
    assert "all its 350 steps: nothing to resume; to extend it, raise [input] n_steps" in (
        again.stderr
    )
    # (spike for spike the longer run: tests/experiments/test_simulate_extend.py)
    assert idn.data.load_spikes(out / "spikes.h5").n_steps == 350
