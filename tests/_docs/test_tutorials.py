"""Every tutorial of the documentation runs, in fast mode.

Tutorials are executed as the site executes them (top to bottom, in a fresh interpreter, with a
headless matplotlib), with ``INFODYN_TUTORIAL_FAST=1``. They run from ``-c`` as a notebook kernel
runs them (``__main__`` has no file); the Dask tutorial also runs as a script file, as tutorial 01
tells readers to run them, where its workers re-import it and its main guard matters.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.py"))
RUNNER = (
    "import sys; p = sys.argv[1]; "
    "exec(compile(open(p).read(), p, 'exec'), {'__name__': '__main__'})"
)


def run_fast(path: Path, tmp_path: Path, as_file: bool = False) -> subprocess.CompletedProcess:
    # TMPDIR: the tutorials' mkdtemp folders (a sweep, a recording) left one in /tmp a test run
    env = {**os.environ, "INFODYN_TUTORIAL_FAST": "1", "MPLBACKEND": "Agg", "TMPDIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, str(path)] if as_file else [sys.executable, "-c", RUNNER, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        start_new_session=True,  # the Dask tutorial's cluster signals its process group on exit
    )


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 5


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_fast_mode(path, tmp_path):
    text = path.read_text()
    assert text.startswith("# ---\n# jupyter:") and "# %% [markdown]" in text  # jupytext percent
    assert "# ---\n\n\n" not in text  # two blank lines after the header make an empty cell
    assert "INFODYN_TUTORIAL_FAST" in text
    r = run_fast(path, tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]


def test_the_dask_tutorial_runs_as_a_script_file(tmp_path):
    """``python 05_sweep_dask.py``: its sweep runs under the main guard (without it,
    ``run_sweep`` refuses: the workers re-import the script)."""
    r = run_fast(DOCS / "tutorials" / "05_sweep_dask.py", tmp_path, as_file=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "rerun: 0 ran, 2 skipped" in r.stdout
