"""Memory preflight: estimate what an allocation needs and refuse, with the numbers, before it.

Large runs (networks of 10^5 units, long traces, big batches, image sets, word tables) should not
die in ``MemoryError`` half-way: the code that is about to allocate calls :func:`require_memory`
with its estimate, and gets one clear :class:`MemoryPreflightError` (an :class:`InputError`, so
the CLI prints one line and exits with 2) naming the need, what is free and what to change.

What counts as free: ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory
reported by ``os.sysconf``. The environment variable ``INFODYN_MEMORY_LIMIT`` (bytes, or with a
suffix K, M, G, T) caps it, e.g. for a job that must stay inside a SLURM allocation, and makes
the check testable. The check is made for each large allocation on its own, against what is
free at that moment: the limit is not a cap on the process's total memory (a run of many
allocations that each fit may hold more than it altogether; the scheduler's or ``ulimit -v``'s
limit is that cap), and a refusal under it names it.
"""

from __future__ import annotations

import math
import os

from infodyn.errors import InputError

#: fraction of the free memory one allocation may claim
HEADROOM = 0.9

_SUFFIX = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class MemoryPreflightError(InputError):
    """An allocation would not fit in the memory that is free."""


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``: a byte count in binary units, three significant digits (whole
    units from 100 up: ``.3g`` wrote 1,000-1,023 KiB as ``1e+03 KiB``)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        text = f"{n:.0f}" if unit == "B" or abs(n) >= 99.95 else f"{n:.3g}"
        if abs(float(text)) < 1024 or unit == "TiB":  # rounded: 1023.99 KiB is "1 MiB"
            return f"{text} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover


def _parse_limit(text: str) -> int:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    suffix = t[-1] if t and t[-1] in _SUFFIX else ""
    number = t[: len(t) - len(suffix)] if suffix else t
    try:
        value = float(number) * _SUFFIX[suffix]
    except ValueError:
        raise InputError(f"INFODYN_MEMORY_LIMIT={text!r} is not a size (e.g. 8G, 512M)") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"INFODYN_MEMORY_LIMIT={text!r} must be a finite positive size")
    return int(value)


def available_bytes() -> int:
    """Bytes free for new allocations (module docstring), capped by ``INFODYN_MEMORY_LIMIT``."""
    free = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if free is None:
        try:
            free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            free = 1 << 62
    limit = os.environ.get("INFODYN_MEMORY_LIMIT")
    if limit:
        free = min(free, _parse_limit(limit))
    return int(free)


def fits_in_memory(need: float, free: int | None = None) -> bool:
    """Whether ``need`` bytes fit in ``free`` (default: :func:`available_bytes`) with the
    :data:`HEADROOM` every preflight keeps: the test :func:`require_memory` refuses by, for
    callers that choose a smaller step where a larger one does not fit."""
    return need <= HEADROOM * (available_bytes() if free is None else free)


def require_memory(
    need: float, what: str, advice: str, free: int | None = None, where: str = ""
) -> None:
    """Raise :class:`MemoryPreflightError` when ``need`` bytes exceed the free memory.

    ``what`` names the allocation ("a dense w_rec of 100000 x 100000 float64"), ``advice`` what to
    change ("use connectivity='sparse' with k_in=100"). The message reads::

        a dense w_rec of 100000 x 100000 float64 needs 74.5 GiB but 20.1 GiB is free; use ...

    ``free`` replaces the host's free memory (:func:`available_bytes`) for another memory, such
    as a GPU's, which ``where`` names (" on the device": "needs 3.51 MiB on the device but
    2.86 MiB is free there").
    """
    limited = False
    if free is None:
        free = available_bytes()
        limit = os.environ.get("INFODYN_MEMORY_LIMIT")
        limited = bool(limit) and free == _parse_limit(limit)  # the limit, not the host, binds
    if not fits_in_memory(need, free):
        there = " there" if where else ""
        # "2 GiB is free" read as the host's memory where the user had set the limit to 2G
        under = " under INFODYN_MEMORY_LIMIT" if limited else ""
        raise MemoryPreflightError(
            f"{what} needs {format_bytes(need)}{where} but {format_bytes(free)} is free{there}"
            f"{under}; {advice}"
        )
