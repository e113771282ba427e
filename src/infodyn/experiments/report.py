"""One self-contained ``report.html`` per run directory.

The report reads what any command wrote with :class:`~infodyn.experiments.rundir.RunDir`:
``config.json`` (the resolved config, shown verbatim), ``results.json`` (shown as tables; nested
sections become their own tables) and every figure under ``figures/`` (embedded as base64 PNG,
so the file can be mailed or archived alone). It needs nothing else: a run directory written by
``simulate``, ``criticality``, ``info``, ``energy``, ``train``, ``images`` or a sweep all work.
A sweep's report also shows its points (``results.csv``, one row a point), and a folder of
many files (a sweep's ``points/``) is one row of the files table
(:mod:`infodyn.experiments.report_files`).

Optional keys in ``results.json`` that the report understands:

``title``              the report's heading;
``summary``            a short paragraph shown under the heading;
``notes``              a list of strings shown as highlighted notes (e.g. stages left out);
``figure_order``       figure names (without ``.png``) in the order to show them;
``figure_captions``    ``{name: caption}``;
``sections``           ``{result key: heading}`` to give a results section a readable heading.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

from infodyn.atomic import write_text
from infodyn.errors import InputError
from infodyn.experiments.report_figures import anchor, figures_section, run_figures
from infodyn.experiments.report_files import files_table, sweep_points
from infodyn.experiments.rundir import interrupted_note

_META_KEYS = {"title", "summary", "notes", "figure_order", "figure_captions", "sections"}
_MAX_INLINE = 12  # numeric lists up to this length are shown in full
_MAX_ROWS = 40  # rows of a list-of-records table
_MAX_POINTS = 500  # rows of a sweep's table of points (all of them are in results.csv)

_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#dde2ea; --band:#f5f7fa; --accent:#2f5d9e; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
header { padding: 22px 32px 14px; border-bottom: 3px solid var(--accent); background: var(--band); }
header h1 { margin: 0 0 4px; font-size: 24px; }
header .meta { color: var(--muted); font-size: 13px; }
nav { padding: 8px 32px; border-bottom: 1px solid var(--line); font-size: 14px; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
main { padding: 8px 32px 40px; max-width: 1280px; }
h2 { margin: 28px 0 10px; font-size: 19px; border-bottom: 1px solid var(--line);
     padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 16px; color: var(--accent); }
p.summary { font-size: 15px; max-width: 70em; }
.note { border-left: 4px solid #d08b1b; background: #fff7e8; padding: 8px 12px; margin: 8px 0;
        max-width: 70em; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: 3px 9px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
ul.items { margin: 0; padding-left: 1.2em; }
td.key { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px;
         background: #fff; }
figure.wide { grid-column: 1 / -1; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
figcaption b { color: var(--ink); font-family: ui-monospace, Menlo, Consolas, monospace; }
pre { background: var(--band); border: 1px solid var(--line); padding: 10px 12px;
      overflow-x: auto; font-size: 12.5px; max-height: 520px; }
.section { margin-bottom: 10px; }
p.tname { margin: 10px 0 2px; font-weight: 600; font-size: 13.5px; color: var(--muted); }
h4, h5 { margin: 14px 0 4px; font-size: 15px; }
.tables { display: flex; flex-wrap: wrap; gap: 0 36px; align-items: flex-start; }
.scroll { overflow: auto; max-height: 640px; }
footer { color: var(--muted); font-size: 12px; padding: 0 32px 24px; }
"""


# ---------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A short, readable text for one result value (plain text, not yet escaped)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == 0:
            return "0"
        if 1e-3 <= abs(value) < 1e5:
            return _near_one(value, f"{value:.4g}")
        return f"{value:.3e}"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if value and all(_is_number(v) for v in value):
            if len(value) <= _MAX_INLINE:  # [12345, 67890] read as four numbers with commas
                items = (str(v) if type(v) is int else format_value(v) for v in value)
                return "[" + ", ".join(items) + "]"
            try:  # None (NaN in results.json) and NaN are n/a, counted: min and max of a list
                # with a NaN depended on where it stood
                nums = [float(v) for v in value if v is not None and not math.isnan(v)]
            except OverflowError:  # an integer beyond the float range
                return f"{len(value)} values, some beyond the float range"
            if not nums:
                return f"{len(value)} values, all n/a"
            n_a = f" ({len(value) - len(nums):,} n/a)" if len(nums) < len(value) else ""
            return (
                f"{len(value)} values{n_a}: min {format_value(min(nums))}, "
                f"mean {format_value(sum(nums) / len(nums))}, max {format_value(max(nums))}"
            )
        if len(value) <= 6 and all(isinstance(v, (str, int, float)) for v in value):
            return ", ".join(format_value(v) for v in value)
        if len(value) <= 6 and all(_is_short_list(v) for v in value):  # pairs, small rows
            return "; ".join(format_value(v) for v in value)
        return f"list of {len(value)} items"
    if isinstance(value, dict):
        return f"{len(value)} entries"
    return str(value)


def _near_one(value: float, text: str) -> str:
    """``text`` with more digits where four made a branching ratio of 0.99996 or 1.00004 read
    as 1: near criticality 1 - m is the quantity of interest."""
    digits = 4
    while abs(float(text)) == 1.0 and abs(abs(value) - 1.0) > 1e-9 and digits < 12:
        digits += 1  # (not for rounding noise: 0.9999999999999999 stays "1")
        text = f"{value:.{digits}g}"
    return text


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _flatten(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts flattened to ``a.b.c`` keys (lists of records are kept whole)."""
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and len(value) <= 60:
            rows.extend(_flatten(value, name + "."))
        else:
            rows.append((name, value))
    return rows


def _records_table(records: list[dict[str, Any]], max_rows: int = _MAX_ROWS) -> str:
    cols: list[str] = []
    for r in records[:max_rows]:
        for k in r:
            if k not in cols:
                cols.append(k)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = []
    for r in records[:max_rows]:
        cells = "".join(_cell(r.get(c)) for c in cols)
        body.append(f"<tr>{cells}</tr>")
    more = ""
    if len(records) > max_rows:
        more = f"<p class='meta'>first {max_rows} of {len(records)} rows</p>"
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _cell(value: Any) -> str:
    if isinstance(value, list) and len(value) > 1 and all(isinstance(v, str) for v in value):
        # warnings and notes, each whole (more than six were "list of 7 items"; fewer were
        # joined by commas that their own text holds)
        items = "".join(f"<li>{html.escape(v)}</li>" for v in value)
        return f"<td><ul class='items'>{items}</ul></td>"
    cls = "num" if _is_number(value) and value is not None else ""
    text = html.escape(format_value(value if not isinstance(value, dict) else _compact(value)))
    return f"<td class='{cls}'>{text}</td>" if cls else f"<td>{text}</td>"


def _compact(d: dict[str, Any]) -> str:
    return "; ".join(f"{k}={format_value(v)}" for k, v in d.items())


def _kv_table(rows: list[tuple[str, Any]]) -> str:
    """A quantity/value table; lists of records follow it as their own tables."""
    body, extra = [], []
    for key, value in rows:
        if _is_records(value):
            extra.append(f"<p class='tname'>{html.escape(key)}</p>{_records_table(value)}")
        else:
            body.append(f"<tr><td class='key'>{html.escape(key)}</td>{_cell(value)}</tr>")
    table = ""
    if body:
        table = "<table><tr><th>quantity</th><th>value</th></tr>" + "".join(body) + "</table>"
    return table + "".join(extra)


def _comparison_table(names: list[str], dicts: list[dict[str, Any]]) -> str:
    """One row per quantity, one column per dict (e.g. before / after training)."""
    flat = [dict(_flatten(d)) for d in dicts]
    keys: list[str] = []
    for f in flat:
        keys.extend(k for k in f if k not in keys)
    head = "<tr><th>quantity</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for k in keys:
        vals = [f.get(k) for f in flat]
        if any(_is_records(v) for v in vals):
            continue
        rows.append(
            f"<tr><td class='key'>{html.escape(k)}</td>" + "".join(_cell(v) for v in vals) + "</tr>"
        )
    extra = []
    for n, f in zip(names, flat, strict=True):
        for k, v in f.items():
            if _is_records(v):
                extra.append(
                    f"<p class='tname'>{html.escape(n)}: {html.escape(k)}</p>{_records_table(v)}"
                )
    return f"<table>{head}</tr>{''.join(rows)}</table>" + "".join(extra)


def _section(key: str, value: dict[str, Any], label: str, level: int = 3) -> str:
    """A results section: scalars in one table; sibling sub-dicts with the same keys side by
    side in one comparison table; other sub-dicts as their own sub-sections."""
    tag = f"h{min(level, 5)}"
    parts = [f"<div class='section'><{tag} id='res-{anchor(key)}'>{html.escape(label)}</{tag}>"]
    scalars = [(k, v) for k, v in value.items() if not isinstance(v, dict)]
    subs = [(k, v) for k, v in value.items() if isinstance(v, dict) and v]
    if not scalars and not subs:
        scalars = [("(empty)", None)]
    if scalars:
        parts.append(_kv_table(scalars))
    groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
    for k, v in subs:
        groups.setdefault(tuple(sorted(dict(_flatten(v)))), []).append((k, v))
    for members in groups.values():
        if len(members) >= 2:
            names = [k for k, _ in members]
            parts.append(
                f"<p class='tname'>{html.escape(' vs '.join(names))}</p>"
                + _comparison_table(names, [v for _, v in members])
            )
        else:
            ((k, v),) = members
            if level >= 4 or len(_flatten(v)) <= 8:
                parts.append(f"<p class='tname'>{html.escape(k)}</p>{_kv_table(_flatten(v))}")
            else:
                parts.append(_section(f"{key}-{k}", v, k, level + 1))
    parts.append("</div>")
    return "".join(parts)


def _is_records(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(v, dict) for v in value)
        and all(  # a record's table (a memory's basin) is shown compacted in its cell
            not isinstance(x, list) or _is_short_list(x) for v in value for x in v.values()
        )
    )


def _is_short_list(x: Any) -> bool:
    return isinstance(x, list) and len(x) <= _MAX_INLINE and all(_is_number(v) for v in x)


# ---------------------------------------------------------------------------------------------
# reading a run directory
# ---------------------------------------------------------------------------------------------


def _read_json(path: Path) -> tuple[Any, str | None]:
    if not path.exists():
        return None, None
    try:
        return json.loads(path.read_text()), None
    except (OSError, ValueError) as exc:
        return None, f"{path.name} could not be read ({exc})"
    except RecursionError:
        return None, f"{path.name} could not be read (nested too deeply)"


#: the report's optional keys of results.json (module docstring) and the type each must have
_META_TYPES: dict[str, tuple[type, str]] = {
    "title": (str, "text"),
    "notes": (list, "a list of notes"),
    "figure_order": (list, "a list of figure names"),
    "figure_captions": (dict, "a table {figure name: caption}"),
    "sections": (dict, "a table {result key: heading}"),
}


def _checked_meta(results: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``results`` without the optional keys of the wrong type, and a note for each dropped
    (a hand-edited results.json should still give a report, saying what it ignored)."""
    kept, notes = dict(results), []
    for key, (kind, what) in _META_TYPES.items():
        value = results.get(key)
        bad = value is not None and not isinstance(value, kind)
        if isinstance(value, list) and key == "figure_order":
            bad = not all(isinstance(v, str) for v in value)
        if bad:
            del kept[key]
            notes.append(f"results.json: '{key}' should be {what}; ignored")
    return kept, notes


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------


def render_report(run_dir: str | os.PathLike, title: str | None = None) -> str:
    """The HTML text of the report for ``run_dir`` (see the module docstring)."""
    run = Path(run_dir)
    if run.exists() and not run.is_dir():  # "no such run directory" for a file that is there
        raise InputError(f"{run}: is a file; give the run directory (the --out of a run)")
    if not run.is_dir():
        raise InputError(f"{run}: no such run directory")
    config, config_err = _read_json(run / "config.json")
    results, results_err = _read_json(run / "results.json")
    for err in (config_err, results_err):  # also said on stderr: the report only showed it
        if err:
            warnings.warn(f"{run / err}; the report says so and shows the rest", stacklevel=2)
    if results is not None and not isinstance(results, dict):
        results = {"results": results}
    results, meta_notes = _checked_meta(results or {})
    figs = run_figures(run, list(results.get("figure_order", [])))
    stopped = None if results or results_err else interrupted_note(run)  # no config.json yet
    if config is None and not (results or figs or config_err or results_err or stopped):
        raise InputError(
            f"{run}: not a run directory (no config.json, results.json or figures/ found)"
        )

    command = config.get("command") if isinstance(config, dict) else None
    version = config.get("infodyn_version") if isinstance(config, dict) else None
    heading = (
        title
        or results.get("title")
        or f"infodyn {command or 'run'}{':' if command else ''} {run.resolve().name}"
    )
    captions = results.get("figure_captions", {}) or {}
    headings = results.get("sections", {}) or {}
    notes = list(results.get("notes", []) or [])
    notes += [e for e in (config_err, results_err, stopped) if e] + meta_notes
    if config is None and not config_err and not stopped:
        notes.append("config.json is missing: the run's settings are unknown.")
    if not results and not results_err and not stopped:
        notes.append("results.json is missing or empty.")
    files = results.get("files")
    named = files.values() if isinstance(files, dict) else ()
    notes += [  # a deleted figure went unmentioned
        f"{f} is named in results.json but missing"
        for f in named
        if isinstance(f, str) and f.startswith("figures/") and not (run / f).is_file()
    ]

    nav: list[tuple[str, str]] = []
    parts: list[str] = []

    # a text summary is the paragraph under the heading; any other (the channel experiment's
    # records by strength and condition) is a result, shown as a table (it was a repr paragraph)
    meta_keys = _META_KEYS if isinstance(results.get("summary"), str) else _META_KEYS - {"summary"}
    if isinstance(results.get("summary"), str) and results["summary"]:
        parts.append(f"<p class='summary'>{html.escape(results['summary'])}</p>")
    for note in notes:
        parts.append(f"<div class='note'>{html.escape(str(note))}</div>")

    # results: top-level scalars in one table, each nested section in its own table
    body = {k: v for k, v in results.items() if k not in meta_keys}
    scalars = [(k, v) for k, v in body.items() if not isinstance(v, dict)]
    nested = [(k, v) for k, v in body.items() if isinstance(v, dict)]
    if scalars or nested:
        nav.append(("results", "Results"))
        parts.append("<h2 id='results'>Results</h2><div class='tables'>")
        if scalars:
            parts.append(f"<div><h3>summary</h3>{_kv_table(scalars)}</div>")
        parts.append("</div>")
        for key, value in nested:
            parts.append(_section(key, value, str(headings.get(key, key))))

    definition = config.get("config") if isinstance(config, dict) else None
    grid = definition.get("grid") if isinstance(definition, dict) else None
    keys = [*grid, "seed"] if isinstance(grid, dict) else ["seed"]
    points = sweep_points(run, verbatim=keys) if command == "sweep" else None
    if points:  # one row a point (the files table listed every point's files instead)
        nav.append(("points", f"Points ({len(points)})"))
        table = _records_table(points, max_rows=_MAX_POINTS)
        parts.append(f"<h2 id='points'>Points (results.csv)</h2><div class='scroll'>{table}</div>")

    if figs:
        nav.append(("figures", f"Figures ({len(figs)})"))
        parts.append(figures_section(run, figs, captions))

    if config is not None:
        nav.append(("config", "Config"))
        text = json.dumps(config, indent=2, sort_keys=False)
        parts.append(f"<h2 id='config'>Config used</h2><pre>{html.escape(text)}</pre>")

    nav.append(("files", "Files"))
    parts.append(f"<h2 id='files'>Files in the run directory</h2>{files_table(run)}")

    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = [f"run directory <code>{html.escape(str(run))}</code>", f"report written {now}"]
    if command:
        meta.insert(0, f"command <code>{html.escape(str(command))}</code>")
    if version:
        meta.append(f"infodyn {html.escape(str(version))}")
    nav_html = "".join(f"<a href='#{a}'>{html.escape(t)}</a>" for a, t in nav)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(heading)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(heading)}</h1>"
        f"<div class='meta'>{' &middot; '.join(meta)}</div></header>\n"
        f"<nav>{nav_html}</nav>\n<main>\n" + "\n".join(parts) + "\n</main>\n"
        "<footer>Self-contained report: figures are embedded; numbers come from "
        "results.json; the config is config.json.</footer>\n</body>\n</html>\n"
    )


def write_report(run_dir: str | os.PathLike, title: str | None = None) -> Path:
    """Write ``run_dir/report.html`` atomically and return its path."""
    # names that are not valid UTF-8 (a folder or figure named with such bytes) come back from
    # the file system as lone surrogates: shown escaped rather than failing the write
    text = render_report(run_dir, title=title).encode("utf-8", "backslashreplace").decode()
    return write_text(Path(run_dir) / "report.html", text)
