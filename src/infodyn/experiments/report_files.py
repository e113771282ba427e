"""The report's lists of what a run directory holds: its files, and a sweep's table of points.

A sweep keeps one folder a point under ``points/`` (10^4 of them, for a large grid): listing
every file there made the report's "Files" table as long as the sweep, and the table a reader
wants, one row a point (``results.csv``), was not shown at all. Here a first-level folder of
more than :data:`MAX_FILES_LISTED` files is one row (its files, folders and size), and a
sweep's ``results.csv`` is read back as records for the report's "Points" table.
"""

from __future__ import annotations

import csv
import html
from pathlib import Path
from typing import Any

from infodyn.memory import format_bytes

#: a first-level folder holding more files than this is one row of the files table
MAX_FILES_LISTED = 40


def files_table(run: Path) -> str:
    """Every file of ``run`` with its size (hidden files and the report left out), a large
    first-level folder summarised in one row."""
    rows: list[tuple[str, str]] = []
    grouped: dict[str, list[Path]] = {}
    for p in sorted(run.rglob("*")):
        if not p.is_file() or p.name.startswith(".") or p.name == "report.html":
            continue
        rel = p.relative_to(run)
        if len(rel.parts) > 1:
            grouped.setdefault(rel.parts[0], []).append(p)
        else:
            rows.append((rel.as_posix(), format_bytes(p.stat().st_size)))
    for folder, files in grouped.items():
        if len(files) <= MAX_FILES_LISTED:
            rows.extend(
                (f.relative_to(run).as_posix(), format_bytes(f.stat().st_size)) for f in files
            )
            continue
        subfolders = {
            f.relative_to(run).parts[1] for f in files if len(f.relative_to(run).parts) > 2
        }
        inside = f" in {len(subfolders):,} folders" if subfolders else ""
        total = format_bytes(sum(f.stat().st_size for f in files))
        rows.append((f"{folder}/ ({len(files):,} files{inside})", total))
    rows.sort()
    body = "".join(
        f"<tr><td class='key'>{html.escape(name)}</td><td class='num'>{size}</td></tr>"
        for name, size in rows
    )
    return "<table><tr><th>file</th><th>size</th></tr>" + body + "</table>"


def sweep_points(run: Path, verbatim: Any = ()) -> list[dict[str, Any]] | None:
    """The rows of a sweep's ``results.csv`` (numbers as numbers, empty cells as None; the
    ``verbatim`` columns, the grid's keys, as written: as numbers they were rounded to 4 digits,
    and 0.50001 and 0.50002 both read 0.5), or None when there is none or it cannot be read, or
    a row is longer than the header (damaged or edited: the files table still lists it)."""
    path = run / "results.csv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if any(None in row for row in rows):  # (DictReader keeps a long row's extra cells there)
        return None
    keep = set(verbatim)
    return [{k: v if k in keep else _number(v) for k, v in row.items()} for row in rows]


def _number(text: str | None) -> Any:
    if text is None or text == "":
        return None
    if "_" in text:  # int("1_2") is 12: a point's name or a label, not a number
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
