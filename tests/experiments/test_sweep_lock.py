"""One sweep at a time in a folder (infodyn.experiments.sweep_lock): a live lock refuses, a lock
abandoned on this host or without a heartbeat is taken over, the lock goes when the sweep ends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from infodyn.errors import InputError
from infodyn.experiments import sweep_lock as sl


@pytest.fixture
def fast(monkeypatch):
    """Heartbeats every 20 ms, stale after 0.3 s without one."""
    monkeypatch.setattr(sl, "HEARTBEAT_S", 0.02)
    monkeypatch.setattr(sl, "STALE_S", 0.3)
    monkeypatch.setattr(sl, "POLL_S", 0.05)


@pytest.fixture
def patient(monkeypatch):
    """Heartbeats every 20 ms, stale only after 30 s: a refusal "at once" (well under STALE_S)
    is told from one after STALE_S without a 0.3 s bound that a loaded machine's stall breaks,
    and a beating lock stays fresh through such a stall."""
    monkeypatch.setattr(sl, "HEARTBEAT_S", 0.02)
    monkeypatch.setattr(sl, "STALE_S", 30.0)
    monkeypatch.setattr(sl, "POLL_S", 0.05)


def _write_lock(folder, **record):
    path = folder / sl.LOCK_NAME
    path.write_text(json.dumps({"token": "theirs", "started": "then", **record}))
    return path


def test_a_second_sweep_in_the_same_folder_is_refused_while_the_first_holds_the_lock(
    tmp_path, patient
):
    with sl.sweep_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        t0 = time.perf_counter()
        with pytest.raises(InputError, match=r"another sweep is running in .* \(pid \d+ on "):
            with sl.sweep_lock(tmp_path):
                pass
        # refused once a heartbeat was seen, long before the lock would have gone stale
        assert time.perf_counter() - t0 < 5
        assert path.exists()
    assert not path.exists()  # released at the end


def test_the_lock_is_released_when_the_sweep_raises(tmp_path, fast):
    with pytest.raises(RuntimeError), sl.sweep_lock(tmp_path):
        raise RuntimeError("a point crashed the sweep")
    assert not (tmp_path / sl.LOCK_NAME).exists()


def test_a_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(sl, "STALE_S", 60.0)  # no waiting for a heartbeat
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    _write_lock(tmp_path, host=socket.gethostname(), pid=int(dead.stdout))
    t0 = time.perf_counter()
    with sl.sweep_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("record", [{"host": "node-17", "pid": 1}, None])
def test_a_lock_without_a_heartbeat_is_taken_over_after_stale_s(tmp_path, fast, record):
    # a SLURM job killed on another node, or a lock whose writer died before writing it
    if record is None:
        (tmp_path / sl.LOCK_NAME).write_text("")
    else:
        _write_lock(tmp_path, **record)
    t0 = time.perf_counter()
    with sl.sweep_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert time.perf_counter() - t0 >= 0.3


def test_a_lock_of_another_host_that_keeps_beating_is_refused(tmp_path, patient):
    path = _write_lock(tmp_path, host="node-17", pid=1)
    stop = threading.Event()

    def beat():
        while not stop.wait(0.02):
            os.utime(path)

    thread = threading.Thread(target=beat)
    thread.start()
    try:
        with pytest.raises(InputError, match="pid 1 on node-17, started then"):
            with sl.sweep_lock(tmp_path):
                pass
    finally:
        stop.set()
        thread.join()
    assert json.loads(path.read_text())["token"] == "theirs"  # left to its owner


def test_an_unwritable_folder_is_one_line_not_a_lock_message(tmp_path):
    with pytest.raises(InputError) as info, sl.sweep_lock(tmp_path / "missing"):
        pass
    assert "another sweep" not in str(info.value)


def test_run_sweep_refuses_before_it_removes_the_other_sweeps_temporary_files(tmp_path, fast):
    from infodyn.experiments.sweep import run_sweep

    out = tmp_path / "sweep"
    out.mkdir()
    tmp_file = out / "points" / "a" / ".results.json.x1.json.tmp"  # the other sweep's write
    tmp_file.parent.mkdir(parents=True)
    tmp_file.write_text("{")
    with sl.sweep_lock(out):
        with pytest.raises(InputError, match="another sweep is running"):
            run_sweep("simulate", {}, {"network.rec_scale": [0.5]}, out, n_workers=1)
    assert tmp_file.exists()


def test_a_live_process_on_this_host_keeps_its_lock_without_a_heartbeat(tmp_path, patient):
    # a sweep suspended by Ctrl-Z cannot beat; taking its lock let it remove the new sweep's
    # temporary files when it resumed
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _write_lock(tmp_path, host=socket.gethostname(), pid=sleeper.pid)
        t0 = time.perf_counter()
        with pytest.raises(InputError, match=f"pid {sleeper.pid} on "):
            with sl.sweep_lock(tmp_path):
                pass
        assert time.perf_counter() - t0 < 5  # at once, not after STALE_S
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_heartbeat_thread_leaves_sigint_and_sigterm_to_the_main_thread(tmp_path):
    # while a sweep's main thread blocks SIGINT (its workers starting), a Ctrl-C delivered to
    # the heartbeat thread was discarded (SIGINT ignored then), and the sweep ran to its end
    import signal
    import threading
    import time

    from infodyn.experiments.sweep_lock import folder_lock

    with folder_lock(tmp_path, ".sweep.lock", "sweep"):
        deadline = time.monotonic() + 10
        while True:
            beat = [t for t in threading.enumerate() if t.name != "MainThread" and t.daemon]
            blocked = [_blocked(t.native_id) for t in beat]
            if any({signal.SIGINT, signal.SIGTERM} <= b for b in blocked):
                break
            assert time.monotonic() < deadline, blocked
            time.sleep(0.01)


def _blocked(tid: int) -> set[int]:
    """The signals thread ``tid`` of this process blocks (its SigBlk mask)."""
    import os

    try:
        status = open(f"/proc/{os.getpid()}/task/{tid}/status").read()
    except OSError:
        return set()
    mask = int(
        next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk")), 16
    )
    return {n for n in range(1, 65) if mask >> (n - 1) & 1}


def test_is_held_judges_a_lock_of_another_host_by_its_age_without_waiting(tmp_path):
    import json
    import os
    import time

    from infodyn.experiments.sweep_lock import STALE_S, is_held

    lock = tmp_path / ".simulate.lock"
    lock.write_text(json.dumps({"host": "node17", "pid": 4242}))
    t0 = time.perf_counter()
    assert is_held(lock)  # touched just now: its heartbeat may be alive
    old = time.time() - 2 * STALE_S
    os.utime(lock, (old, old))
    assert not is_held(lock)
    assert time.perf_counter() - t0 < 1.0  # (it watched each for 30 s)
    assert not is_held(tmp_path / "none.lock")
