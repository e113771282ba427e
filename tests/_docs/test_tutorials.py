"""Every tutorial of the documentation runs, in fast mode.

Tutorials are executed as the site executes them (top to bottom, in a fresh interpreter, with a
headless matplotlib), with ``INFODYN_TUTORIAL_FAST=1``. They run from ``-c`` rather than as a
script file: like a notebook kernel, ``__main__`` then has no file, so the Dask tutorial's worker
processes do not re-import it.
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


def run_fast(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "INFODYN_TUTORIAL_FAST": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(path)],
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
