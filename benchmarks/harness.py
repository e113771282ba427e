"""What the side-by-side benchmarks share: one-thread workers in their own venvs, their result
lines, the machine load, and writing a table into its block of RESULTS.md.

A worker is a script in ``benchmarks/peers/`` started as its own process with one thread
(:data:`ONE_THREAD_ENV`); it prints one line ``RESULT {json}`` (``peers/common.py``), which
:func:`run_worker` parses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ONE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_PLATFORMS": "cpu",
    "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class Runner:
    """One simulator: its key, the venv it runs in, its script and extra arguments.

    ``venv`` is ``".venv"`` (the orchestrator's own interpreter), a path relative to the
    repository root, or an absolute path.
    """

    key: str
    venv: str
    script: str
    args: tuple[str, ...] = ()

    def python_in(self, root: Path) -> Path:
        """The venv's interpreter (the orchestrator's for ``".venv"``)."""
        if self.venv == ".venv":
            return Path(sys.executable)
        venv = Path(self.venv).expanduser()
        return (venv if venv.is_absolute() else root / venv) / "bin" / "python"


def run_worker(python: Path, script: Path, args: list[str], timeout: float) -> dict:
    """Run one worker with one thread; its parsed ``RESULT`` line (plus ``process_s``, the
    wall time of the whole process) or ``{"error": ...}``."""
    if not python.exists():
        return {"error": f"venv {python.parents[1]} missing (see the set-up in the docstring)"}
    cmd = [str(python), str(script), *args]
    env = {**os.environ, **ONE_THREAD_ENV}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    result = json.loads(lines[-1][len("RESULT ") :])
    result["process_s"] = time.perf_counter() - t0
    return result


def load_average() -> str:
    """The 1/5/15-minute load averages as text."""
    try:
        return " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def machine() -> str:
    """This machine for a record: architecture, cores and load now (not assumed)."""
    return f"{platform.machine()}, {os.cpu_count()} cores, load average {load_average()}"


def write_block(
    results: Path, section: str, text: str, begin: str, end: str, after: str | None = None
) -> None:
    """Write ``text`` between the ``begin``/``end`` markers of ``results`` (RESULTS.md).

    The first time, the block goes right after the block whose end marker is ``after`` if there
    is one, else at the top of ``section`` (a ``## `` heading, appended when missing), so notes
    written below a table by hand survive a rerun. The file is re-read just before writing.
    """
    from infodyn.atomic import write_text

    doc = results.read_text()
    block = f"{begin}\n{text.strip()}\n{end}"
    if begin in doc and end in doc:
        i, j = doc.index(begin), doc.index(end) + len(end)
        doc = doc[:i] + block + doc[j:]
    elif after is not None and after in doc:
        j = doc.index(after) + len(after)
        doc = doc[:j] + "\n\n" + block + doc[j:]
    else:
        if section not in doc:
            doc = doc.rstrip("\n") + f"\n\n{section}\n"
        start = doc.index(section) + len(section)
        nxt = re.search(r"^## ", doc[start:], flags=re.M)
        stop = start + nxt.start() if nxt else len(doc)
        rest = doc[start:stop].strip()
        body = block + ("\n\n" + rest if rest else "")
        doc = doc[:start] + "\n\n" + body + "\n\n" + doc[stop:].lstrip("\n")
    write_text(results, doc)


def positional(doc: str | None, least: int) -> None:
    """The command line of a study script that reads ``sys.argv`` by position (its docstring
    says what): ``-h``/``--help`` prints the docstring, fewer than ``least`` arguments print it
    and exit 2 (``--help`` was a ValueError, no arguments an IndexError or, for a list of
    files, nothing at all with exit 0)."""
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        print(doc)
        raise SystemExit(0)
    if len(args) < least:
        print(doc, file=sys.stderr)
        name = Path(sys.argv[0]).name
        raise SystemExit(f"{name}: needs at least {least} argument(s), got {len(args)} (above)")


def no_options(doc: str | None) -> None:
    """The command line of a script that takes no options: ``--help`` prints its docstring,
    anything else is refused (both ran the whole script, and some rewrote their records)."""
    argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
