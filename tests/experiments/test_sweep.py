"""Sweeps on a local Dask cluster: retries, failure reports, resume, a killed worker."""

import json
import os
import signal
import threading
import time
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from faultkit import cli_in_process, record_calls

from infodyn.errors import InputError
from infodyn.experiments import interrupt
from infodyn.experiments.grid import expand_grid
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.sweep import (
    DONE_MARKER,
    SweepResult,
    count_attempts,
    dask_client,
    read_marker,
    run_point,
    run_sweep,
)

SIM_SMALL = {"network": {"n_in": 3, "n_rec": 5}}


@pytest.fixture(scope="module")
def cluster(toy_command):
    """One 2-worker local cluster shared by the tests of this file (started after the toy
    command's folder is on the workers' path)."""
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


def _rows_by_values(result, *keys):
    return {tuple(r.get(k) for k in keys): r for r in result.rows}


def test_bad_input_fails_once_without_retries(tmp_path, toy_command, cluster):
    # an InputError fails the same way every time: it was retried (three runs of the same
    # refusal) and reported as "failed after its retries"
    grid = {"params.x": [1.0], "params.fail_times": [0, -2]}
    res = run_sweep("toy", {}, grid, tmp_path, retries=2, scheduler=cluster.scheduler_address)
    rows = _rows_by_values(res, "params.fail_times")
    assert rows[(0,)]["status"] == "done" and rows[(-2,)]["status"] == "failed"
    assert rows[(-2,)]["attempts"] == 1
    assert [f["error"] for f in res.failures] == ["InputError: planned bad input"]


def test_retries_failures_and_resume(tmp_path, toy_command, cluster):
    pd = pytest.importorskip("pandas")
    grid = {"params.x": [1.0, 2.0], "params.fail_times": [0, 1, -1]}
    res = run_sweep("toy", {}, grid, tmp_path, retries=1, scheduler=cluster.scheduler_address)
    rows = _rows_by_values(res, "params.x", "params.fail_times")
    assert res.n_points == 6 and res.n_ran == 4 and res.n_failed == 2 and res.n_skipped == 0
    for x in (1.0, 2.0):
        assert rows[(x, 0)]["status"] == "done" and rows[(x, 0)]["attempts"] == 1
        assert rows[(x, 1)]["status"] == "done" and rows[(x, 1)]["attempts"] == 2  # retried
        assert rows[(x, 0)]["y"] == x**2 and rows[(x, 1)]["nested.n"] == 2
        assert rows[(x, -1)]["status"] == "failed" and rows[(x, -1)]["attempts"] == 2
    assert all("planned failure" in f["error"] for f in res.failures)
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["n_failed"] == 2 and len(summary["failures"]) == 2
    table = pd.read_csv(tmp_path / "results.csv")
    assert len(table) == 6 and set(table["status"]) == {"done", "failed"}
    assert res.files["parquet"] == "results.parquet"  # pyarrow is in the test extra
    parquet = pd.read_parquet(tmp_path / "results.parquet")
    assert list(parquet.columns) == list(table.columns)
    assert parquet["y"].tolist() == pytest.approx(table["y"].tolist(), nan_ok=True)
    assert (tmp_path / "figures" / "summary.png").stat().st_size > 1000

    # resume (on a fresh default LocalCluster): finished points are skipped, failed ones rerun
    res2 = run_sweep("toy", {}, grid, tmp_path, retries=0, n_workers=1)
    assert res2.n_skipped == 4 and res2.n_failed == 2 and res2.n_ran == 0
    rows2 = _rows_by_values(res2, "params.x", "params.fail_times")
    assert rows2[(1.0, 1)]["attempts"] == 2 and rows2[(1.0, 1)]["status"] == "done"
    assert rows2[(1.0, -1)]["attempts"] == 3
    assert rows2[(2.0, 0)]["y"] == 4.0  # results of skipped points come from their markers

    # a marker from a different config (same folder name) is not trusted
    done = next(Path(tmp_path, "points").glob("*/" + DONE_MARKER))
    marker = json.loads(done.read_text())
    done.write_text(json.dumps({**marker, "key": "other"}))
    res3 = run_sweep("toy", {}, grid, tmp_path, retries=0, scheduler=cluster.scheduler_address)
    assert res3.n_skipped == 3 and res3.n_failed == 2
    assert res3.n_ran == 1

    # extending the grid (new value first) runs only the new point
    wider = {"params.x": [0.5, 1.0, 2.0], "params.fail_times": [0]}
    res4 = run_sweep("toy", {}, wider, tmp_path, scheduler=cluster.scheduler_address)
    assert (res4.n_ran, res4.n_skipped, res4.n_failed) == (1, 2, 0)
    assert [r["y"] for r in res4.rows] == [0.25, 1.0, 4.0]


def test_simulate_sweep_survives_killed_worker_and_resumes(tmp_path, cluster):
    from dask.distributed import Client

    base = {
        "network": {"n_in": 10, "n_rec": 20, "in_scale": 3.0},
        "input": {"n_steps": 300, "rate_hz": 40.0},
        "simulation": {"engine": "event"},
    }
    grid = {"network.rec_scale": [0.5, 1.5]}
    killed: list[int] = []
    raced: list[bool] = []
    with Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())

        def kill_one_running_point():
            deadline = time.time() + 60
            while time.time() < deadline and not killed:
                for log in Path(tmp_path, "points").glob("*/attempts.jsonl"):
                    if (log.parent / DONE_MARKER).exists():
                        continue
                    lines = log.read_text().splitlines()  # made empty, then written
                    if not lines:
                        continue
                    pid = json.loads(lines[-1])["pid"]
                    if pid in worker_pids:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)  # the point may have finished since the check
                        raced.append((log.parent / DONE_MARKER).exists())  # (a stalled thread)
                        return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_one_running_point, daemon=True)
        watcher.start()
        res = run_sweep(
            "simulate", base, grid, tmp_path, seeds=2, scheduler=cluster.scheduler_address
        )
        watcher.join(timeout=1)
    assert killed, "no running point was found to kill"
    assert res.n_points == 4 and res.n_failed == 0 and res.n_ran == 4
    attempts = [r["attempts"] for r in res.rows]
    if raced[0]:  # the kill came after its point had finished: no point needed to run twice
        assert sorted(attempts) in ([1, 1, 1, 1], [1, 1, 1, 2])
    else:
        assert sorted(attempts) == [1, 1, 1, 2]  # only the killed point ran twice
    from infodyn.data.io import load_spikes

    for row in res.rows:
        point = tmp_path / "points" / row["point"]
        spikes = load_spikes(point / "spikes.h5")
        assert row["n_spikes"] == spikes.n_spikes
        assert np.isclose(row["mean_rate_hz"], spikes.rates_hz().mean())
        cfg = json.loads((point / "config.json").read_text())["config"]
        assert cfg["network"]["rec_scale"] == row["network.rec_scale"]
        assert cfg["simulation"]["seed"] == row["seed"]
    # stronger recurrence, more spikes (mean over seeds)
    by = {}
    for row in res.rows:
        by.setdefault(row["network.rec_scale"], []).append(row["n_spikes"])
    assert sum(by[1.5]) > sum(by[0.5])

    # resume after the (simulated) interruption: nothing reruns, no cluster is started
    t0 = time.perf_counter()
    again = run_sweep("simulate", base, grid, tmp_path, seeds=2, scheduler="tcp://127.0.0.1:9")
    assert again.n_skipped == 4 and again.n_ran == 0
    assert [r["attempts"] for r in again.rows] == attempts
    assert time.perf_counter() - t0 < 10


def test_a_finished_point_whose_data_file_is_gone_runs_again(tmp_path, cluster):
    """A point whose spikes.h5 was deleted counted as "done earlier", and its file was never
    made again (the table still named it)."""
    base = {**SIM_SMALL, "input": {"n_steps": 50}}
    grid = {"network.rec_scale": [0.5, 1.5]}
    first = run_sweep("simulate", base, grid, tmp_path, scheduler=cluster.scheduler_address)
    assert first.n_ran == 2
    gone = tmp_path / "points" / first.rows[0]["point"] / "spikes.h5"
    before = gone.read_bytes()
    gone.unlink()
    again = run_sweep("simulate", base, grid, tmp_path, scheduler=cluster.scheduler_address)
    assert (again.n_ran, again.n_skipped) == (1, 1) and gone.is_file()
    assert [r["n_spikes"] for r in again.rows] == [r["n_spikes"] for r in first.rows]
    from infodyn.data.io import load_spikes

    assert load_spikes(gone).n_spikes == first.rows[0]["n_spikes"] and len(before) > 0
    said = [n for n in again.notes if "data files were gone" in n]
    assert said == [f"points that had finished run again: their data files were gone "
                    f"({first.rows[0]['point']}/spikes.h5)"]  # fmt: skip


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        run_sweep(
            "simulate",
            {"network": {"n_rec": 5, "n_in": 3}},
            {"network.rec_scale": [1.0]},
            tmp_path,
            scheduler="tcp://127.0.0.1:9",
            connect_timeout=1.0,
        )
    assert time.perf_counter() - t0 < 15
    assert count_attempts(tmp_path / "points") == 0
    assert not (tmp_path / "config.json").exists()  # written with the results, at the end
    # a folder the sweep made is not left behind empty; one that was there is kept
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_sweep(
            "simulate",
            {"network": {"n_rec": 5, "n_in": 3}},
            {"network.rec_scale": [1.0]},
            tmp_path / "new",
            scheduler="tcp://127.0.0.1:9",
            connect_timeout=1.0,
        )
    assert not (tmp_path / "new").exists() and tmp_path.is_dir()
    for bad in (0, -1, "x", float("nan")):  # 0 never connected, and blamed the address
        with pytest.raises(InputError, match="connect_timeout must be a number of seconds > 0"):
            run_sweep("simulate", {}, {"network.rec_scale": [1.0]}, tmp_path, connect_timeout=bad)


@pytest.mark.parametrize("reply", [None, b"HTTP/1.0 200 OK\r\n\r\n" + b"\xff" * 64])
def test_a_port_that_is_no_scheduler_is_a_clear_error_in_time(reply):
    """A port that accepts and never answers (a dashboard's, say) hung past --connect-timeout
    and past SIGTERM; one that answers with other bytes was read as a message length: a 3 EiB
    MemoryError, reported as "out of memory"."""
    import socket

    from infodyn.experiments.sweep import dask_client

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    outcome: dict[str, BaseException] = {}

    def connect() -> None:  # in a thread: a regression fails here instead of hanging the suite
        try:
            with dask_client(address, connect_timeout=1.0):
                pass
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    attempt = threading.Thread(target=connect, daemon=True)
    attempt.start()
    attempt.join(20)
    server.close()
    for conn in held:
        conn.close()
    assert not attempt.is_alive(), "still connecting after 20 s (--connect-timeout 1)"
    assert isinstance(outcome.get("error"), InputError), outcome
    assert "cannot reach the Dask scheduler at" in str(outcome["error"])
    assert "within 1 s" in str(outcome["error"]) and "8787" in str(outcome["error"])


def test_a_client_made_after_the_deadline_is_closed(monkeypatch):
    """An attempt given up runs on in its thread; the client it made late stayed connected,
    unseen, for the rest of the process. It is closed now, and one made in time is not."""
    import dask.distributed

    from infodyn.experiments import sweep_cluster

    made: list = []

    class SlowClient:
        def __init__(self, address: str, timeout: str) -> None:
            time.sleep(delay)
            self.closed = False
            made.append(self)

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(dask.distributed, "Client", SlowClient)
    monkeypatch.setattr(sweep_cluster, "_GRACE_S", 0.0)
    delay = 0.6
    with pytest.raises(InputError, match="within 0.1 s \\(no answer\\)"):
        sweep_cluster._connect("tcp://127.0.0.1:1", 0.1)
    deadline = time.monotonic() + 10
    while not (made and made[0].closed) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(made) == 1 and made[0].closed
    delay = 0.0
    client = sweep_cluster._connect("tcp://127.0.0.1:1", 5.0)
    assert client is made[1] and not client.closed
    delay = 0.6  # a Ctrl-C while it waits gives the attempt up too (raised by the wait
    join = threading.Thread.join  # itself: SIGINT is ignored in some test workers)

    def interrupted(thread, timeout=None):
        if thread.name == "infodyn-dask-connect":
            raise KeyboardInterrupt
        return join(thread, timeout)

    monkeypatch.setattr(threading.Thread, "join", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep_cluster._connect("tcp://127.0.0.1:1", 5.0)
    monkeypatch.setattr(threading.Thread, "join", join)
    while not (len(made) == 3 and made[2].closed) and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    assert len(made) == 3 and made[2].closed


def test_cli_sweep_bad_input(tmp_path):
    import subprocess
    import sys

    from typer.testing import CliRunner

    from infodyn.cli import app

    cfg = tmp_path / "c.toml"
    cfg.write_text("[network]\nn_rec = 5\nn_in = 3\n")
    out = ["--out", str(tmp_path / "o")]
    for args, needle in [
        (["--grid", "network.bogus=1,2"], "[network.bogus] unknown key"),
        (["--grid", "network.rec_scale"], "KEY=V1"),
        (["--command", "nope"], "unknown command 'nope'"),
    ]:
        res = CliRunner().invoke(app, ["sweep", str(cfg), *out, *args])
        assert isinstance(res.exception, InputError) and needle in str(res.exception)
    # through the console entry point: one line on stderr, exit code 2
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from infodyn.cli import main; main()",
            "sweep",
            str(cfg),
            *out,
            "--grid",
            "network.rec_scale=1",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--connect-timeout",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the Dask scheduler" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_run_sweep_refuses_batch_0(tmp_path):
    from infodyn.experiments.sweep import run_sweep

    with pytest.raises(InputError, match="batch_size"):
        run_sweep("simulate", {}, {"network.rec_scale": [1.0]}, tmp_path, batch_size=0)


def test_a_batch_size_that_batches_nothing_says_so(tmp_path, toy_command, cluster):
    # `--batch 16` on points that cannot share a batch ran them one by one without a word
    grid = {"params.x": [1.0, 2.0]}
    res = run_sweep("toy", {}, grid, tmp_path, batch_size=4, scheduler=cluster.scheduler_address)
    assert res.n_ran == 2
    # a command without a batched runner is told so alone (simulate's rules were the reason)
    assert [n for n in res.notes if "batch" in n] == [
        "batch_size=4: toy has no batched runner; each point ran alone"
    ]


def test_run_sweep_refuses_negative_retries_and_no_workers(tmp_path):
    with pytest.raises(InputError, match="retries must be a whole number >= 0, got -1"):
        run_sweep("simulate", SIM_SMALL, {"network.rec_scale": [1.0]}, tmp_path, retries=-1)
    with pytest.raises(InputError, match="n_workers must be >= 1, got 0"):
        with dask_client(n_workers=0):
            pass


def test_a_sweep_into_another_commands_folder_is_refused(tmp_path):
    RunDir(tmp_path, "simulate").finish({"x": 1}, "simulate", {"done": True})
    with pytest.raises(InputError, match="holds an infodyn simulate run"):
        run_sweep("simulate", SIM_SMALL, {"network.rec_scale": [1.0]}, tmp_path)


def test_a_finished_sweep_rerun_cleans_temporaries_and_stale_failures(tmp_path, toy_command):
    # every point is done: nothing runs (the scheduler is never contacted), but leftovers of
    # a worker killed mid-write are removed and failures.json is the rerun's, not the last one's

    grid = {"params.x": [1.0, 2.0]}
    for p in expand_grid(toy_command, {}, grid):
        run_point(toy_command, p.config, str(tmp_path / "points" / p.name), p.key)
    stale = tmp_path / "points" / ".DONE.json.abc123.json.tmp"
    stale.write_text("{")
    (tmp_path / "failures.json").write_text(json.dumps([{"point": "old", "error": "x"}]))
    # (beside the record of the sweep that wrote it: a folder of the user's own is refused)
    (tmp_path / "config.json").write_text(json.dumps({"command": "sweep", "config": {}}))
    res = run_sweep("toy", {}, grid, tmp_path, scheduler="tcp://127.0.0.1:9")
    assert (res.n_skipped, res.n_ran, res.n_failed) == (2, 0, 0)
    assert not stale.exists()
    assert json.loads((tmp_path / "failures.json").read_text()) == []


def test_a_point_finished_when_an_interrupt_stops_the_sweep_counts_as_done(
    tmp_path, toy_command, cluster, monkeypatch
):
    # a signal (graceful) stops the loop at the first finished task; a point whose worker wrote
    # its marker is done, not "interrupted" (and then the sweep has nothing left to report)
    from infodyn.experiments import sweep

    submit = sweep._Submitted.submit

    def signalled(self, *args):  # the signal comes while the point runs
        fut = submit(self, *args)
        interrupt._state["signal"] = "SIGINT"
        return fut

    monkeypatch.setitem(interrupt._state, "signal", None)
    monkeypatch.setattr(sweep._Submitted, "submit", signalled)
    res = run_sweep("toy", {}, {"params.x": [3.0]}, tmp_path, scheduler=cluster.scheduler_address)
    assert [r["status"] for r in res.rows] == ["done"] and res.rows[0]["y"] == 9.0
    assert json.loads((tmp_path / "results.json").read_text())["n_interrupted"] == 0


def test_no_point_starts_after_a_signal(tmp_path, toy_command, cluster, monkeypatch):
    """Every point was queued at once: after SIGINT a worker took the next point the moment
    its point finished (and it was killed seconds later, its attempt counted). Points are
    submitted as threads free up, and none after the signal."""
    from infodyn.experiments import sweep

    submit, submitted = sweep._Submitted.submit, []

    def signalled(self, client, task, retries):  # the signal comes after the first point
        submitted.append(task[0].values)
        fut = submit(self, client, task, retries)
        interrupt._state["signal"] = "SIGINT"
        return fut

    monkeypatch.setitem(interrupt._state, "signal", None)
    monkeypatch.setattr(sweep._Submitted, "submit", signalled)
    grid = {"params.x": [1.0, 2.0, 3.0]}
    with pytest.raises(interrupt.Interrupted, match="1 of 3 points done, 2 left"):
        run_sweep("toy", {}, grid, tmp_path, scheduler=cluster.scheduler_address)
    assert submitted == [{"params.x": 1.0}]  # two threads free, one point started
    assert len(list((tmp_path / "points").iterdir())) == 1  # no folder of a point not run


def test_an_interrupted_rerun_over_a_replaced_input_leaves_its_points_interrupted(
    tmp_path, toy_command, cluster, monkeypatch
):
    """Rerun after the input file was replaced, then stopped after its first point: the other
    points' markers, of the old file, were read back as "done" (the old file's numbers in the
    table beside the new file's) and the sweep exited 0 as though complete."""
    from infodyn.experiments import sweep

    data = tmp_path / "spikes.h5"
    data.write_bytes(b"old")
    base, grid = {"params": {"data": str(data)}}, {"params.x": [1.0, 2.0, 3.0]}
    at = {"scheduler": cluster.scheduler_address}
    run_sweep("toy", base, grid, tmp_path / "sw", **at)
    data.write_bytes(b"a new recording")
    submit = sweep._Submitted.submit

    def signalled(self, client, task, retries):  # the signal comes after the first point
        fut = submit(self, client, task, retries)
        interrupt._state["signal"] = "SIGINT"
        return fut

    monkeypatch.setitem(interrupt._state, "signal", None)
    monkeypatch.setattr(sweep._Submitted, "submit", signalled)
    with pytest.raises(interrupt.Interrupted, match="1 of 3 points done, 2 left"):
        run_sweep("toy", base, grid, tmp_path / "sw", **at)
    table = (tmp_path / "sw" / "results.csv").read_text().splitlines()
    assert sum(",done," in line for line in table) == 1, table
    assert sum(",interrupted," in line for line in table) == 2, table


@pytest.mark.parametrize(
    "text",
    [b"[]", b"null", b"\xff\xfe not utf-8", b'{"key": "k"}'],
    ids=["list", "null", "not-utf8", "no-results"],
)
def test_a_damaged_done_marker_is_not_trusted(text, tmp_path):
    # a damaged marker counts as missing (the point runs again), as a marker that is not JSON
    # already did; these crashed the whole sweep (AttributeError, UnicodeDecodeError, or
    # KeyError 'results' while the table was built)
    (tmp_path / DONE_MARKER).write_bytes(text)
    assert read_marker(tmp_path, "k") is None
    # and said, as docs/scale.md promises (only an edited checksum was: these reran unsaid)
    with pytest.warns(UserWarning, match=r"DONE.json: it (is not a done marker|cannot be read).*"
                      "the point runs again"):  # fmt: skip
        assert read_marker(tmp_path, "k", warn=True) is None


def test_sweep_with_failed_points_exits_1_or_2_for_bad_input(tmp_path, monkeypatch, capsys):
    """W1 (tests/experiments/test_sweep.py): a sweep whose points failed (after retries) lists
    them on stderr and exits 1, so a script or CI job sees it; one without failures exits 0.
    Points that failed on bad input exit 2, as every command does; when every failed point
    failed on the same input, that is said once (a missing spikes file, per point, exit 1)."""

    (tmp_path / "c.toml").write_text("[network]\nn_rec = 5\n")

    def result(failures, n_points=2):
        return SweepResult(
            out=tmp_path / "o", rows=[], failures=failures, n_points=n_points, n_ran=n_points,
            n_skipped=0, wall_seconds=0.0,
        )  # fmt: skip

    argv = [
        "sweep",
        tmp_path / "c.toml",
        "--grid",
        "network.rec_scale=1,2",
        "--out",
        tmp_path / "o",
    ]
    failed = [{"point": "network.rec_scale=2", "error": "RuntimeError: planned"}]
    record_calls(monkeypatch, "infodyn.experiments.sweep", "run_sweep", result(failed))
    rc, out, err = cli_in_process(argv, capsys)
    assert rc == 1 and "1 failed" in out and "failed: network.rec_scale=2" in err, (out, err)
    failed = [{"point": "network.rec_scale=2", "error": "InputError: planned"}]
    record_calls(monkeypatch, "infodyn.experiments.sweep", "run_sweep", result(failed))
    rc, out, err = cli_in_process(argv, capsys)
    assert rc == 2 and "failed: network.rec_scale=2: InputError: planned" in err, (out, err)
    same = [{"point": f"network.rec_scale={v}", "error": "InputError: x.h5: no such file"}
            for v in (1, 2)]  # fmt: skip
    record_calls(monkeypatch, "infodyn.experiments.sweep", "run_sweep", result(same))
    rc, out, err = cli_in_process(argv, capsys)
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "all 2 points failed on the same input: x.h5: no such file" in err
    # a sweep of one point that failed on bad input says so in one line too (it gave three)
    record_calls(monkeypatch, "infodyn.experiments.sweep", "run_sweep", result(same[:1], 1))
    rc, out, err = cli_in_process(argv, capsys)
    assert rc == 2 and err.count("\n") == 1, err
    assert "its one point failed on bad input: x.h5: no such file" in err
    record_calls(monkeypatch, "infodyn.experiments.sweep", "run_sweep", result([]))
    rc, out, err = cli_in_process(argv, capsys)
    assert rc == 0 and "0 failed" in out, (out, err)


def test_a_sweeps_first_interrupt_says_the_running_points_finish(tmp_path, monkeypatch, capsys):
    """It said "finishing the current step and writing a checkpoint" while the running points
    went on to their end."""
    import infodyn.experiments.sweep as sweep_module

    (tmp_path / "c.toml").write_text("[network]\nn_rec = 5\n")

    def interrupted_sweep(*args, **kwargs):
        # what the first SIGINT runs (called here: SIGINT is ignored in some test workers,
        # and graceful leaves an ignored signal ignored)
        interrupt._handler(signal.SIGINT, None)
        return SweepResult(
            out=tmp_path / "o", rows=[], failures=[], n_points=1, n_ran=1, n_skipped=0,
            wall_seconds=0.0,
        )  # fmt: skip

    monkeypatch.setattr(sweep_module, "run_sweep", interrupted_sweep)
    argv = ["sweep", tmp_path / "c.toml", "--grid", "network.rec_scale=1", "--out", tmp_path / "o"]
    _, _, err = cli_in_process(argv, capsys)
    assert "got SIGINT: letting the running points finish; no new point starts" in err, err


@pytest.mark.parametrize("command", ["channel", "images"])
def test_a_point_cut_off_with_a_journal_is_resumed(command, tmp_path, monkeypatch):
    # channel and images declared no checkpoint: a retried point that had left progress.json
    # was refused ("holds an interrupted ... run: pass --resume") instead of continuing
    from infodyn.experiments.config import get_command
    from infodyn.experiments.journal import StepJournal

    spec = get_command(command)
    assert spec.checkpoint == StepJournal.NAME
    module, name = spec.run.split(":")
    seen = []
    monkeypatch.setattr(f"{module}.{name}", lambda cfg, out, **kw: seen.append(kw) or {})
    out = tmp_path / "p"
    out.mkdir()
    run_point(spec, {}, str(out), "k1")
    (out / StepJournal.NAME).write_text("{}")
    run_point(spec, {}, str(out), "k2")
    assert seen == [{}, {"resume": True}]


def test_a_point_whose_input_file_was_replaced_runs_again(tmp_path, toy_command, cluster):
    """An energy sweep rerun over a new spikes.h5 reported its points "done earlier" with the
    old file's numbers: the config hash sees only the path. The marker now keeps each input
    file's path, size and modification time; a replaced file reruns its points, with a note,
    and an unchanged one is skipped as before."""
    data = tmp_path / "spikes.h5"
    data.write_bytes(b"old")
    base, grid = {"params": {"data": str(data)}}, {"params.x": [1.0, 2.0]}
    at = {"scheduler": cluster.scheduler_address}
    first = run_sweep("toy", base, grid, tmp_path / "sw", **at)
    assert (first.n_ran, first.n_skipped) == (2, 0) and not first.notes
    marker = json.loads(next((tmp_path / "sw" / "points").glob("*/DONE.json")).read_text())
    assert marker["inputs"]["params.data"] == [str(data.resolve()), 3, data.stat().st_mtime_ns]
    again = run_sweep("toy", base, grid, tmp_path / "sw", scheduler="tcp://127.0.0.1:9")
    assert (again.n_ran, again.n_skipped) == (0, 2)
    data.write_bytes(b"a new recording")
    rerun = run_sweep("toy", base, grid, tmp_path / "sw", **at)
    assert (rerun.n_ran, rerun.n_skipped) == (2, 0)
    assert any("input files changed since (params.data)" in n for n in rerun.notes)
    assert [r["data_size"] for r in rerun.rows] == [15, 15]  # the new file's numbers
    # the input gone: both points fail, and their rows carried the outdated markers' results
    # (and counted as run: "2 ran ... 2 failed")
    data.unlink()
    gone = run_sweep("toy", base, grid, tmp_path / "sw", retries=0, **at)
    assert gone.n_ran == 0 and len(gone.failures) == 2
    for row in gone.rows:
        assert row["status"] == "failed" and "y" not in row and "data_size" not in row, row


def test_input_files_are_found_at_any_depth_and_compared(tmp_path):
    from infodyn.experiments.grid import changed_inputs, input_files

    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    a.write_bytes(b"1")
    b.write_bytes(b"22")
    cfg = {"spikes": str(a), "deep": {"files": ["x", str(b)], "n": 3, "engine": "event"}}
    found = input_files(cfg)
    assert set(found) == {"spikes", "deep.files[1]"} and found["deep.files[1]"][1] == 2
    assert changed_inputs({"inputs": found}, found) == []
    assert changed_inputs({"results": {}}, found) == []  # a marker from before: trusted
    b.write_bytes(b"333")
    assert changed_inputs({"inputs": found}, input_files(cfg)) == ["deep.files[1]"]
    assert input_files({"odd": "bad\0path", "none": ""}) == {}


def test_a_finished_point_under_another_name_is_not_run_again(tmp_path, toy_command, cluster):
    """The same config named otherwise (a grid key added at its base value, `=1` for `=1.0`,
    `--seeds 1`) ran again into a folder beside its finished twin: the finished folder (same
    config hash) is now renamed to the new name, and the sweep says so."""
    res = run_sweep(
        "toy", {}, {"params.x": [1.0, 2.0]}, tmp_path, scheduler=cluster.scheduler_address
    )
    assert res.n_ran == 2
    widened = {"params.x": [1.0, 2.0], "params.fail_times": [0]}  # the base value: same configs
    again = run_sweep("toy", {}, widened, tmp_path, scheduler="tcp://127.0.0.1:9")
    assert (again.n_ran, again.n_skipped) == (0, 2)
    assert any("2 finished point(s) of the same config" in n for n in again.notes)
    folders = sorted(d.name for d in (tmp_path / "points").iterdir())
    assert folders == sorted(r["point"] for r in again.rows) and len(folders) == 2
    assert [r["y"] for r in again.rows] == [1.0, 4.0]


def test_a_shrunk_grid_says_its_finished_points_outside_it_are_kept(tmp_path, toy_command, cluster):
    """Rerun with fewer grid values, the table held only the new grid's points without a word
    about the others, which stay in points/ (read as results lost)."""
    grid = {"params.x": [1.0, 2.0, 3.0, 4.0, 5.0]}
    run_sweep("toy", {}, grid, tmp_path, scheduler=cluster.scheduler_address)
    shrunk = run_sweep("toy", {}, {"params.x": [2.0]}, tmp_path, scheduler="tcp://127.0.0.1:9")
    assert (shrunk.n_ran, shrunk.n_skipped, len(shrunk.rows)) == (0, 1, 1)
    said = [n for n in shrunk.notes if "outside this grid" in n]
    assert len(said) == 1 and said[0].startswith("4 finished point(s) outside this grid")
    assert said[0].count("x=") == 3 and ", ...)" in said[0], said  # three named, then "..."
    # a changed base config leaves points outside too: "rerun with their grid values" misled
    assert "or were run from another base config" in said[0]
    assert len(list((tmp_path / "points").iterdir())) == 5
    summary = json.loads((tmp_path / "results.json").read_text())
    assert said[0] in summary["notes"]
    # an outside point's damaged marker: not listed, and no "the point runs again" (it does not)
    outside = next(f for f in (tmp_path / "points").iterdir() if "x=5" in f.name)
    marker = json.loads((outside / "DONE.json").read_text())
    marker["results"] = {**marker["results"], "edited": 1}
    (outside / "DONE.json").write_text(json.dumps(marker))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shrunk = run_sweep("toy", {}, {"params.x": [2.0]}, tmp_path, scheduler="tcp://127.0.0.1:9")
    assert any(n.startswith("3 finished point(s) outside this grid") for n in shrunk.notes)
    with pytest.warns(UserWarning, match="do not match their checksum"):  # its own grid's
        again = run_sweep("toy", {}, grid, tmp_path, scheduler=cluster.scheduler_address)
    assert again.n_skipped == 4 and not any("outside this grid" in n for n in again.notes)


def test_a_ctrl_c_while_the_workers_start_is_heard_once_they_have(monkeypatch):
    # SIGINT was ignored while the Dask workers started (so that they inherit it ignored): a
    # Ctrl-C then was discarded and the sweep ran to its end; blocked as well, it stays pending
    from infodyn.experiments.sweep_cluster import _workers_ignore_sigint

    heard = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: heard.append(signum))
    try:
        with _workers_ignore_sigint():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # what the workers inherit
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(0.05)
            assert heard == []
        for _ in range(100):  # the handler runs between bytecodes, once it is unblocked
            if heard:
                break
            time.sleep(0.01)
    finally:
        signal.signal(signal.SIGINT, old)
    assert heard == [signal.SIGINT]


def test_a_relative_out_is_the_sweeps_folder_on_the_workers_too(tmp_path, monkeypatch, cluster):
    # the workers of --scheduler resolved a relative --out in their own folder: the points were
    # written there (outside the lock) and a resume never found them
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    res = run_sweep("toy", {}, {"params.x": [1.0]}, "rel_out", scheduler=cluster.scheduler_address)
    assert res.out == here / "rel_out" and res.rows[0]["status"] == "done"
    assert len(list((here / "rel_out" / "points").glob("*/DONE.json"))) == 1


def test_another_commands_sweep_and_an_empty_scheduler_are_refused(tmp_path):
    import json

    with pytest.raises(InputError, match="--scheduler is empty"):
        run_sweep("simulate", SIM_SMALL, {"network.rec_scale": [1.0]}, tmp_path, scheduler=" ")
    (tmp_path / "config.json").write_text(
        json.dumps({"command": "sweep", "config": {"command": "energy"}})
    )
    with pytest.raises(InputError, match="holds a sweep of energy: a sweep of simulate there"):
        run_sweep("simulate", SIM_SMALL, {"network.rec_scale": [1.0]}, tmp_path)
    # nor into its points folder, which the outer sweep's reruns clean
    with pytest.raises(InputError, match="lies in the points folder of the sweep in"):
        run_sweep("simulate", SIM_SMALL, {"network.rec_scale": [1.0]}, tmp_path / "points")
    with pytest.raises(InputError, match="lies in the points folder of the sweep in"):
        run_sweep("simulate", SIM_SMALL, {"network.rec_scale": [1.0]}, tmp_path / "points" / "x")


def test_a_sweep_cleans_its_own_temporaries_only(tmp_path):
    # a run's staged file in another subfolder of --out was deleted (the run then failed)
    from infodyn.experiments.sweep import _remove_temporaries

    mine = [tmp_path / ".results.csv.abc.tmp", tmp_path / "points" / "p0" / ".x.h5.abc.h5.tmp"]
    theirs = tmp_path / "other_run" / ".spikes.h5.abc.h5.tmp"
    for path in [*mine, theirs]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    _remove_temporaries(tmp_path)
    assert not any(p.exists() for p in mine) and theirs.exists()
    # a point whose run holds its lock (a remote worker goes on with a cancelled point) keeps
    # its files: the rerun's clean-up deleted them and the point's work was lost
    running = tmp_path / "points" / "p1" / ".spikes.staged.h5"
    running.parent.mkdir(parents=True)
    running.write_bytes(b"x")
    import json
    import os
    import socket

    lock = running.parent / ".simulate.lock"
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    _remove_temporaries(tmp_path)
    assert running.exists()
    # a stale lock (its process gone: killed, out of memory) does not keep its files
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": 2**22 + 12345}))
    _remove_temporaries(tmp_path)
    assert not running.exists()


def test_a_result_named_like_a_grid_column_keeps_the_grid_value(tmp_path):
    """energy's results hold bin_ms and window, which are also its grid keys: the result's
    value replaced the grid's in results.csv (1.0 for 1 on finished rows, 1 on failed ones)."""
    from types import SimpleNamespace

    from infodyn.experiments.sweep_outputs import table_rows

    p = SimpleNamespace(index=0, name="bin_ms=1_x", key="k", values={"bin_ms": 1}, seed=None)
    marker = {"results": {"bin_ms": 2.5, "m": 0.9, "nested": {"bin_ms": 3}}}
    (row,) = table_rows([p], {"k": marker}, set(), {"k": tmp_path})
    assert row["bin_ms"] == 1 and row["results.bin_ms"] == 2.5 and row["m"] == 0.9
    assert row["nested.bin_ms"] == 3


@pytest.mark.parametrize("where", ["points", "point"])
def test_a_file_in_the_way_of_a_points_folder_is_refused_before_any_point_runs(
    where, tmp_path, toy_command
):
    """A file named points in --out, or where a point's folder goes: a worker's mkdir raised
    NotADirectoryError / FileExistsError, Dask retried and printed a traceback, and the sweep
    ended with a failed point (exit 1)."""
    from infodyn.experiments.config import get_command

    grid = {"params.x": [1.0, 2.0]}
    out = tmp_path / "sw"
    (out / "points").parent.mkdir(parents=True)
    blocker = out / "points"
    if where == "point":  # the point's folder, as the sweep names it
        blocker.mkdir()
        blocker = blocker / expand_grid(get_command("toy"), {}, grid, None)[0].name
    blocker.write_text("")
    with pytest.raises(InputError, match="a file is in the way of the sweep's"):
        run_sweep("toy", {}, grid, out, scheduler="tcp://127.0.0.1:9")


def test_a_scheduler_file_is_read_for_its_address(tmp_path, toy_command, cluster):
    """`--scheduler` named a scheduler file (the hand-off of `dask scheduler --scheduler-file`
    and dask-jobqueue) and was refused as an address "(ValueError)", which said nothing."""
    from infodyn.experiments.sweep_cluster import scheduler_address

    file = tmp_path / "scheduler.json"
    file.write_text(json.dumps({"type": "Scheduler", "address": cluster.scheduler_address}))
    res = run_sweep("toy", {}, {"params.x": [1.0, 2.0]}, tmp_path / "out", scheduler=str(file))
    assert res.n_ran == 2 and [r["y"] for r in res.rows] == [1.0, 4.0]
    assert scheduler_address("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    for text, said in (("{", "not a Dask scheduler file"), ('{"id": 1}', "without an 'address'")):
        file.write_text(text)
        with pytest.raises(InputError, match=said):
            scheduler_address(str(file))
    # a file not (yet) there was "cannot reach ... (ValueError: missing port number)" after
    # the connection's timeout
    for missing in (str(tmp_path / "gone.json"), "sched.json", "~/no/such/file"):
        with pytest.raises(InputError, match="no such scheduler file"):
            scheduler_address(missing)
    assert scheduler_address("127.0.0.1:8786") == "127.0.0.1:8786"
    # one written while the sweep waits (a batch job starting both) is read, as Dask does,
    # also when it is first seen empty (Dask writes it in place; CI read it half-written)
    late = tmp_path / "late.json"
    threading.Timer(0.2, late.write_text, [""]).start()
    writer = threading.Timer(0.6, late.write_text, [json.dumps({"address": "tcp://h:1"})])
    writer.start()
    assert scheduler_address(str(late), wait_s=10) == "tcp://h:1"
    writer.join()
    file.write_text("{")  # still not one at the deadline: refused as before
    with pytest.raises(InputError, match="not a Dask scheduler file"):
        scheduler_address(str(file), wait_s=0.3)


def test_a_point_whose_workers_died_says_why_and_whose_limit_ended_it():
    """Dask's KilledWorker line named neither memory nor that its own limit on worker deaths,
    not --retries, ended the point (a worker out of memory gave attempts = 4 with --retries 1)."""
    from distributed.scheduler import KilledWorker

    from infodyn.experiments.sweep import _failure_text

    worker = types.SimpleNamespace(address="tcp://w:1")
    text = _failure_text(KilledWorker("run-abc", worker, 3))
    assert text.startswith("the worker processes running this point died (most often out of")
    assert "after 4 deaths (distributed.scheduler.allowed-failures + 1" in text  # as Dask says
    assert "--retries" in text and "[KilledWorker: Attempted to run task" in text
    assert _failure_text(ValueError("bad")) == "ValueError: bad"


def test_a_sweep_stopped_before_its_config_is_run_again_there(
    tmp_path, toy_command, cluster, monkeypatch
):
    """A sweep stopped after its results.csv and before its config.json left a folder the
    rerun refused as the user's own ("holds results.csv ... but no infodyn sweep run")."""
    from infodyn.experiments.rundir import STARTED

    grid = {"params.x": [1.0, 2.0]}

    def stopped(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(RunDir, "write_config", stopped)
        with pytest.raises(KeyboardInterrupt):
            run_sweep("toy", {}, grid, tmp_path, scheduler=cluster.scheduler_address)
    assert (tmp_path / "results.csv").is_file() and (tmp_path / STARTED).is_file()
    again = run_sweep("toy", {}, grid, tmp_path, scheduler=cluster.scheduler_address)
    assert again.n_skipped == 2 and not (tmp_path / STARTED).exists()
    assert json.loads((tmp_path / "config.json").read_text())["command"] == "sweep"
