"""SIGINT / SIGTERM in the middle of long commands (real processes): the current step finishes,
a checkpoint is written, the last line says how to resume, the exit code is 130, no temporary
file is left, and the resumed run reaches the result of an uninterrupted one (issue 15).

Covered: train (both signals), sweep (SIGTERM), channel (SIGINT), images (SIGTERM), simulate
(SIGTERM: a checkpoint beside the run that was there, which stays whole, and ``--resume``; a
second signal stops at once: no checkpoint, the run folder is left as it was; the process sends
itself the signals, ``signal_driver.py``, so they always arrive together). ``demo``
runs the same pipeline code as ``images`` (infodyn.cli.demo.run_with_progress).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import signal
from pathlib import Path

import numpy as np
import pytest
from faultkit import (
    CHANNEL,
    IMAGES,
    SIM,
    TRAIN,
    assert_clean_interrupt,
    signal_when,
    start_cli,
    start_python,
)

SIGNAL_DRIVER = Path(__file__).parent / "signal_driver.py"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_train_interrupt_then_resume_equals_uninterrupted(sig, tmp_path):
    from infodyn.experiments.config import load_config
    from infodyn.experiments.train_run import TrainConfig, run_training

    long = TRAIN.replace("iterations = 3", "iterations = 100000")
    (tmp_path / "long.toml").write_text(long)
    out = tmp_path / "run"
    proc = start_cli(["train", "long.toml", "--out", "run"], tmp_path)
    rc, err = signal_when(proc, (out / "config.json").exists, sig)
    assert_clean_interrupt(rc, err, out, "infodyn train long.toml --out run --resume")
    assert not (out / "results.json").exists()
    k = int(np.load(out / "checkpoint.npz")["iteration"])
    assert k >= 1
    # continue to k + 2 iterations (more iterations is the one change a resume accepts)
    (tmp_path / "more.toml").write_text(
        long.replace("iterations = 100000", f"iterations = {k + 2}")
    )
    proc = start_cli(["train", "more.toml", "--out", "run", "--resume"], tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    ref = tmp_path / "ref"
    (tmp_path / "more_ref.toml").write_text((tmp_path / "more.toml").read_text())
    run_training(load_config(tmp_path / "more_ref.toml", TrainConfig), ref)
    a, b = np.load(out / "checkpoint.npz"), np.load(ref / "checkpoint.npz")
    assert int(a["iteration"]) == int(b["iteration"]) == k + 2
    for key in ("param_w_in", "param_w_rec", "param_w_out"):
        np.testing.assert_array_equal(a[key], b[key])
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["iteration"] for r in metrics] == list(range(1, k + 3))


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_sweep_sigterm_keeps_finished_points_and_resume_marks_all_done(tmp_path):
    from infodyn.experiments.config import SimulateConfig, validate
    from infodyn.experiments.simulate_run import run_simulation

    (tmp_path / "sim.toml").write_text(SIM + '[simulation]\nengine = "jax"\n')
    steps = ["400", "401", "402", "403", "404"]  # each length compiles anew: points take a while
    args = [
        "sweep",
        "sim.toml",
        "--grid",
        f"input.n_steps={','.join(steps)}",
        "--workers",
        "1",
        "--out",
        "sw",
    ]
    out = tmp_path / "sw"
    proc = start_cli(args, tmp_path)
    rc, err = signal_when(proc, lambda: any(out.glob("points/*/DONE.json")), signal.SIGTERM)
    assert_clean_interrupt(rc, err, out, "infodyn sweep sim.toml")
    status = [r["status"] for r in _rows(out / "results.csv")]
    assert "done" in status and "interrupted" in status, status
    proc = start_cli(args, tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    rows = _rows(out / "results.csv")
    assert [r["status"] for r in rows] == ["done"] * len(steps)
    assert not list(out.rglob(".*.tmp"))
    for row in rows:  # the same numbers as uninterrupted single runs
        data = {
            "network": {"n_in": 3, "n_rec": 8},
            "input": {"n_steps": int(row["input.n_steps"])},
            "simulation": {"engine": "jax"},
        }
        ref = run_simulation(validate(SimulateConfig, data), tmp_path / f"ref{row['index']}")
        assert float(row["mean_rate_hz"]) == pytest.approx(ref["mean_rate_hz"], rel=1e-12)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sweep_stops_when_the_whole_process_group_is_signalled(sig, tmp_path):
    # Ctrl-C in a terminal (and a scheduler's kill) signals the Dask workers too: they died of
    # it mid-point (tracebacks from the command line's handler, which the spawned workers had
    # installed while importing the ``infodyn`` script), and the sweep waited for ever
    (tmp_path / "sim.toml").write_text(SIM.replace("n_steps = 60", "n_steps = 100000"))
    args = ["sweep", "sim.toml", "--grid", "network.rec_scale=0.5:1.5:12", "--out", "sw"]
    out = tmp_path / "sw"
    proc = start_cli(args, tmp_path, new_session=True)
    rc, err = signal_when(proc, lambda: any(out.glob("points/*/DONE.json")), sig, group=True)
    assert_clean_interrupt(rc, err, out, "infodyn sweep sim.toml")
    status = [r["status"] for r in _rows(out / "results.csv")]
    assert "done" in status and "interrupted" in status, status


def test_channel_sigint_then_resume_equals_uninterrupted(tmp_path):
    # many short steps, so that the run is still going when the signal arrives on a fast machine
    strengths = ", ".join(f"{0.25 * (i + 1):g}" for i in range(24))
    text = CHANNEL.replace("input_strengths = [1.0, 2.0]", f"input_strengths = [{strengths}]")
    (tmp_path / "ch.toml").write_text(text)
    out = tmp_path / "ch"
    proc = start_cli(["channel", "ch.toml", "--out", "ch", "--quiet"], tmp_path)
    rc, err = signal_when(proc, (out / "progress.json").exists, signal.SIGINT)
    assert_clean_interrupt(rc, err, out, "infodyn channel ch.toml --out ch --resume")
    assert not (out / "results.json").exists()
    done = json.loads((out / "progress.json").read_text())["steps"]
    assert 1 <= len(done) < 2 * 24  # the untrained and the 'rate' row of each network
    proc = start_cli(["channel", "ch.toml", "--out", "ch", "--quiet", "--resume"], tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    assert not (out / "progress.json").exists()
    got = json.loads((out / "results.json").read_text())["rows"]
    # the uninterrupted run, also in its own process (this one runs JAX with x64 enabled)
    proc = start_cli(["channel", "ch.toml", "--out", "ref", "--quiet"], tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    ref = json.loads((tmp_path / "ref" / "results.json").read_text())["rows"]
    drop = ("train_seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in got] == [
        {k: v for k, v in r.items() if k not in drop} for r in ref
    ]


def test_images_sigterm_then_resume_completes(tmp_path):
    (tmp_path / "im.toml").write_text(IMAGES)
    out = tmp_path / "im"
    proc = start_cli(["images", "im.toml", "--out", "im"], tmp_path)
    rc, err = signal_when(proc, (out / "progress.json").exists, signal.SIGTERM)
    assert_clean_interrupt(rc, err, out, "--resume")
    assert not (out / "results.json").exists()
    # the signal lands once the first step is journalled: in training (a checkpoint), after it
    # (the network step journalled) or, on a loaded machine, before training began (neither;
    # this raced and failed once under load): the resume below completes in every case
    steps = json.loads((out / "progress.json").read_text())["steps"]
    training = out / "training"
    started = (training / "metrics.json").exists()  # iterations ran
    assert "network" in steps or not started or (training / "checkpoint.npz").exists()
    proc = start_cli(["images", "im.toml", "--out", "im", "--resume"], tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    res = json.loads((out / "results.json").read_text())
    assert res["network"]["training"]["iterations"] == 3
    history = json.loads((out / "training_history.json").read_text())
    assert [r["iteration"] for r in history] == [1, 2, 3]
    assert not (out / "progress.json").exists() and not list(out.rglob(".*.tmp"))


def _finished_run(tmp_path):
    """A finished small simulate run in ``tmp_path/run``: the folder and its files' bytes."""
    out = tmp_path / "run"
    (tmp_path / "small.toml").write_text(SIM + '[simulation]\nengine = "event"\n')
    proc = start_cli(["simulate", "small.toml", "--out", "run"], tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {"config.json", "results.json", "spikes.h5"} <= set(before)
    return out, before


def _long_simulation(tmp_path, n_steps: int, chunk_steps: int) -> None:
    """``tmp_path/long.toml``: a longer run of 400 units into the same folder."""
    long = SIM.replace("n_rec = 8", "n_rec = 400").replace("n_steps = 60", f"n_steps = {n_steps}")
    (tmp_path / "long.toml").write_text(long + f"[simulation]\nchunk_steps = {chunk_steps}\n")


def _assert_left_as_it_was(rc: int, err: str, out, before, hint: str) -> None:
    """Exit 130 with ``hint`` last, no traceback or temporary file, and the files of the run
    that was in ``out`` unchanged (a checkpoint folder beside them is the caller's to check)."""
    assert rc == 130, (rc, err[-2000:])
    assert "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("infodyn: interrupted") and hint in last, last
    first = next(line for line in err.splitlines() if line.startswith("infodyn: got SIG"))
    assert "finishing the current chunk of steps and writing a checkpoint" in first, first
    assert not list(out.rglob(".*.tmp")), list(out.rglob(".*.tmp"))
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before


def _driven(tmp_path, *driver_args: str) -> tuple[int, str]:
    """Run ``signal_driver.py`` with ``driver_args`` in ``tmp_path``: exit code and stderr."""
    proc = start_python([str(SIGNAL_DRIVER), *driver_args], tmp_path)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


@pytest.mark.parametrize("module", ["jax", "jaxlib._jax", "jaxlib._hlo"])
def test_ctrl_c_inside_an_import_at_start_up_stops_once_the_import_is_done(module, tmp_path):
    # Ctrl-C at start-up, raised inside JAX's import (from Python code a compiled module's
    # initialisation calls): jaxlib._hlo's aborted the process ("terminate called after
    # throwing an instance of 'nanobind::python_error'", exit 134), jaxlib._jax's was lost (the
    # command ran to its end) and jax's left the import undone; it is now raised after it
    if importlib.util.find_spec(module) is None:  # a module of jaxlib's own
        pytest.skip(f"this jaxlib has no {module}")
    _long_simulation(tmp_path, n_steps=4_000, chunk_steps=1_000)
    args = ["--in-import", module, "SIGINT", "simulate", "long.toml", "--out", "run"]
    rc, err = _driven(tmp_path, *args)
    lines = err.strip().splitlines()
    assert lines[-1] == f"driver: signalled True, {module} imported True", lines[-3:]
    assert rc == 130, (rc, err[-2000:])
    assert "Traceback" not in err and "Exception ignored" not in err, err[-3000:]
    assert lines[-2].startswith("infodyn: interrupted at once"), lines  # before any work
    assert "got SIG" not in err and not (tmp_path / "run").exists()


def test_sigterm_at_start_up_stops_as_ctrl_c_does(tmp_path):
    # SIGTERM before the command's work (here from inside JAX's import) ended the process at
    # once with 143 and no line, where SIGINT gave 130 and "interrupted at once"
    _long_simulation(tmp_path, n_steps=4_000, chunk_steps=1_000)
    args = ["--in-import", "jax", "SIGTERM", "simulate", "long.toml", "--out", "run"]
    rc, err = _driven(tmp_path, *args)
    lines = err.strip().splitlines()
    assert rc == 130, (rc, err[-2000:])
    assert lines[-1] == "driver: signalled True, jax imported True", lines[-3:]
    assert lines[-2].startswith("infodyn: interrupted at once"), lines
    assert "Traceback" not in err and not (tmp_path / "run").exists()


def test_simulate_sigterm_checkpoints_beside_the_run_that_was_there(tmp_path):
    out, before = _finished_run(tmp_path)
    _long_simulation(tmp_path, n_steps=2_000_000, chunk_steps=20_000)
    proc = start_cli(["simulate", "long.toml", "--out", "run"], tmp_path)
    rc, err = signal_when(proc, lambda: any(out.rglob(".*spikes*.tmp")), signal.SIGTERM)
    _assert_left_as_it_was(
        rc, err, out, before, "resume with: infodyn simulate long.toml --out run --resume"
    )
    assert (out / "checkpoint" / "state.npz").is_file()
    proc = start_cli(["simulate", "long.toml", "--out", "run"], tmp_path)  # no --resume
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "holds an interrupted simulation" in err, err[-2000:]


def test_simulate_resumed_from_the_command_line_has_the_uninterrupted_spikes(tmp_path):
    from infodyn.data import load_spikes

    _long_simulation(tmp_path, n_steps=4_000, chunk_steps=1_000)
    rc, err = _driven(tmp_path, "SIGTERM", "simulate", "long.toml", "--out", "run")
    assert rc == 130 and "after 1,000 of 4,000 steps, checkpointed" in err, err[-2000:]
    lines = []
    for args in (["--out", "run", "--resume"], ["--out", "whole"]):
        proc = start_cli(["simulate", "long.toml", *args], tmp_path)
        stdout, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        lines.append(stdout)
    assert "event engine, resumed at step 1000)" in lines[0] and "resumed" not in lines[1]
    resumed, whole = (load_spikes(tmp_path / name / "spikes.h5") for name in ("run", "whole"))
    assert whole.n_spikes > 1000
    np.testing.assert_array_equal(resumed.times, whole.times)
    np.testing.assert_array_equal(resumed.units, whole.units)
    assert json.loads((tmp_path / "run" / "results.json").read_text())["resumed_from_step"] == 1000


@pytest.mark.parametrize(
    "signals", [["SIGINT", "SIGTERM"], ["SIGTERM", "SIGINT"]], ids=["INT+TERM", "TERM+INT"]
)
def test_simulate_second_signal_stops_at_once_and_leaves_the_run_folder(signals, tmp_path):
    # the process signals its own main thread after the first chunk (signal_driver.py): two
    # signals from another process can reach Python apart on a loaded machine, the second after
    # the command had stopped on the first (rc -2 once in CI)
    out, before = _finished_run(tmp_path)
    _long_simulation(tmp_path, n_steps=4_000, chunk_steps=1_000)
    rc, err = _driven(tmp_path, ",".join(signals), "simulate", "long.toml", "--out", "run")
    _assert_left_as_it_was(rc, err, out, before, "interrupted at once")
    assert f"infodyn: got {signals[0]}:" in err, err[-2000:]
    assert not (out / "checkpoint").exists()  # stopped before its first checkpoint
    # no checkpoint: the line does not advise a --resume that would be refused
    assert "resume with" not in err.strip().splitlines()[-1], err[-2000:]


def _ignored(pid: int) -> set[int]:
    """The signals process ``pid`` ignores (its SigIgn mask; empty once it has exited)."""
    try:
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        return set()
    mask = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("SigIgn")), "0")
    return {n for n in range(1, 65) if int(mask, 16) >> (n - 1) & 1}


@pytest.mark.parametrize(
    ("sig", "when"),
    [(signal.SIGINT, "at once"), (signal.SIGTERM, "at once"), (signal.SIGINT, "in shutdown")],
    ids=["SIGINT-at-once", "SIGTERM-at-once", "SIGINT-in-shutdown"],
)
def test_a_signal_after_the_command_finished_keeps_its_exit_code(sig, when, tmp_path):
    # a signal after the summary line and complete files ended the process by that signal
    # (-2, -15) during the interpreter's shutdown (0.5-0.8 s with JAX imported), or with 130
    # ("interrupted at once") before it, right after the line (6 in 8 runs): a batch scheduler
    # read the finished run as failed
    import time

    (tmp_path / "sim.toml").write_text(SIM)
    proc = start_cli(["simulate", "sim.toml", "--out", "run"], tmp_path)
    line = proc.stdout.readline()
    assert line.startswith("simulated 60 steps"), (line, proc.communicate()[1][-2000:])
    if when == "in shutdown":  # once the shutdown ignores both signals (a fixed 0.1 s after
        deadline, ignoring = time.monotonic() + 60, False  # the line could fall before it)
        while not ignoring and proc.poll() is None and time.monotonic() < deadline:
            ignoring = {signal.SIGINT, signal.SIGTERM} <= _ignored(proc.pid)
            time.sleep(0.002)
        assert ignoring, "the shutdown never ignored SIGINT and SIGTERM"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (proc.returncode, err[-2000:])
    assert (tmp_path / "run" / "results.json").is_file()
