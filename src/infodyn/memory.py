"""Memory preflight: estimate what an allocation needs and refuse, with the numbers, before it.

Large runs (networks of 10^5 units, long traces, big batches, image sets, word tables) should not
die in ``MemoryError`` half-way: the code that is about to allocate calls :func:`require_memory`
with its estimate, and gets one clear :class:`MemoryPreflightError` (an :class:`InputError`, so
the CLI prints one line and exits with 2) naming the need, what is free and what to change.

What counts as free: ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory
reported by ``os.sysconf``; inside a memory-limited control group (a container's
``--memory``, a SLURM job's cgroup: v2 ``memory.max``, v1 ``memory.limit_in_bytes``) at most
what the tightest limit of the process's cgroup and its ancestors leaves (the limit less the
group's usage, less its inactive page cache, which the kernel reclaims before it kills), as
the kernel's out-of-memory killer of that group counts; inside a Dask worker with a memory
limit (``dask worker --memory-limit``, a sweep's remote workers) at most that limit less the
worker process's resident memory, since its nanny kills the worker near the limit (a point too
big for its worker died over and over instead of being refused); under an address-space limit
(``ulimit -v``, ``RLIMIT_AS``, as some batch schedulers set it: SGE's ``h_vmem``) at most the
limit less the process's mapped memory (``VmSize``; numpy's ``zeros`` fails there at once, even
for pages it would never touch). The environment variable
``INFODYN_MEMORY_LIMIT`` (bytes, or with a suffix K, M, G, T) caps it, e.g. for a job whose
scheduler limits it otherwise, and makes the check testable. The check is made for each large
allocation on its own, against what is free at that moment: the limit is not a cap on the
process's total memory (a run of many allocations that each fit may hold more than it
altogether; the scheduler's limit is that cap), and a refusal under it names it.
"""

from __future__ import annotations

import math
import os
import resource
import sys
from pathlib import Path

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


#: where the control groups are mounted, and the file naming the process's own (tests move them)
CGROUP_MOUNT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
#: a cgroup v1 limit at or above this is "no limit" (the kernel writes 2^63 - 4096)
_NO_LIMIT = 1 << 60
#: per version: where the memory controller is mounted, its limit, usage and reclaimable cache
_CGROUP_FILES = {
    "v2": (("", "unified"), "memory.max", "memory.current", "inactive_file"),
    "v1": (("memory",), "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
}


_UNDER_CGROUP = " under this process's control group memory limit (its container or job)"
_UNDER_DASK = " under this Dask worker's memory limit (dask worker --memory-limit)"
_UNDER_RLIMIT = " under this process's address-space limit (ulimit -v)"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isascii() and text.isdigit() else None  # "max" (v2): no limit


def _inactive_cache(folder: Path, key: str) -> int:
    try:
        for line in (folder / "memory.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            value = value.strip()
            if name == key and value.isascii() and value.isdigit():
                return int(value)
    except (OSError, UnicodeDecodeError):
        pass
    return 0


def cgroup_free_bytes() -> int | None:
    """What the memory limits of the process's control group and its ancestors still allow
    (module docstring), or None where no limit applies or none can be read."""
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    found: list[int] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, own = rest.partition(":")
        version = "v2" if hierarchy == "0" and not controllers else "v1"
        if version == "v1" and "memory" not in controllers.split(","):
            continue
        mounts, limit_file, usage_file, cache_key = _CGROUP_FILES[version]
        for mount in (CGROUP_MOUNT / m for m in mounts):
            here = mount / own.strip("/")
            # the group and its ancestors up to the mount; in a cgroup namespace (a
            # container) the process's group is the mount itself and its path is not there
            chain = [here, *here.parents[: len(here.parents) - len(mount.parents)]]
            for folder in chain if here.is_dir() else [mount]:
                limit = _read_int(folder / limit_file)
                usage = _read_int(folder / usage_file)
                if limit is not None and limit < _NO_LIMIT and usage is not None:
                    used = max(0, usage - _inactive_cache(folder, cache_key))
                    found.append(max(0, limit - used))
    return min(found) if found else None


def dask_worker_free_bytes() -> int | None:
    """What the memory limit of the Dask worker this code runs in leaves (the fraction of the
    limit at which its nanny kills it, ``distributed.worker.memory.terminate``, 0.95, less the
    process's resident memory), or None outside a worker or where it has no limit. The tasks of
    a worker's threads share that memory; each is checked against all of it. Dask is only
    looked at when it is already imported (``distributed`` in ``sys.modules``)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        worker = distributed.get_worker()
    except (ValueError, AttributeError):  # not in a worker's task
        return None
    limit = getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
    if not limit:
        return None
    import dask
    import psutil  # a dependency of distributed

    # the nanny kills the worker at this fraction of its limit (False: it does not)
    terminate = dask.config.get("distributed.worker.memory.terminate", 0.95) or 1.0
    return max(0, int(terminate * limit) - int(psutil.Process().memory_info().rss))


def address_space_free_bytes() -> int | None:
    """What the process's address-space limit (``RLIMIT_AS``, ``ulimit -v``) leaves: the soft
    limit less the memory mapped now (``VmSize`` of ``/proc/self/status``), or None where no
    limit is set or none can be read."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (OSError, ValueError):  # pragma: no cover - every POSIX system has it
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return max(0, soft - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


#: the last reading of :func:`available_bytes` and what bound it (``""``: the host; else
#: " under ..."): a refusal names the limit from the same reading (the group's usage changes
#: between two reads), and a replaced ``available_bytes`` (tests) names none
_last_reading: dict[str, object] = {"free": None, "binds": ""}


def available_bytes() -> int:
    """Bytes free for new allocations (module docstring): the host's, at most what its control
    group's memory limit leaves, capped by ``INFODYN_MEMORY_LIMIT``."""
    free, binds = _free_memory()
    _last_reading.update(free=free, binds=binds)
    return free


def _free_memory() -> tuple[int, str]:
    """:func:`available_bytes` and what binds it: ``""`` (the host), ``" under ..."`` (read
    once: the group's usage changes between two reads)."""
    free = None
    binds = ""
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
    group = cgroup_free_bytes()
    if group is not None and group < free:
        free, binds = group, _UNDER_CGROUP
    worker = dask_worker_free_bytes()
    if worker is not None and worker < free:
        free, binds = worker, _UNDER_DASK
    mapped = address_space_free_bytes()
    if mapped is not None and mapped < free:
        free, binds = mapped, _UNDER_RLIMIT
    limit = os.environ.get("INFODYN_MEMORY_LIMIT")
    # "2 GiB is free" read as the host's memory where the user had set the limit to 2G
    if limit and _parse_limit(limit) <= free:
        free, binds = _parse_limit(limit), " under INFODYN_MEMORY_LIMIT"
    return int(free), binds


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
    under = ""
    if free is None:
        free = available_bytes()
        under = str(_last_reading["binds"]) if _last_reading["free"] == free else ""
    if not fits_in_memory(need, free):
        there = " there" if where else ""
        # "needs 275 MiB but 300 MiB is free" read as a mistake: the headroom refused it
        most = (
            f", of which one allocation takes at most {HEADROOM:.0%} "
            f"({format_bytes(HEADROOM * free)})"
            if need <= free
            else ""
        )
        raise MemoryPreflightError(
            f"{what} needs {format_bytes(need)}{where} but {format_bytes(free)} is free{there}"
            f"{under}{most}; {advice}"
        )
