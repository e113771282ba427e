"""The public API under the same faults: InputError naming the path or key (never a raw
MemoryError / EOFError / PermissionError), warnings where a value means nothing, declared
choices checked, atomic files with the umask's mode, and the CLI's classification (issue 15)."""

from __future__ import annotations

import io
import os
import stat
import warnings
from contextlib import redirect_stderr

import numpy as np
import pytest

from infodyn.errors import InputError


@pytest.fixture
def spike_file(tmp_path):
    from faultkit import tiny_spikes

    return tiny_spikes(tmp_path / "s.h5")


@pytest.mark.parametrize("fault", ["missing", "empty", "truncated", "garbage"])
@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_load_spikes_faults_name_the_path(fault, suffix, tmp_path, spike_file):
    from faultkit import breakages

    from infodyn.data.spikes import SpikeTrain, load_spikes

    good = spike_file
    if suffix == ".npz":
        good = tmp_path / "s.npz"
        sp = load_spikes(spike_file)
        np.savez(
            good, times=sp.times, units=sp.units, n_units=sp.n_units, n_steps=sp.n_steps, dt=sp.dt
        )
        assert isinstance(load_spikes(good), SpikeTrain)
    path = breakages(good, tmp_path, "b", suffix)[fault]
    with pytest.raises(InputError, match=path.name):
        load_spikes(path)


def test_raw_os_and_memory_errors_become_input_errors(monkeypatch, spike_file, tmp_path):
    from infodyn.data import images as images_mod
    from infodyn.data.spikes import load_spikes

    for exc in (MemoryError(), PermissionError(13, "Permission denied"), EOFError("cut")):

        def boom(*a, exc=exc, **k):
            raise exc

        monkeypatch.setattr("infodyn.data.spikes._load_h5", boom)
        with pytest.raises(InputError, match="s.h5: cannot read this spike file"):
            load_spikes(spike_file)
        monkeypatch.setattr(images_mod, "_read_image", boom)
        with pytest.raises(InputError, match="img.png: cannot read this image"):
            images_mod.read_image(tmp_path / "img.png")


def test_checkpoint_and_journal_faults(tmp_path):
    from infodyn.experiments.interrupt import StepJournal
    from infodyn.learning.tasks import PatternGeneration
    from infodyn.learning.trainer import Trainer, TrainOptions
    from infodyn.network import LIF

    net = LIF(n_in=2, n_rec=4, n_out=1)
    trainer = Trainer(net, PatternGeneration(n_in=2, n_steps=10), "mse", TrainOptions())
    ck = tmp_path / "checkpoint.npz"
    trainer.save_checkpoint(ck)
    ck.write_bytes(ck.read_bytes()[:50])
    with pytest.raises(InputError, match="checkpoint.npz: cannot read this checkpoint"):
        trainer.load_checkpoint(ck)
    (tmp_path / "progress.json").write_text("{")
    with pytest.raises(InputError, match="progress.json: corrupt"):
        StepJournal(tmp_path, "abc", resume=True)
    j = StepJournal(tmp_path / "j", "abc", resume=False)
    j.put("a", {"x": float("nan")})
    assert np.isnan(StepJournal(tmp_path / "j", "abc", resume=True).get("a")["x"])
    with pytest.raises(InputError, match="different config"):
        StepJournal(tmp_path / "j", "xyz", resume=True)


def test_declared_choices_are_checked():
    from infodyn.learning.losses import build_loss
    from infodyn.learning.trainer import TrainOptions

    for field in ("optimizer", "method", "feedback", "reset", "precision"):
        with pytest.raises(InputError, match=f"TrainOptions.{field} must be one of"):
            TrainOptions(**{field: "foo"})
    for weight in (float("nan"), float("inf"), "x"):
        with pytest.raises(InputError, match="weight of loss term"):
            build_loss([{"kind": "mse", "weight": weight}])


def test_run_sweep_refuses_batch_0(tmp_path):
    from infodyn.experiments.sweep import run_sweep

    with pytest.raises(InputError, match="batch_size"):
        run_sweep("simulate", {}, {"network.rec_scale": [1.0]}, tmp_path, batch_size=0)


def test_values_of_one_sample_warn():
    from infodyn.information import (
        UndersampledWarning,
        entropy,
        mutual_information,
        transfer_entropy,
    )

    calls = [
        lambda: entropy(np.array([[1, 0]])),
        lambda: entropy(np.array([[1, 0]]), estimator="nsb"),
        lambda: mutual_information(np.array([[1]]), np.array([[0]])),
        lambda: transfer_entropy(np.array([0, 1]), np.array([1, 0])),
    ]
    for call in calls:
        with pytest.warns(UndersampledWarning, match="only 1 sample"):
            call()


def test_resume_config_check_names_keys(tmp_path):
    from infodyn.experiments.resume import changed_keys, check_resume_config
    from infodyn.experiments.rundir import RunDir

    old = {"training": {"lr": 0.1, "iterations": 5}, "network": {"n_rec": 4}}
    RunDir(tmp_path).write_config(old, "train")
    new = {"training": {"lr": 0.2, "iterations": 9}, "network": {"n_rec": 4, "extra": 1}}
    assert changed_keys(old, new) == ["training.lr", "training.iterations", "network.extra"]
    with pytest.raises(InputError, match=r"training.lr \(0.1 -> 0.2\), network.extra"):
        check_resume_config(tmp_path, new)
    assert check_resume_config(tmp_path, {**old, "training": {"lr": 0.1, "iterations": 9}}) == {
        "training.iterations": [5, 9]
    }
    assert "training.lr" in check_resume_config(tmp_path, new, allow_changes=True)


@pytest.mark.parametrize("mask", [0o002, 0o022, 0o077])
def test_atomic_files_get_the_umask_mode(mask, tmp_path):
    from infodyn.data.atomic import save_npz, write_json, write_text

    old = os.umask(mask)
    try:
        paths = [
            write_json(tmp_path / "a.json", {"x": 1}),
            write_text(tmp_path / "b.txt", "x"),
            save_npz(tmp_path / "c.npz", x=np.zeros(2)),
        ]
    finally:
        os.umask(old)
    for p in paths:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, (p, oct(p.stat().st_mode))
    assert not list(tmp_path.glob(".*.tmp"))


def test_interrupted_write_leaves_no_temporary(tmp_path):
    from infodyn.data.atomic import atomic_path, remove_temporaries

    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".x.json.abc.json.tmp").write_text("left by a killed worker")
    assert remove_temporaries(tmp_path) == 1 and not list(tmp_path.rglob("*.tmp"))


def test_main_guard_check(tmp_path, monkeypatch):
    import sys
    import types

    from infodyn.experiments.mainguard import require_main_guard

    script = tmp_path / "s.py"
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    script.write_text("from x import run_sweep\nif __name__ == '__main__':\n    run_sweep(1)\n")
    require_main_guard()
    script.write_text("from x import run_sweep\n\nres = run_sweep(1)\n")
    with pytest.raises(InputError, match=r"s.py:3: run_sweep\(\) is called at the top level"):
        require_main_guard()


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (PermissionError(13, "Permission denied", "/x/out"), "/x/out: permission denied"),
        (FileExistsError(17, "File exists", "out"), "out: a file is in the way"),
        (NotADirectoryError(20, "Not a directory", "f/o"), "f/o: a file is in the way"),
        (OSError(28, "No space left on device", "big.h5"), "big.h5: no space left"),
        (MemoryError(), "out of memory"),
        (InputError("[network.n_rec] bad"), "[network.n_rec] bad"),
    ],
)
def test_cli_explains_expected_failures(exc, words):
    from infodyn.cli.errors import explain

    assert words in explain(exc)


def test_cli_bug_keeps_traceback_and_says_it_is_a_bug():
    import typer

    from infodyn.cli.errors import run

    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise RuntimeError("unexpected")

    @app.command()
    def other() -> None:
        pass

    err = io.StringIO()
    with redirect_stderr(err):
        rc = run(app, ["boom"])
    text = err.getvalue()
    assert rc == 1 and "Traceback" in text and "RuntimeError: unexpected" in text
    assert "this is a bug in infodyn" in text.strip().splitlines()[-1]


def test_no_avalanches_is_said_on_summary(tmp_path):
    from infodyn.data.spikes import SpikeTrain, save_spikes
    from infodyn.experiments.criticality_run import run_criticality

    dense = np.ones((300, 5), dtype=np.uint8)  # every bin active: no silent bins
    path = save_spikes(tmp_path / "busy.h5", SpikeTrain.from_dense(dense, dt=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_criticality(path, tmp_path / "c", n_boot=0, avalanche_bin_ms="step")
    assert res["avalanches"]["n"] == 0
    assert (
        "no avalanche" in res["avalanches"]["note"]
        and "--avalanche-bin-ms" in res["avalanches"]["note"]
    )
    assert any("no avalanche" in w for w in res["warnings"])


def test_branching_fit_at_grid_edge_is_not_meaningful():
    from infodyn.criticality import branching_ratio

    rng = np.random.default_rng(0)
    a = rng.poisson(5.0, size=(1, 4000)).astype(float)
    a[0, 1::2] = 0.0  # alternating: r_1 < 0, decay faster than one bin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = branching_ratio(a, method="mr", n_boot=0, kmax=20)
    assert not res.meaningful and np.isnan(res.m)
