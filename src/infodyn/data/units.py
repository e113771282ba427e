"""Selections of units: a list of unit indices, or the command line's ``"0-19,25"`` text.

One checker, :func:`unit_subset`, serves every reader and command that takes ``units``
(``population_activity``, ``step_counts``, ``SpikeTrain.select_units``, ``infodyn info``,
``infodyn criticality``, ``infodyn energy``), so the rules are the same everywhere:

- a list (or array) of whole numbers in ``[0, n_units)``, non-empty, no unit twice; the order
  given is kept (it numbers the selected units);
- a text of comma-separated indices and inclusive ranges, ``"0,3,5"`` or ``"0-19,25"``: the set
  of units it names, in increasing order (ranges may overlap; an empty item is refused). Each
  range is checked against ``n_units`` before it is expanded, so ``"0-9999999999"`` is one
  clear error, not a list of ten billion numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infodyn.errors import InputError

#: the shape of the text form, for messages
UNITS_TEXT_FORM = "'0,3,5' or '0-19,25'"


def _text_ranges(text: str, n_units: int, name: str) -> np.ndarray:
    """The sorted distinct units named by ``text`` (inclusive ranges checked before expansion)."""
    pieces = [p.strip() for p in text.split(",")]
    if not any(pieces):
        raise InputError(f"{name} is empty: leave it out for all units, or list {UNITS_TEXT_FORM}")
    ranges: list[tuple[int, int]] = []
    for piece in pieces:
        if not piece:  # "0-9,,12": a unit left out while typing (as --sizes and --grid refuse)
            raise InputError(f"{name} has an empty item between commas: {text!r}")
        lo_text, dash, hi_text = piece.partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if dash else lo
        except ValueError:
            raise InputError(
                f"{name} must look like {UNITS_TEXT_FORM} (whole numbers >= 0), got {text!r}"
            ) from None
        if lo > hi:
            raise InputError(f"{name}: the range {piece!r} runs backwards; write {hi}-{lo}")
        if lo < 0 or hi >= n_units:
            raise InputError(f"{name} must lie in [0, {n_units - 1}], got {piece!r}")
        ranges.append((lo, hi))
    return np.unique(np.concatenate([np.arange(lo, hi + 1, dtype=np.int64) for lo, hi in ranges]))


def unit_subset(units: Any, n_units: int, name: str = "units") -> np.ndarray:
    """Check a selection of units of a recording with ``n_units`` units; returned as int64.

    ``units`` is a non-empty 1-D list of whole numbers in ``[0, n_units)`` without repeats (the
    order is kept), or a text such as ``"0-19,25"`` (the set it names, sorted). Anything else is
    one :class:`~infodyn.errors.InputError` naming ``name``.
    """
    if isinstance(units, str):
        return _text_ranges(units, int(n_units), name)
    try:
        a = np.asarray(units)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InputError(f"{name} must be a list of unit indices ({exc})") from None
    if a.ndim == 0:
        a = a[None]
    if a.ndim != 1 or a.size == 0:
        raise InputError(f"{name} must be a non-empty list of unit indices, got shape {a.shape}")
    if a.dtype.kind not in "iu":
        if not (a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a))):
            raise InputError(f"{name} must be whole numbers (unit indices), got {a.dtype}")
    a = a.astype(np.int64)
    if a.min() < 0 or a.max() >= n_units:
        raise InputError(f"{name} must lie in [0, n_units={n_units}), got {a.min()}..{a.max()}")
    distinct, counts = np.unique(a, return_counts=True)
    if distinct.size != a.size:
        twice = distinct[counts > 1]
        raise InputError(
            f"{name} lists unit {int(twice[0])} more than once"
            + (f" ({twice.size} units repeat)" if twice.size > 1 else "")
            + "; give each unit once"
        )
    return a


def recorded_ids(metadata: Any, n_units: int, units: Any = None) -> list[Any] | None:
    """The recording's own ids of ``units`` (indices; all when None): a reader's
    ``metadata["unit_ids"]`` (phy cluster ids, Neo and pynapple names) or NWB's
    ``metadata["nwb_unit_ids"]``, one a unit; None for a file without them. Results of a
    recording name their units by index, which these tie back to the sorting."""
    ids = None
    for key in ("unit_ids", "nwb_unit_ids"):
        if ids is None and isinstance(metadata, dict) and isinstance(metadata.get(key), list):
            ids = metadata[key]
    if ids is None or len(ids) != n_units:
        return None
    return list(ids) if units is None else [ids[int(u)] for u in units]
