"""The progress of a command's passes over a spike file (``info``, ``energy``, ``criticality``).

Their passes run deep inside the library (``unit_counts``, ``step_counts``, binned words); the
reader reports each block through :func:`~infodyn.data.read_progress.on_blocks_read`, and one bar
shows them: ``reading spikes.h5 (pass 2) 3,145,728/92,350,000 spikes``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infodyn.progress import ProgressBar

#: files of fewer spikes are read without a bar (a few blocks: under a second)
PROGRESS_MIN_SPIKES = 1 << 22


@contextlib.contextmanager
def reading_progress(min_spikes: int = PROGRESS_MIN_SPIKES) -> Iterator[None]:
    """A bar of the spikes each whole pass over a spike file of at least ``min_spikes`` spikes
    has read, inside the block; a pass that starts again from the file's first block is the
    next pass."""
    from infodyn.data.read_progress import on_blocks_read  # here: the command line's start
    # imports no NumPy (tests/experiments/test_interrupt.py)

    state: dict[str, Any] = {"bar": None, "done": 0, "passes": 0}

    def read(path: Path, done: int, total: int) -> None:
        if total < min_spikes:
            return
        if state["bar"] is None:
            state["bar"] = ProgressBar(f"reading {path.name}", total, unit="spikes").__enter__()
        if state["passes"] == 0 or done <= state["done"]:  # the first block of a pass
            state["passes"] += 1
            label = f"reading {path.name}" + (
                f" (pass {state['passes']})" if state["passes"] > 1 else ""
            )
            state["bar"].update(done=done, total=total, label=label)
        else:
            state["bar"].update(done=done)
        state["done"] = done

    try:
        with on_blocks_read(read):
            yield
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
