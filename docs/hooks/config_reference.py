"""MkDocs hook: write the config-file reference from the registered commands at build time.

``docs/config.md`` holds the marker ``<!-- config-reference -->``; this hook replaces it with one
section per command that runs from a TOML config: its complete default config, every key with its
default, units and allowed values (``infodyn config init COMMAND`` prints the same text), read
from the pydantic models so the page cannot drift from the code. Tables of the options those
defaults do not show follow (:func:`options_reference`): ALIF's network keys, each ``[task]``
kind's and each ``[[loss]]`` kind's, with the defaults read from the models and the terms.
"""

from __future__ import annotations

import dataclasses
from typing import Any

MARKER = "<!-- config-reference -->"

#: what each option of a built-in ``[[loss]]`` kind means (kind, option) -> text with its unit;
#: the loss terms carry no descriptions, so one missing here stops the build (see _loss_rows)
LOSS_OPTIONS = {
    ("unit_rate", "r0_hz"): "target rate of every unit (its mean over batch and time), Hz",
    ("rate_reg", "f_target_hz"): "target rate f* of every unit (mean over batch and time), Hz",
    ("rate_reg", "per_sequence"): (
        "take each sequence's own rates instead of pooling the batch (NEST's e-prop models)"
    ),
    ("rate_variance", "s_target"): (
        "target variance over time of the population rate, Hz^2 (0: push toward a steady rate)"
    ),
    ("pop_rate_dev", "r0_hz"): "target population rate at every step, Hz",
    ("total_correlation", "estimator"): (
        "one of 'gaussian' (log-determinant), 'pairwise' (sum of squared correlations)"
    ),
    ("total_correlation", "eps"): (
        "ridge added to the covariance diagonal, spikes^2 per step^2 (keeps silent units finite)"
    ),
}

#: what leaving out a network key whose default is unset means (``ALIF.n_adaptive``)
UNSET = {"n_alif": "every unit adaptive"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _value(value: Any) -> str:
    """A default as the TOML blocks write it (``None``: an unset, commented-out key)."""
    from infodyn.experiments.toml_write import _toml_value

    if value is None:
        return "(unset)"
    return f"`{_toml_value(list(value) if isinstance(value, tuple) else value)}`"


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    return [
        "| key | default | meaning |",
        "| --- | --- | --- |",
        *(f"| `{key}` | {default} | {_cell(text)} |" for key, default, text in rows),
        "",
    ]


def _init_fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init]


def _alif_rows() -> list[tuple[str, str, str]]:
    from infodyn.network import ALIF, LIF

    net = ALIF()
    rows = []
    for name, info in ALIF.model_fields.items():
        if name not in LIF.model_fields:
            text = info.description or ""
            if name in UNSET:
                text += f"; unset: {UNSET[name]}"
            rows.append((name, _value(getattr(net, name)), text))
    return rows


def _task_sections() -> list[str]:
    """One table per ``[task]`` kind: its options with their defaults as a config builds them
    (built for the default network and for another one: the options that change with it take
    the network's value)."""
    from infodyn.experiments.train_run import build_task
    from infodyn.learning.tasks import OPTION_DESCRIPTIONS, TASKS
    from infodyn.network import LIF

    base, other = LIF(), LIF(n_in=7, n_out=3, dt=0.5)
    lines = [
        "### `[task]` of `infodyn train`",
        "",
        "`kind` picks the task, and its keys are those of its table (another's is refused); a "
        "default of \"the network's\" is the value of the file's `[network]`.",
        "",
    ]
    for kind, cls in TASKS.items():
        task, moved = build_task({"kind": kind}, base), build_task({"kind": kind}, other)
        rows = []
        for name in _init_fields(cls):
            value = getattr(task, name)
            follows = value != getattr(moved, name)
            default = f"the network's `{name}`" if follows else _value(value)
            rows.append((name, default, OPTION_DESCRIPTIONS[name]))
        lines += [f'#### `kind = "{kind}"`', "", *_table(rows)]
        fixed = [n for n in ("n_in", "n_out") if n not in _init_fields(cls)]
        if fixed:
            sizes = " and ".join(f"`{n} = {getattr(task, n)}`" for n in fixed)
            lines += [f"With these defaults its network needs {sizes}.", ""]
    return lines


def _loss_sections() -> list[str]:
    """One table per built-in ``[[loss]]`` kind with options besides ``weight``."""
    from infodyn.learning.losses import LossTerm
    from infodyn.learning.registry import config_kinds

    weight = next(f for f in dataclasses.fields(LossTerm) if f.name == "weight").default
    kinds = {k: c for k, c in config_kinds().items() if c.__module__.startswith("infodyn.")}
    bare = [k for k, c in kinds.items() if _init_fields(c) == ["weight"]]
    lines = [
        "### `[[loss]]` of `infodyn train`",
        "",
        f"Every term takes `weight` (default {_value(weight)}), its factor in the summed loss; "
        + ", ".join(f"`{k}`" for k in bare)
        + " take nothing else.",
        "",
    ]
    for kind, cls in kinds.items():
        names = [n for n in _init_fields(cls) if n != "weight"]
        if not names:
            continue
        term = cls()
        missing = [n for n in names if (kind, n) not in LOSS_OPTIONS]
        if missing:
            raise KeyError(f"docs/hooks/config_reference.py: describe [[loss]] {kind}.{missing}")
        rows = [(n, _value(getattr(term, n)), LOSS_OPTIONS[kind, n]) for n in names]
        lines += [f'#### `kind = "{kind}"`', "", *_table(rows)]
    return lines


def options_reference() -> str:
    """The Markdown tables of the options the default configs above do not show."""
    lines = [
        "## Options beyond the defaults",
        "",
        "Keys that the default configs above leave out because a file must select them first "
        "(`infodyn config show` prints them, resolved, once it does).",
        "",
        '### `[network] model = "alif"`',
        "",
        *_table(_alif_rows()),
        *_task_sections(),
        *_loss_sections(),
    ]
    return "\n".join(lines)


def config_reference() -> str:
    """The Markdown of every registered command's default config, in order of registration,
    then the options those defaults do not show."""
    import infodyn.cli  # noqa: F401  (registers the commands)
    from infodyn.experiments.config import COMMANDS, default_config_toml

    lines: list[str] = []
    for name in COMMANDS:
        lines += [
            f"## `infodyn {name}`",
            "",
            f"`infodyn config init {name}` prints this file:",
            "",
            "```toml",
            default_config_toml(name).rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(lines) + "\n" + options_reference()


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, config_reference())
    return markdown
