"""A hook called as whole passes over spike files read their blocks: a command's progress bar.

:meth:`~infodyn.data.spike_reader.SpikeReader.iter_blocks` - the pass under ``unit_counts``,
``step_counts``, binned words and every other whole-file pass - calls the hook installed by
:func:`on_blocks_read` after each block, so the command line can show a pass over a file of
10^9 spikes (minutes) without every function between it and the reader taking a callback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path

#: called with the file's path, the spikes read so far in this pass and the file's spikes
READ_HOOK: ContextVar[Callable[[Path, int, int], None] | None] = ContextVar(
    "spike_read_hook", default=None
)


@contextlib.contextmanager
def on_blocks_read(hook: Callable[[Path, int, int], None]) -> Iterator[None]:
    """Call ``hook(path, spikes_read, n_spikes)`` after each block of every whole pass over a
    spike file made inside the block."""
    token = READ_HOOK.set(hook)
    try:
        yield
    finally:
        READ_HOOK.reset(token)
