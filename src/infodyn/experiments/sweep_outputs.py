"""A sweep's outputs: the results table (``results.csv``, and ``results.parquet`` when pyarrow
is installed) and the summary figure (``figures/summary.png``: one result against the first grid
key, one line per combination of the other keys, mean +- the seeds' sample SD), and the table's
rows (:func:`table_rows`).

:func:`infodyn.experiments.sweep.run_sweep` calls :func:`write_outputs` once every point is in.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from infodyn.atomic import atomic_path, write_csv
from infodyn.experiments.grid import SweepPoint
from infodyn.experiments.rundir import RunDir
from infodyn.experiments.sweep_point import count_attempts


def write_outputs(
    run: RunDir,
    rows: list[dict[str, Any]],
    grid: dict[str, list[Any]],
    metric: str | None,
) -> tuple[dict[str, str], str | None]:
    """Write results.csv (and .parquet) and the summary figure; returns the files and why
    there is no summary figure (``None`` when there is one)."""
    write_csv(run.file("results.csv"), rows)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    files = {"table": "results.csv"}
    try:
        import pandas as pd
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        with atomic_path(run.file("results.parquet"), ".parquet") as tmp:
            pd.DataFrame(_parquet_rows(rows, columns), columns=columns).to_parquet(tmp, index=False)
        files["parquet"] = "results.parquet"
    if metric in grid and any(f"results.{metric}" in row for row in rows):
        metric = f"results.{metric}"  # the result of that name, not the grid's own values
    why_not = _no_summary(rows, metric) if metric else None
    if metric and why_not is None:
        run.savefig(summary_figure(rows, grid, metric), "summary")
        files["summary"] = "figures/summary.png"
    else:  # a summary of an earlier run of this folder would be taken for this one's
        run.file("figures/summary.png").unlink(missing_ok=True)
    return files, why_not


def _parquet_rows(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """``rows`` with each column that holds values of several kinds (text and numbers, lists:
    a grid of ``units = "0-9", [0, 1]``), or lists or tables, as text, which Arrow takes (it
    raised on such a column after every point had run, and each rerun again). Lists and tables
    become JSON."""

    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        return "number" if isinstance(v, int | float) else "text" if isinstance(v, str) else "other"

    mixed = set()
    for c in columns:
        kinds = {kind(row[c]) for row in rows if row.get(c) is not None}
        if len(kinds) > 1 or "other" in kinds:
            mixed.add(c)
    if not mixed:
        return rows

    def text(v: Any) -> Any:
        if v is None or isinstance(v, str):
            return v
        return json.dumps(v, default=str) if isinstance(v, list | tuple | dict) else str(v)

    return [{k: text(v) if k in mixed else v for k, v in row.items()} for row in rows]


def _no_summary(rows: list[dict[str, Any]], metric: str) -> str | None:
    """Why ``metric`` cannot be plotted (``None`` when it can): absent, or not a number."""
    values = [row[metric] for row in rows if row.get(metric) is not None]
    if not any(row.get("status") == "done" for row in rows):  # not a wrong metric name
        return "no point finished: no summary figure"
    if not values:
        names = sorted({k for row in rows for k, v in row.items() if _is_number(v)})
        close = difflib.get_close_matches(metric, names, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return (
            f"no point has a result named {metric!r}: no summary figure ({hint}the results "
            "are the columns of results.csv; rerun the same sweep with --metric NAME: "
            "finished points are not run again)"
        )
    if not all(_is_number(v) for v in values):
        return f"the result {metric!r} is not a number: no summary figure"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def summary_figure(rows: list[dict[str, Any]], grid: dict[str, list[Any]], metric: str) -> Any:
    """``metric`` against the first grid key, one line per combination of the other keys,
    mean +- the sample SD over seeds (ddof 1; a strip of values per point when there is no grid
    key)."""
    from infodyn.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ok = [r for r in rows if r.get(metric) is not None and r["status"] != "failed"]
    keys = list(grid)
    if not keys:
        ax.plot([r.get("seed", 0) for r in ok], [r[metric] for r in ok], "o")
        ax.set_xlabel("seed")
    else:
        xkey, others = keys[0], keys[1:]
        numeric = all(_is_number(v) for v in grid[xkey])
        xs = sorted(grid[xkey]) if numeric else grid[xkey]  # 1.5, 0.5, 1.0 drew a zig-zag
        for combo in itertools.product(*(grid[k] for k in others)):
            label = ", ".join(f"{k}={v}" for k, v in zip(others, combo, strict=True))
            mean, sd = [], []
            for x in xs:
                vals = [
                    float(r[metric])
                    for r in ok
                    if r.get(xkey) == x
                    and all(r.get(k) == v for k, v in zip(others, combo, strict=True))
                ]
                mean.append(np.mean(vals) if vals else math.nan)
                sd.append(np.std(vals, ddof=1) if len(vals) > 1 else 0.0)  # sample SD
            pos = xs if numeric else list(range(len(xs)))
            ax.errorbar(pos, mean, yerr=sd, marker="o", capsize=3, label=label or None)
        if not numeric:
            ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_xlabel(xkey)
        if others:
            ax.legend(fontsize=7)
    n_failed = sum(r["status"] == "failed" for r in rows)
    n_left = sum(r["status"] == "interrupted" for r in rows)
    n_seeds = len({r.get("seed") for r in ok})
    ax.set_ylabel(metric + (f" (mean ± SD over {n_seeds} seeds)" if n_seeds > 1 and keys else ""))
    # of all the points ("2 points, 2 failed" read as a sweep of 2), the interrupted too
    title = f"sweep: {len(ok)} of {len(rows)} points plotted" if len(ok) < len(rows) else ""
    extra = [f"{n} {what}" for n, what in ((n_failed, "failed"), (n_left, "interrupted")) if n]
    ax.set_title((title or f"sweep: {len(ok)} points") + "".join(f", {e}" for e in extra))
    fig.tight_layout()
    return fig


def table_rows(
    points: list[SweepPoint],
    markers: dict[str, dict[str, Any]],
    failed: set[str],
    point_dir: dict[str, Path],
) -> list[dict[str, Any]]:
    """One row per point: index, name, status, grid values, seed, attempts, scalar results. A
    point finished in an earlier run is "done" like one finished now (its results come from its
    marker); one cut off by an interrupt is "interrupted"."""
    rows = []
    for p in points:
        status = "failed" if p.name in failed else "done" if p.key in markers else "interrupted"
        row: dict[str, Any] = {"index": p.index, "point": p.name, "status": status}
        row.update(p.values)
        if p.seed is not None:
            row["seed"] = p.seed
        row["attempts"] = count_attempts(point_dir[p.key])
        if status == "done":  # (a failed point's outdated marker is not its result); a
            for name, value in flatten(markers[p.key]["results"]).items():  # result named
                row[f"results.{name}" if name in row else name] = value  # like a column
                # (energy's bin_ms beside the grid's bin_ms) replaced the grid's value
        rows.append(row)
    return rows


def flatten(results: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalar entries of a nested results dict, keys joined by dots (lists are left out)."""
    flat: dict[str, Any] = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, bool | int | float | str) or value is None:
            flat[name] = value
    return flat
