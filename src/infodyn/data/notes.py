"""Readers' notes on the data they read: what a reader changed (spikes merged or dropped,
trials padded, unit ids repeated or read as indices).

A reader calls :func:`warn_data`. Inside a :func:`recording_data_warnings` block (a context
variable, so threads and other callers are not affected) the note is kept in the block's list,
which ``infodyn info``, ``criticality`` and ``energy`` write to ``results.json``; elsewhere it
is a :class:`DataWarning` shown at the first caller outside infodyn. Python's own warnings are
not touched: a first version caught every warning of a block and re-issued it, which broke
"once" and module filters.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import typing
import warnings


class DataWarning(UserWarning):
    """A reader's note on data it read with a change: spikes merged or dropped, trials padded,
    unit ids repeated or read as indices. The commands that analyse a spike file record these
    in their ``results.json`` (``warnings``), as they record the analyses' own."""


#: the list a :func:`recording_data_warnings` block keeps the readers' notes in (None: none open)
_DATA_NOTES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "infodyn_data_notes", default=None
)


#: the folder of infodyn's own modules (warn_data's notes point past them)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _ours(filename: str) -> bool:
    """A frame of infodyn: its modules, or code generated for them (a dataclass's __init__)."""
    return filename.startswith(_PACKAGE) or filename == "<string>"


def warn_data(message: str) -> None:
    """A reader's note on the data it read (:class:`DataWarning`): kept by the enclosing
    :func:`recording_data_warnings` block, when one is open, else warned about at the first
    caller outside infodyn (the readers' fixed stack levels pointed inside the package for
    every public entry but one, so ``-W`` and module filters on the user's code missed it)."""
    lines = _DATA_NOTES.get()
    if lines is not None:
        if message not in lines:
            lines.append(message)
        return
    level, frame = 2, sys._getframe(1)  # level 2: warn_data's caller
    while frame.f_back is not None and _ours(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DataWarning, stacklevel=level)


@contextlib.contextmanager
def recording_data_warnings(lines: list[str]) -> typing.Iterator[None]:
    """Inside the block, the readers' notes (:func:`warn_data`) are appended to ``lines``
    (each once, in order) instead of being warned about. A command puts ``lines`` into its
    ``results.json``, where what a reader changed in the data is kept with the numbers it
    changed (on stderr alone it was lost with the terminal). Python's warnings are not
    touched: other warnings are shown, filtered and counted as they would have been."""
    token = _DATA_NOTES.set(lines)
    try:
        yield
    finally:
        _DATA_NOTES.reset(token)


@contextlib.contextmanager
def muted_warnings() -> typing.Iterator[None]:
    """Inside the block, user warnings (every infodyn warning class is one) and NumPy's runtime
    warnings are not shown: for an internal estimate whose caveats mean nothing where it is
    used (a branching ratio logged during training, a plug-in MI beside its corrected twin).
    Other categories still reach the caller's filters: a blanket ``simplefilter("ignore")``
    would hide a dependency's DeprecationWarning or FutureWarning until the release that
    breaks the call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@contextlib.contextmanager
def keeping_warnings(analysis: str, caught: list[str]) -> typing.Iterator[None]:
    """Keep the warnings raised inside the block in ``caught``, each line once, as
    ``"ANALYSIS: message"`` (not shown): a command writes ``caught`` to its ``results.json`` and
    prints it. Named by analysis: the MR and naive estimators, or the size and duration fits,
    gave the same lines unattributed."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield
    for w in record:
        line = f"{analysis}: {w.message}"
        if line not in caught:
            caught.append(line)
