"""One sweep point on a worker (infodyn.experiments.sweep_point): a finished point is not run
again, attempts are counted in bytes, and a full disk fails a point at once."""

import errno
import warnings

import pytest

from infodyn.experiments.config import get_command
from infodyn.experiments.sweep_point import count_attempts, read_marker, run_point, run_point_batch


def test_a_point_that_finished_is_not_run_again_on_a_worker(tmp_path, monkeypatch):
    """Dask reruns the finished tasks of a lost worker that are still referenced: a kill -9 of
    one worker reran every point it had finished in the run (4 points at attempts 2). A worker
    now returns a finished point's marker, one point or a batch, and runs only the others."""
    spec = get_command("channel")
    module, name = spec.run.split(":")
    seen = []
    monkeypatch.setattr(f"{module}.{name}", lambda cfg, out, **kw: seen.append(out) or {"y": 1})
    out = tmp_path / "p"
    first = run_point(spec, {}, str(out), "k1")
    assert run_point(spec, {}, str(out), "k1") == first and seen == [out]
    assert count_attempts(out) == 1
    batched = get_command("simulate")
    module, name = batched.batch.split(":")
    ran = []

    def runner(cfgs, outs):
        ran.append([o.name for o in outs])
        return [{"y": len(ran)} for _ in outs]

    monkeypatch.setattr(f"{module}.{name}", runner)
    items = [({}, str(tmp_path / "a"), "ka"), ({}, str(tmp_path / "b"), "kb")]
    (done_a,) = run_point_batch(batched, items[:1])
    again_a, done_b = run_point_batch(batched, items)
    assert ran == [["a"], ["b"]] and again_a == done_a and done_b["results"] == {"y": 2}
    assert run_point_batch(batched, items) == [done_a, done_b] and len(ran) == 2


def test_attempts_are_counted_through_a_byte_that_is_not_utf8(tmp_path):
    """One stray byte in attempts.jsonl (a bad disk, an editor) failed every rerun of the sweep
    with an internal error, and a point without its marker could never finish."""
    (tmp_path / "attempts.jsonl").write_bytes(b'{"key": "k"}\n\xff\xfe\n')
    assert count_attempts(tmp_path) == 2
    assert count_attempts(tmp_path / "missing") == 0


def test_a_full_disk_fails_a_point_at_once_with_one_line(tmp_path, monkeypatch):
    """No space, a read-only folder or permissions fail the same way on every retry: they were
    retried twice and reported as crashes with h5py's text. Now like bad input: one line, no
    retry. Other OS errors (EIO) are still retried."""
    spec = get_command("channel")
    module, name = spec.run.split(":")
    raised = [OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.h5"))]

    def runner(cfg, out, **kw):
        raise raised[0]

    monkeypatch.setattr(f"{module}.{name}", runner)
    marker = run_point(spec, {}, str(tmp_path / "p"), "k")
    assert marker == {"key": "k", "input_error": f"{tmp_path / 'x.h5'}: no space left on the "
                      "device; free some space or choose another location"}  # fmt: skip
    raised[0] = OSError(errno.EIO, "Input/output error")
    with pytest.raises(OSError, match="Input/output"):
        run_point(spec, {}, str(tmp_path / "q"), "k")


def test_a_simulate_point_cut_off_continues_from_its_checkpoint(tmp_path, monkeypatch):
    """A simulate point stopped with a checkpoint (a sweep's SIGTERM) is continued when the
    point runs again: it was refused (a checkpoint in its folder and no resume)."""
    from infodyn.experiments.config import SimulateConfig, validate
    from infodyn.experiments.interrupt import Interrupted, _state
    from infodyn.experiments.simulate_run import run_simulation

    config = {
        "network": {"n_in": 3, "n_rec": 8},
        "input": {"n_steps": 300},
        "simulation": {"engine": "event", "chunk_steps": 100},
    }
    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(validate(SimulateConfig, config), tmp_path / "p")
    monkeypatch.setitem(_state, "signal", None)
    marker = run_point(get_command("simulate"), config, str(tmp_path / "p"), "k")
    assert marker["results"]["resumed_from_step"] == 100
    assert not (tmp_path / "p" / "checkpoint").exists()


def _interrupted_point(tmp_path, monkeypatch, config):
    from infodyn.experiments.config import SimulateConfig, validate
    from infodyn.experiments.interrupt import Interrupted, _state
    from infodyn.experiments.simulate_run import run_simulation

    monkeypatch.setitem(_state, "signal", "SIGTERM")
    with pytest.raises(Interrupted):
        run_simulation(validate(SimulateConfig, config), tmp_path / "p")
    monkeypatch.setitem(_state, "signal", None)


def test_a_simulate_point_whose_weights_changed_runs_afresh(tmp_path, monkeypatch):
    """Its checkpoint was made from other weights (the params file was rewritten): the point
    ran into the refusal as bad input, for good; it now starts afresh, as a finished point whose
    input files changed runs again."""
    from infodyn.experiments.config import SimulateConfig, validate
    from infodyn.network import save_params

    config = {
        "network": {"n_in": 3, "n_rec": 8},
        "input": {"n_steps": 300},
        "simulation": {"engine": "event", "chunk_steps": 100, "params": str(tmp_path / "w.npz")},
    }
    net = validate(SimulateConfig, config).build_network()
    save_params(tmp_path / "w.npz", net.init(seed=1))
    _interrupted_point(tmp_path, monkeypatch, config)
    save_params(tmp_path / "w.npz", net.init(seed=2))
    marker = run_point(get_command("simulate"), config, str(tmp_path / "p"), "k")
    assert "input_error" not in marker and "resumed_from_step" not in marker["results"]
    assert not (tmp_path / "p" / "checkpoint").exists()


def test_a_batched_sweep_continues_a_point_cut_off_with_a_checkpoint(tmp_path, monkeypatch):
    """The batched runner recomputed such a point and left its checkpoint beside DONE.json;
    a later plain run into the folder was then refused as interrupted."""
    config = {
        "network": {"n_in": 3, "n_rec": 8},
        "input": {"n_steps": 300},
        "simulation": {"engine": "jax", "chunk_steps": 100},
    }
    _interrupted_point(tmp_path, monkeypatch, config)
    other = {**config, "input": {"n_steps": 300, "seed": 2}}
    markers = run_point_batch(
        get_command("simulate"),
        [(config, str(tmp_path / "p"), "k1"), (other, str(tmp_path / "q"), "k2")],
    )
    assert markers[0]["results"]["resumed_from_step"] == 100
    assert "resumed_from_step" not in markers[1]["results"]
    assert not (tmp_path / "p" / "checkpoint").exists()


def test_a_marker_whose_results_were_changed_runs_the_point_again(tmp_path, monkeypatch):
    # a marker edited or damaged into other valid JSON was taken as done, and its numbers went
    # into results.csv as they were
    import json
    import math

    from infodyn.experiments.sweep_point import DONE_MARKER

    spec = get_command("channel")
    module, name = spec.run.split(":")
    results = {"y": 0.125, "z": math.nan, "n": 3}
    seen = []
    monkeypatch.setattr(f"{module}.{name}", lambda cfg, out, **kw: seen.append(out) or results)
    out = tmp_path / "p"
    first = run_point(spec, {}, str(out), "k1")
    assert run_point(spec, {}, str(out), "k1") == first and len(seen) == 1  # NaN stored as null
    marker = json.loads((out / DONE_MARKER).read_text())
    marker["results"]["y"] = 0.126
    (out / DONE_MARKER).write_text(json.dumps(marker))
    with pytest.warns(UserWarning, match="do not match their checksum.*runs again"):
        assert read_marker(out, "k1", warn=True) is None  # the sweep's first look says so
    with warnings.catch_warnings():  # the worker's look does not say it again
        warnings.simplefilter("error")
        again = run_point(spec, {}, str(out), "k1")
    assert len(seen) == 2 and again["results"]["y"] == 0.125
    del marker["checksum"]  # a marker written before checksums: read as it is
    (out / DONE_MARKER).write_text(json.dumps(marker))
    assert run_point(spec, {}, str(out), "k1")["results"]["y"] == 0.126 and len(seen) == 2


def test_a_failed_batch_keeps_the_points_that_finished_alone(tmp_path, toy_command):
    """A batch that raised after its retries marked every point failed, those that had run
    alone and written their marker (after one point's bad input) among them: their results
    were left out of the table and counted as failures."""
    from infodyn.experiments.grid import expand_grid
    from infodyn.experiments.sweep import _Submitted

    points = expand_grid(toy_command, {}, {"params.x": [1.0, 2.0]})
    point_dir = {p.key: tmp_path / p.name for p in points}
    finished = run_point(
        toy_command, points[0].config, str(point_dir[points[0].key]), points[0].key
    )

    class Crashed:
        def result(self):
            raise RuntimeError("worker lost")

    run = _Submitted(toy_command, point_dir, {}, [])
    run.take(points, Crashed())
    assert run.markers == {points[0].key: finished}
    assert [(f["point"], f["error"]) for f in run.failures] == [
        (points[1].name, "RuntimeError: worker lost")
    ]


def test_a_points_warnings_print_as_the_command_lines_do(tmp_path, monkeypatch, capsys):
    """A point's warning came out on the worker's stderr in Python's two-line format (file,
    line and source of the code that warned): one line ``warning: ...`` as a direct run."""
    spec = get_command("channel")
    module, name = spec.run.split(":")

    def runner(cfg, out, **kw):
        warnings.warn("params were trained in another network", UserWarning, stacklevel=1)
        return {"y": 1}

    monkeypatch.setattr(f"{module}.{name}", runner)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored after
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        run_point(spec, {}, str(tmp_path / "p"), "k1")
    assert capsys.readouterr().err == "warning: params were trained in another network\n"
