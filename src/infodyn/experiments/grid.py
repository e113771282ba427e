"""The grid of a parameter sweep: ``--grid key=v1,v2`` values, dotted config keys, and the
expansion of a grid times seeds into validated points, each with the hash of its resolved config
(the key of its done marker)."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.errors import InputError, whole_number
from infodyn.experiments import interrupt
from infodyn.experiments.config import CommandSpec, detect_command, resolved, validate
from infodyn.experiments.config_paths import (
    check_config_paths,
    refuse_missing_inputs,
    with_absolute_paths,
)
from infodyn.experiments.dotted import get_dotted, set_dotted

#: the most points a sweep takes (each is validated, hashed and given a run folder; a grid of
#: 10^8 values filled 16 GB before the first point ran)
MAX_POINTS = 100_000


def parse_value(text: str) -> Any:
    """A grid value: a TOML literal (``1``, ``0.5``, ``true``, ``"ei"``), a number Python reads
    (``.5``), or else a bare string."""
    text = text.strip()
    if not text:
        raise InputError("an empty value")
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    try:  # numbers TOML does not write (.5, 5.): read as text, then refused as "not a number"
        return float(text)
    except ValueError:
        return text


def parse_grid(items: list[str] | tuple[str, ...]) -> dict[str, list[Any]]:
    """Parse ``["network.rec_scale=0.5,1.0", "input.rate_hz=20:80:4"]`` into key -> values.

    ``a,b,c`` lists values; ``start:stop:num`` gives ``num`` evenly spaced values including both
    ends (like ``numpy.linspace``).
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise InputError(f"--grid {item!r}: expected KEY=V1,V2,... or KEY=START:STOP:NUM")
        if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*", key):
            index = re.search(r"\.\d+(\.|$)", key)  # loss.0.weight: an item of a list
            name = key[: index.start()] if index else ""
            hint = (
                f"; {name!r} is a list ([[{name}]] tables): sweep whole lists, one a value, "
                f'e.g. {name}=\'[{{kind = "mse", weight = 1.0}}],[{{kind = "mse", weight = 2.0}}]\''
                if index
                else ""
            )
            raise InputError(f"--grid {item!r}: {key!r} is not a dotted config key{hint}")
        if key in grid:
            raise InputError(f"--grid {key!r} is given twice")
        span = values.split(":")
        quoted = values.lstrip().startswith(('"', "'", "["))  # "rec_10:30:00.h5" is one value
        if len(span) == 3 and "," not in values and not quoted:
            start, stop, num = (_parse_item(item, v) for v in span)
            if not all(isinstance(v, int | float) for v in (start, stop)) or not (
                isinstance(num, int) and num >= 1
            ):
                raise InputError(f"--grid {item!r}: START:STOP:NUM needs numbers and NUM >= 1")
            if not (math.isfinite(start) and math.isfinite(stop)):  # 1:inf:3 gave NaN points
                raise InputError(f"--grid {item!r}: START and STOP must be finite numbers")
            if num > MAX_POINTS:
                raise InputError(f"--grid {item!r}: NUM is above a sweep's {MAX_POINTS:,} points")
            grid[key] = _evenly_spaced(start, stop, num)
        else:
            grid[key] = _values(item, values)
    return grid


def _parse_item(item: str, text: str) -> Any:
    """:func:`parse_value` of one value of the ``--grid`` item ``item``, named when it fails
    (``empty value in --grid`` said neither the key nor the item)."""
    try:
        return parse_value(text)
    except InputError as exc:
        raise InputError(f"--grid {item!r}: {exc}") from None


def _evenly_spaced(start: float, stop: float, num: int) -> list[float] | list[int]:
    """``np.linspace`` values to 12 significant digits (``0:1:11`` gave 0.30000000000000004,
    whose folder and config hash differed from a typed 0.3), whole numbers as ints where START
    and STOP are ints (``n_rec=10:30:3`` gave 10.0)."""
    step = abs(stop - start) / max(num - 1, 1)
    values = []
    for v in np.linspace(start, stop, num):  # rounded where that moves it by a hair of the step
        short = float(f"{v:.12g}")  # (1000000000001:1000000000003:3 was three 1e12s)
        values.append(short if abs(short - v) <= 1e-9 * step else float(v))
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, stop))
    if ints and all(v == round(v) for v in values):
        return [int(v) for v in values]
    return values


def _values(item: str, text: str) -> list[Any]:
    """``V1,V2,...``: as one TOML array where quotes or brackets make the commas ambiguous
    (``"0-3,5","0-7"`` was split into three points), else value by value, split at the commas
    outside quotes and brackets (``"0-3,5",0-7``, quoted and bare, gave ``'"0-3'``, ``'5"'``
    and ``'0-7'``)."""
    if any(c in text for c in "\"'["):
        try:
            return list(tomllib.loads(f"v = [{text}]")["v"])
        except tomllib.TOMLDecodeError:
            pass
    return [_parse_item(item, v) for v in _split_values(item, text)]


def _split_values(item: str, text: str) -> list[str]:
    """``text`` split at its commas outside quotes ('' or "", opening a value: ``bob's.h5``
    is a name) and brackets ([] and {}); a quote left open is refused (``"a,b`` was one value
    with a quote in it)."""
    pieces, start, quote, depth = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'" and depth == 0 and not text[start:i].strip():
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth = max(depth - 1, 0)
        elif c == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    if quote:
        raise InputError(f"--grid {item!r}: a quote ({quote}) is not closed")
    return [*pieces, text[start:]]


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data))


@dataclass(frozen=True)
class SweepPoint:
    """One point: its grid values, seed index, full validated config and content hash."""

    index: int
    values: dict[str, Any]
    seed: int | None
    config: dict[str, Any]
    key: str
    name: str


def config_hash(command: str, config: dict[str, Any]) -> str:
    """SHA-256 of the command and its resolved config (canonical JSON)."""
    text = json.dumps({"command": command, "config": config}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def input_files(config: dict[str, Any]) -> dict[str, list[Any]]:
    """The files a point's config names: every string value, at any depth (lists included),
    that is the path of an existing file, as dotted key -> ``[absolute path, size in bytes,
    modification time in ns]``, or of a folder, -> ``[absolute path, number of files, digest of
    their listing]`` (:func:`_folder_listing`). A point's done marker keeps them, so that a
    point whose input was replaced since it finished runs again: :func:`config_hash` sees only
    the path (an
    energy sweep rerun over a new ``spikes.h5`` reported its points "done earlier", with the
    old file's numbers)."""
    found: dict[str, list[Any]] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, f"{key}.{name}" if key else str(name))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{key}[{i}]")
        elif isinstance(value, str) and value:
            try:
                path = Path(value)
                if path.is_file():
                    st = path.stat()
                    found[key] = [str(path.resolve()), st.st_size, st.st_mtime_ns]
                elif path.is_dir():  # a phy folder, a folder of images: its files' listing
                    found[key] = [str(path.resolve()), *_folder_listing(path)]
            except (OSError, ValueError):  # not a path this system can name
                pass

    walk(config, "")
    return found


#: files of a folder named in a config that :func:`input_files` lists (the first ones, in order)
MAX_LISTED_FILES = 20_000


def _folder_listing(folder: Path) -> tuple[int, str]:
    """``(number of files, SHA-256 of their relative paths, sizes and modification times)``
    below ``folder``: a phy folder whose .npy files were replaced reran nothing (its points
    "done earlier", with the old recording's numbers)."""
    digest = hashlib.sha256()
    n = 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            n += 1
            path = os.path.join(root, name)
            try:  # a dangling link dropped the whole folder from the record
                st = os.stat(path)
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime = -1, -1
            digest.update(f"{os.path.relpath(path, folder)}\0{size}\0{mtime}\n".encode())
            if n >= MAX_LISTED_FILES:  # a huge tree (named by mistake): its first files
                return n, digest.hexdigest()
    return n, digest.hexdigest()


def changed_inputs(marker: dict[str, Any], inputs: dict[str, list[Any]]) -> list[str]:
    """The keys whose file (:func:`input_files`) differs from the one recorded in a point's
    done ``marker``; none for a marker written before input files were recorded."""
    recorded = marker.get("inputs")
    if not isinstance(recorded, dict):
        return []

    def content(entry: Any) -> Any:  # size and time (or listing), not where it lies now: the
        return entry[1:] if isinstance(entry, list) else entry  # config names it as written

    return sorted(
        k for k in set(recorded) | set(inputs) if content(recorded.get(k)) != content(inputs.get(k))
    )


def _slug(values: dict[str, Any], seed: int | None) -> str:
    parts = [f"{k.rsplit('.', 1)[-1]}={v}" for k, v in values.items()]
    if seed is not None:
        parts.append(f"seed={seed}")
    text = "_".join(parts) or "base"
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", text)[:80]


def _other_command_hint(spec: CommandSpec, base: dict[str, Any]) -> str:
    """``"; it is a valid 'train' config: add --command train"`` when another registered
    command accepts ``base`` (a sweep runs ``simulate`` unless told), else ``""``."""
    try:
        other = detect_command(base)
    except InputError:
        return ""
    if other.name == spec.name:
        return ""
    return f"; it is a valid {other.name!r} config: add --command {other.name}"


def plain_grid(grid: Any) -> dict[str, list[Any]]:
    """``grid`` checked (text keys, one or more values each) with its values as Python's: a
    1-D NumPy array as a list, NumPy scalars as numbers (np.int64 failed in the config's JSON,
    an array was refused as listing no values, a key 3 was a raw AttributeError)."""
    if not isinstance(grid, dict):
        raise InputError(
            f"grid must be a table of key -> list of values, got {type(grid).__name__}"
        )
    plain: dict[str, list[Any]] = {}
    for key, values in grid.items():  # {"k": 0.5}: "float is not iterable"
        if not isinstance(key, str) or not key:
            raise InputError(f"grid keys must be dotted config keys (text), got {key!r}")
        if isinstance(values, np.ndarray) and values.ndim == 1:
            values = values.tolist()
        if not isinstance(values, list | tuple | range) or not len(values):
            one = "" if isinstance(values, list | tuple | range) else f" (one: [{values!r:.60}])"
            raise InputError(  # (only Python gives a scalar: --grid's values are a list)
                f"grid[{key!r}] must list one or more values, got {values!r:.60}{one}"
            )
        plain[key] = [v.item() if isinstance(v, np.generic) else v for v in values]
        if any(isinstance(v, dict) for v in plain[key]):  # it replaced the whole table: the
            # base config's other keys of it fell back to their defaults, unsaid
            raise InputError(
                f"--grid {key!r}: a value cannot be a table ({{...}}); give each setting its own "
                f"key, such as {key}.NAME=V1,V2"
            )
    return plain


def expand_grid(
    spec: CommandSpec,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    seeds: int | None = None,
    source: str = "base config",
    config_file: str | os.PathLike | None = None,
    inputs_here: bool = False,
) -> list[SweepPoint]:
    """All points of ``grid`` x ``seeds``, each validated against the command's config model
    (``source`` names the base config in errors: its file, from the command line).

    ``seeds=N`` runs every grid point with seed offsets 0..N-1 added to each of the command's
    ``seed_keys`` (for ``simulate``: ``simulation.seed`` and ``input.seed``). Raises
    :class:`InputError` naming the key for the first invalid point, or (``config_file``: the
    file ``base`` came from) for a relative path that is beside that file but not here, and
    (``inputs_here``: the points run on this machine) for an input path that names nothing.
    """
    if seeds is not None:  # "2" or 2.5 were raw TypeErrors
        seeds = whole_number(seeds, "--seeds", minimum=1)
    if not isinstance(base, dict):  # None: "not iterable"
        raise InputError(f"base must be a config table, got {type(base).__name__}")
    grid = plain_grid(grid)
    if seeds is not None and not spec.seed_keys:
        raise InputError(f"command {spec.name!r} declares no seed keys; --seeds cannot be used")
    model = spec.config_model()
    try:
        base_cfg = validate(model, base, source=source)
    except InputError as exc:
        # a base that the grid completes (connectivity = "sparse" without k_in, the grid
        # sweeping k_in) is taken: checked with the first point's values; the points are each
        # checked below
        first = _deep_copy(base)
        for key, values in grid.items():
            set_dotted(first, key, values[0])
        point = "sweep point " + ", ".join(f"{k}={v[0]!r}" for k, v in grid.items())
        try:
            base_cfg = validate(model, first, source=point) if grid else None
        except InputError as at_first:  # the grid's values broke it otherwise (k_in and
            # p_connect both swept): that point is named, not the base config
            said = str(at_first).removeprefix(f"{point}: ")
            if said != str(exc).removeprefix(f"{source}: "):
                raise at_first from None
            base_cfg = None
        if base_cfg is None:
            raise InputError(f"{exc}{_other_command_hint(spec, base)}") from None
    base_full = resolved(base_cfg)
    for key in grid:
        if seeds is not None and key in spec.seed_keys:
            raise InputError(f"--grid {key!r} is a seed key; use --seeds instead")
    keys = list(grid)
    total = (seeds or 1) * int(np.prod([len(grid[k]) for k in keys], dtype=object))
    if total > MAX_POINTS:
        sizes = " x ".join([str(len(grid[k])) for k in keys] + ([f"{seeds} seeds"] * bool(seeds)))
        raise InputError(
            f"the sweep has {total:,} points ({sizes}), above the {MAX_POINTS:,} one sweep takes "
            "(each point is a run folder): split the grid into several sweeps"
        )
    points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    seed_range: list[int | None] = list(range(seeds)) if seeds is not None else [None]
    for combo in itertools.product(*(grid[k] for k in keys)):
        for s in seed_range:
            data = _deep_copy(base)
            values = dict(zip(keys, combo, strict=True))
            for key, value in values.items():
                set_dotted(data, key, value)
            if s is not None:
                for key in spec.seed_keys:
                    try:
                        start = get_dotted(base_full, key)
                    except KeyError:
                        raise InputError(f"seed key {key!r} is not in the config") from None
                    set_dotted(data, key, int(start) + s)
            where = ", ".join(f"{k}={v!r}" for k, v in values.items()) or "base"
            if len(points) % 256 == 0:  # 1 ms a point: a signal was not heard for minutes
                interrupt.check(
                    f"sweep stopped as its {total:,} points were being checked; none ran"
                )
            cfg = validate(model, data, source=f"sweep point {where}")
            if config_file is not None:  # every point failed with "no such file", on Dask
                check_config_paths(cfg, config_file)
            if inputs_here:
                refuse_missing_inputs(cfg, f"sweep point {where}")
            # hashed as given (a moved project keeps its points), shipped with absolute paths
            digest = config_hash(spec.name, resolved(cfg))
            full = with_absolute_paths(cfg, resolved(cfg))
            if digest in seen:
                raise InputError(
                    f"sweep points {seen[digest]} and {len(points)} have identical configs "
                    f"({where}); remove the duplicate grid value"
                )
            seen[digest] = len(points)
            points.append(
                SweepPoint(
                    index=len(points),
                    values=values,
                    seed=s,
                    config=full,
                    key=digest,
                    name=f"{_slug(values, s)}_{digest[:10]}",
                )
            )
    if spec.name == "simulate":
        _warn_moot_scales(grid, points)
    return points


#: [network] settings that only shape the weights ``net.init`` draws (model.py)
DRAW_ONLY = ("rec_scale", "in_scale", "out_scale", "ei_mu", "ei_sigma", "inh_factor")


def _warn_moot_scales(grid: dict[str, list[Any]], points: list[SweepPoint]) -> None:
    """A simulate sweep of a weight scale whose points all read their weights from
    ``[simulation] params``: every value gave the same spikes, without a word."""
    moot = [k for k in grid if k.startswith("network.") and k.split(".", 1)[1] in DRAW_ONLY]
    if moot and points and all(p.config["simulation"].get("params") for p in points):
        warnings.warn(
            f"--grid {', '.join(moot)}: these scale the weights drawn from [network], and "
            "every point reads its weights from [simulation] params: their values change "
            "nothing (sweep a scaled copy of the weights file instead, or leave params out)",
            UserWarning,
            stacklevel=3,
        )
