"""Kilosort / phy output folders: sorted spikes as a :class:`~infodyn.data.SpikeTrain`.

A Kilosort run (Pachitariu et al. 2016, 2024), curated or not in phy (Rossant et al. 2016),
leaves a folder with

- ``spike_times.npy``: spike times in samples (one per spike),
- ``spike_clusters.npy``: the cluster of each spike (phy's curated clusters; without it
  ``spike_templates.npy``, Kilosort's template of each spike, stands in),
- ``cluster_group.tsv``: phy's label of each cluster (``cluster_id``, ``group``: good, mua,
  noise, unsorted); without it Kilosort's own ``cluster_KSLabel.tsv`` (``cluster_id``,
  ``KSLabel``) is used,
- ``params.py``: recording parameters, of which ``sample_rate`` (Hz) is read.

:func:`load_phy` keeps the clusters labelled ``good`` unless asked for other labels (or
``"all"``), orders them by cluster id as units ``0..n-1`` (the ids are kept in
``metadata["unit_ids"]``; a labelled cluster without spikes, e.g. one merged away in phy, is
left out with a warning and listed in ``metadata["silent_labelled_clusters"]``) and bins the
times (``t = sample / sample_rate``) into steps of ``dt`` ms from t = 0 to the end of the last
sample holding a spike of any cluster (so the steps do not depend on the labels kept)
(:func:`infodyn.data.timebins.bin_trials`).
"""

from __future__ import annotations

import ast
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.data.notes import warn_data
from infodyn.data.npy import read_npy
from infodyn.data.spikes import SpikeTrain
from infodyn.data.timebins import TimedTrial, bin_trials
from infodyn.errors import InputError

LABEL_FILES = (("cluster_group.tsv", "group"), ("cluster_KSLabel.tsv", "KSLabel"))


def is_phy_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding ``spike_times.npy``."""
    p = Path(path)
    return p.is_dir() and (p / "spike_times.npy").is_file()


#: the key under which :func:`read_params` lists the names set to expressions, not literals
EXPRESSIONS = "__expressions__"


def read_params(folder: str | os.PathLike) -> dict[str, Any]:
    """The literal assignments of ``params.py`` (``name = value``), read without executing it;
    the names assigned an expression instead (``3e4 * 1``) are listed under :data:`EXPRESSIONS`
    (so that a missing ``sample_rate`` and one set to an expression are told apart)."""
    path = Path(folder) / "params.py"
    if not path.is_file():
        return {}
    try:
        tree = ast.parse(path.read_text(errors="replace"), filename=str(path))
    except OSError as exc:  # unreadable (permissions): a bare PermissionError before
        raise InputError(f"{path}: cannot read ({type(exc).__name__}: {exc.strerror})") from None
    except SyntaxError as exc:
        raise InputError(
            f"{path}: not a readable params.py ({exc.msg}, line {exc.lineno})"
        ) from None
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    out.setdefault(EXPRESSIONS, []).append(target.id)  # not run: named
    return out


def read_cluster_labels(folder: str | os.PathLike) -> tuple[dict[int, str], str | None]:
    """Cluster id -> label from ``cluster_group.tsv`` (else ``cluster_KSLabel.tsv``), and the
    name of the file read (None when the folder has neither)."""
    for name, column in LABEL_FILES:
        path = Path(folder) / name
        if not path.is_file():
            continue
        try:
            # utf-8-sig: a byte-order mark (Excel, Windows editors) hid the cluster_id column
            with path.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh, delimiter="\t")
                rows, columns = list(reader), reader.fieldnames or []
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
        if "cluster_id" not in columns or column not in columns:
            raise InputError(f"{path}: needs the tab-separated columns cluster_id and {column}")
        if not rows:  # it was said to lack the columns it has
            raise InputError(f"{path}: has its columns but no cluster rows; label the clusters")
        labels: dict[int, str] = {}
        for i, row in enumerate(rows, start=2):
            try:
                cid = int(row["cluster_id"])
            except (TypeError, ValueError):
                raise InputError(
                    f"{path}: line {i}: cluster_id {row['cluster_id']!r} is not a whole number"
                ) from None
            label = (row[column] or "").strip()
            if labels.get(cid, label) != label:  # the last one silently won
                raise InputError(
                    f"{path}: line {i}: cluster {cid} is labelled {label!r} after "
                    f"{labels[cid]!r}; give each cluster one label"
                )
            labels[cid] = label
        return labels, name
    return {}, None


def _load_vector(path: Path) -> np.ndarray:
    a = read_npy(path, "one number per spike", "split the recording into shorter files")
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1 or a.dtype.kind not in "iuf":
        raise InputError(f"{path}: expected one number per spike, got {a.dtype} of shape {a.shape}")
    return a


def load_phy(
    folder: str | os.PathLike,
    dt: float | None = None,
    groups: str | Sequence[str] = "good",
    sample_rate: float | None = None,
) -> SpikeTrain:
    """Read a Kilosort/phy output folder as a :class:`~infodyn.data.SpikeTrain`.

    Parameters
    ----------
    folder : the output folder (see the module docstring for the files read).
    dt : bin width in ms (default 1 ms).
    groups : cluster labels to keep: ``"good"`` (default), several (``("good", "mua")``), or
        ``"all"`` for every cluster that has spikes, labelled or not; compared without case
        (a label "Good" is good).
    sample_rate : samples per second; default ``sample_rate`` of ``params.py``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    times_path = folder / "spike_times.npy"
    if not times_path.is_file():
        raise InputError(f"{folder}: not a Kilosort/phy output folder (no spike_times.npy)")
    clusters_path = folder / "spike_clusters.npy"
    if not clusters_path.is_file():
        clusters_path = folder / "spike_templates.npy"
        if not clusters_path.is_file():
            raise InputError(
                f"{folder}: phy folder has spike_times.npy but neither spike_clusters.npy nor "
                f"spike_templates.npy"
            )
    samples = _load_vector(times_path)
    clusters = _load_vector(clusters_path)
    if samples.size != clusters.size:
        raise InputError(
            f"{folder}: spike_times.npy has {samples.size} spikes but {clusters_path.name} has "
            f"{clusters.size}"
        )
    if (
        clusters.dtype.kind == "f"
        and not np.all((clusters == np.round(clusters)) & (np.abs(clusters) < 2.0**63))
    ) or (  # inf, nan, 1e30 and uint64 ids past int64: astype(int64) wrapped them silently
        clusters.dtype.kind == "u" and clusters.size and clusters.max() >= 2**63
    ):
        raise InputError(f"{clusters_path}: cluster ids must be whole numbers within int64")
    clusters = clusters.astype(np.int64)
    if samples.size and (not np.all(np.isfinite(samples)) or samples.min() < 0):
        raise InputError(f"{times_path}: spike times must be finite sample counts >= 0")
    params = read_params(folder)
    rate = sample_rate if sample_rate is not None else params.get("sample_rate")
    if rate is None and "sample_rate" in params.get(EXPRESSIONS, []):  # it said "lacks it"
        raise InputError(
            f"{folder}: params.py sets sample_rate to an expression, which infodyn does not run; "
            "write the number (sample_rate = 30000.0) or pass sample_rate"
        )
    if rate is None:
        raise InputError(f"{folder}: no sample_rate (params.py is missing or lacks it)")
    if isinstance(rate, np.integer | np.floating):  # NumPy scalars are numbers too
        rate = rate.item()
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not 0 < rate <= sys.float_info.max  # finite, and an int that fits a float
    ):
        raise InputError(f"{folder}: sample_rate must be a positive number of Hz, got {rate!r}")
    labels, label_file = read_cluster_labels(folder)
    wanted = _wanted_groups(groups)
    ids = np.unique(clusters)
    silent: list[int] = []  # wanted clusters that have no spike
    if wanted is not None:
        if label_file is None:
            raise InputError(
                f"{folder}: no cluster labels (cluster_group.tsv or cluster_KSLabel.tsv), so "
                f"no unit is known to be {'/'.join(sorted(wanted))}; pass groups='all' (from "
                f"the command line: infodyn convert {folder} spikes.h5 --groups all, then "
                "analyse spikes.h5)"
            )
        spiking = ids
        ids = np.array([c for c in ids if labels.get(int(c), "").lower() in wanted], dtype=np.int64)
        silent = sorted(
            set(c for c, g in labels.items() if g.lower() in wanted) - set(spiking.tolist())
        )
        if ids.size == 0:
            if spiking.size == 0:  # "labels found: good" named labels of clusters without spikes
                raise InputError(f"{times_path}: holds no spikes")
            found = sorted({labels.get(int(c), "unlabelled") for c in spiking})
            raise InputError(
                f"{folder}: no cluster with spikes is labelled {'/'.join(sorted(wanted))} in "
                f"{label_file} (the clusters with spikes are: {', '.join(found)})"
            )
    lookup = np.searchsorted(ids, clusters)
    lookup[lookup >= ids.size] = 0
    keep = ids[lookup] == clusters if ids.size else np.zeros(clusters.size, bool)
    metadata = {
        "source": str(folder),
        "format": "phy",
        "sample_rate": float(rate),
        "unit_ids": ids.tolist(),
        "unit_groups": [labels.get(int(c), "unlabelled") for c in ids],
        "cluster_file": clusters_path.name,
        "label_file": label_file,
    }
    if silent:  # the population shrank without a word: the labels promise these units
        metadata["silent_labelled_clusters"] = silent
        shown = ", ".join(map(str, silent[:10])) + (" ..." if len(silent) > 10 else "")
        warn_data(
            f"{folder}: {len(silent)} cluster(s) labelled {'/'.join(sorted(wanted))} in "
            f"{label_file} have no spikes and are left out ({shown}): merged away in phy?"
        )
    # the recording runs to the end of the last sample holding a spike of any cluster
    stop = (float(samples.max(initial=0)) + 1.0) / float(rate)
    trial = TimedTrial(seconds=samples[keep] / float(rate), units=lookup[keep], stop=stop)
    return bin_trials([trial], int(ids.size), dt, source=str(folder), metadata=metadata)


def _wanted_groups(groups: str | Sequence[str]) -> set[str] | None:
    if isinstance(groups, str):
        if groups.lower() == "all":
            return None
        groups = [g.strip() for g in groups.split(",")]
    if not isinstance(groups, list | tuple | set):  # None or 5: "not iterable"
        raise InputError(f"groups must be cluster labels ('good', ...) or 'all', got {groups!r}")
    # labels compare without case: a hand-edited "Good" was left out of groups="good" unsaid
    wanted = {str(g).lower() for g in groups if str(g)}
    if not wanted:
        raise InputError("groups must name at least one cluster label, or be 'all'")
    return wanted
