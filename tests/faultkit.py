"""Helpers and tiny inputs of the fault-injection tests (tests/cli/faults, and the fault cases of
tests/data): importable as ``faultkit`` from every test (tests/conftest.py puts tests/ on the path).

:func:`run_driver` runs many command lines through ``cli_driver.py`` in ONE subprocess (so JAX
is imported once) and returns the outcome by case id; :func:`assert_one_line_error` is the
promise every expected failure keeps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

DRIVER = Path(__file__).parent / "cli" / "faults" / "cli_driver.py"

SIM = "[network]\nn_in = 3\nn_rec = 8\n[input]\nn_steps = 60\n"
TRAIN = (
    "[network]\nn_in = 3\nn_rec = 8\nn_out = 1\n"
    '[task]\nkind = "pattern_generation"\nn_steps = 30\n'
    '[[loss]]\nkind = "mse"\n'
    '[training]\niterations = 3\ncheckpoint_every = 2\nprecision = "float64"\nlr = 0.003\n'
)
CHANNEL = (
    "[channel]\nn_in = 6\nn_rec = 6\nn_stimuli = 2\nn_steps = 30\nresponse_start = 10\n"
    "input_strengths = [1.0, 2.0]\nseeds = [0]\nconditions = ['rate']\nn_iterations = 1\n"
    "trials_per_stimulus = 2\ntest_trials_per_stimulus = 4\nbin_steps = 10\n"
    "n_subsets = 1\nn_shuffles = 1\nlr = 1e-3\n"
)
IMAGES = (
    'stages = ["image_energy", "network"]\n'
    "[images]\nsizes = [3]\nn_patches = 150\n"
    "[energy]\nn_samples = 10\ndenoise_patterns = 4\ndenoise_flips = [1]\n"
    "[stimulus]\nsize = 2\nn_stimuli = 2\ntrial_ms = 30\nresponse_start_ms = 10\n"
    "[network]\nn_rec = 8\ntau_m = 20.0\nv_th = 0.03\nn_ref = 2\n"
    "[training]\niterations = 3\nbatch_size = 2\n"
    "[analysis]\nn_trials = 10\n"
)


def unwritable_dir(root: Path) -> Path:
    """A folder the test process cannot create files in (root ignores modes: use /sys)."""
    if os.geteuid() == 0:
        return Path("/sys/infodyn-fault-test")
    path = root / "readonly"
    path.mkdir(exist_ok=True)
    path.chmod(0o555)
    return path


def random_raster(shape: tuple[int, int], p: float = 0.1, seed: int = 0) -> np.ndarray:
    """A (T, N) 0/1 raster, each entry 1 with probability ``p``."""
    return (np.random.default_rng(seed).random(shape) < p).astype(np.uint8)


def write_raster(path: Path, dense: np.ndarray, dt: float = 1.0) -> Path:
    """Save a (T, N) 0/1 raster as a spike file (format from the suffix); returns ``path``."""
    from infodyn.data.spikes import SpikeTrain, save_spikes

    save_spikes(path, SpikeTrain.from_dense(np.asarray(dense, dtype=np.uint8), dt=dt))
    return path


def tiny_spikes(path: Path) -> Path:
    return write_raster(path, random_raster((400, 10), 0.05))


def cli_subprocess(
    *args, cwd: Path | None = None, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python -m infodyn.cli ARGS`` in a fresh process, as a user types it (warnings off, output
    captured as text); ``env`` adds to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "infodyn.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        timeout=timeout,
    )


def cli_in_process(argv: list, capsys) -> tuple[int, str, str]:
    """Run ``infodyn ARGV`` in this process the way the console script does (error handling and
    exit codes of ``infodyn.cli.errors.run``): ``(exit code, stdout, stderr)``."""
    from infodyn.cli import app
    from infodyn.cli.errors import run

    capsys.readouterr()
    rc = run(app, [str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def record_calls(monkeypatch, module: str, name: str, result) -> list:
    """Replace ``module.name`` by a stub that returns ``result`` and records each call's
    ``(args, kwargs)`` in the returned list: what a command passes to the library."""
    import importlib

    calls = []

    def stub(*args, **kwargs):
        calls.append((args, kwargs))
        return result

    monkeypatch.setattr(importlib.import_module(module), name, stub)
    return calls


def fail_at_call(monkeypatch, owner, name: str, call: int, error: BaseException) -> None:
    """Make ``owner.name`` (a method or function) raise ``error`` at its ``call``-th call (from
    1) and behave as before otherwise: a training that fails after some iterations."""
    original, calls = getattr(owner, name), []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


def breakages(good: Path, folder: Path, stem: str, suffix: str) -> dict[str, Path]:
    """Missing, empty, truncated and garbage versions of ``good`` in ``folder``."""
    data = good.read_bytes()
    out = {
        "missing": folder / f"{stem}_missing{suffix}",
        "empty": folder / f"{stem}_empty{suffix}",
        "truncated": folder / f"{stem}_truncated{suffix}",
        "garbage": folder / f"{stem}_garbage{suffix}",
    }
    out["empty"].write_bytes(b"")
    out["truncated"].write_bytes(data[: max(1, len(data) // 3)])
    out["garbage"].write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 300, np.uint8)))
    return out


def run_driver(cases: list[dict], cwd: Path, timeout: float = 600) -> dict[str, dict]:
    """Run ``cases`` through cli_driver.py in one subprocess; results by case id."""
    cases_file, results_file = cwd / "_cases.json", cwd / "_results.json"
    cases_file.write_text(json.dumps(cases))
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(cases_file), str(results_file)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r["id"]: r for r in json.loads(results_file.read_text())}


def assert_one_line_error(res: dict, *must_contain: str) -> str:
    """Exit 2, no traceback, and stderr is exactly one line ``infodyn: error: ...``."""
    err = res["stderr"]
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert res["rc"] == 2, (res["rc"], err)
    assert len(lines) == 1 and lines[0].startswith("infodyn: error: "), err
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def no_complete_looking_output(out: Path) -> None:
    """A failed run leaves nothing that reads as a finished result."""
    if out.is_dir():
        assert not (out / "results.json").exists(), f"{out}/results.json after a failure"
        assert not list(out.rglob(".*.tmp")), list(out.rglob(".*.tmp"))


def start_python(args: list[str], cwd: Path, new_session: bool = False) -> subprocess.Popen:
    """``python ARGS`` as a real process for a signal test, with SIGINT at its default, as a
    command typed in a terminal has it, and stderr and stdout as text pipes.

    The test run may have been started with SIGINT ignored (a background job, ``nohup ... &``),
    which its processes inherit, and the command line leaves an ignored signal ignored. A small
    Python resets it and ``exec``s the real one (a ``preexec_fn`` would fork this multithreaded
    process). ``new_session``: in a process group of its own (``os.killpg`` then signals it and
    its children, as Ctrl-C in a terminal or a batch scheduler's kill does).
    """
    reset_then_exec = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    return subprocess.Popen(
        [sys.executable, "-c", reset_then_exec, *args],
        cwd=cwd,
        env={**os.environ, "MPLBACKEND": "Agg"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )


def start_cli(args: list[str], cwd: Path, new_session: bool = False) -> subprocess.Popen:
    """``python -m infodyn.cli ARGS`` as a real process (for signal tests)."""
    return start_python(["-m", "infodyn.cli", *args], cwd, new_session)


def signal_when(
    proc: subprocess.Popen, ready, sig: int | list[int], timeout: float = 300, group: bool = False
) -> tuple[int, str]:
    """Send ``sig`` (or each of a list, back to back) once ``ready()`` is true; return (exit
    code, stderr). ``group``: to the process group of a ``new_session`` process."""
    import time

    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, f"ended before the signal: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() - t0 < timeout, "the run never got ready"
        time.sleep(0.05)
    for one in sig if isinstance(sig, list) else [sig]:
        if group:
            os.killpg(proc.pid, one)
        else:
            proc.send_signal(one)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def assert_clean_interrupt(rc: int, err: str, out: Path, resume_hint: str) -> None:
    """Exit 130, the checkpoint line with the resume command last, no traceback, no temp files."""
    assert rc == 130, (rc, err[-2000:])
    assert "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("infodyn: interrupted: ") and resume_hint in last, last
    assert not list(out.rglob(".*.tmp")), list(out.rglob(".*.tmp"))
