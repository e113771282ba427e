"""Resuming a run only with the config it was started with.

A resumed run continues from a checkpoint made under the settings stored in ``DIR/config.json``.
Continuing with an edited config would mix two runs and then record settings that part of the
run never used, so :func:`check_resume_config` refuses, naming every changed key, unless the
caller passes ``allow_changes=True`` (the CLI's ``--allow-config-change``); the changes are then
kept in ``config.json`` under ``"resumed_with_changes"``. Keys that only shape the initial
weights (:data:`FIXED_BY_CHECKPOINT`) are refused even then: the checkpoint's weights replace
the draw, so the change would be recorded and never applied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infodyn.errors import InputError, reading

#: keys that may differ on resume without changing what was computed (how long to train)
EXTENDABLE = frozenset({"training.iterations"})

#: ``[network]`` keys that set only the weights' shapes, graph, storage, initial scales and
#: signs (Dale's law follows ``frac_exc``): a resumed run keeps the checkpoint's weights, so a
#: change would be recorded in config.json but never take effect (a changed ``k_in`` trained on
#: the old graph and recorded the new one)
FIXED_BY_CHECKPOINT = frozenset(
    f"network.{key}"
    for key in (
        "n_in", "n_rec", "n_out", "connectivity", "p_connect", "k_in", "weights", "in_scale",
        "rec_scale", "out_scale", "frac_exc", "ei_mu", "ei_sigma", "inh_factor", "p_ee", "p_ei",
        "p_ie", "p_ii",
    )
)  # fmt: skip


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested dicts (added and removed keys too)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            name = f"{prefix}{key}"
            if key not in old or key not in new:
                out.append(name)
            else:
                out.extend(changed_keys(old[key], new[key], name + "."))
        return out
    return [] if old == new else [prefix.rstrip(".") or "(the whole config)"]


def stored_config(run_dir: str | Path) -> dict[str, Any] | None:
    """The ``config.json`` of a run directory (``None`` when there is none)."""
    path = Path(run_dir) / "config.json"
    if not path.exists():
        return None
    advice = "restore it, or start afresh without --resume in another directory"
    with reading(path, "run config", advice):
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
            raise ValueError("no 'config' table")
    return data


def check_resume_config(
    run_dir: str | Path, new: dict[str, Any], allow_changes: bool = False
) -> dict[str, list[Any]]:
    """Compare the resolved config ``new`` with the one the run in ``run_dir`` started with.

    Returns the changes ``{key: [old, new]}`` (empty when none). Raises :class:`InputError`
    naming the changed keys unless they are all in :data:`EXTENDABLE` or ``allow_changes`` is
    true; a missing ``config.json`` is refused the same way (the settings are unknown).
    """
    stored = stored_config(run_dir)
    if stored is None:  # deleted: what the checkpoint was trained under is unknown
        if not allow_changes:
            raise InputError(
                f"{Path(run_dir) / 'config.json'} is missing: the settings this run started "
                "with are unknown; restore it, or pass --allow-config-change to continue under "
                "the given config (recorded in config.json)"
            )
        return {"(config.json)": ["missing", "continued under the given config"]}
    old = stored["config"]
    new = json.loads(json.dumps(new))  # the JSON types the stored copy has
    keys = changed_keys(old, new)
    changes = {k: [_get(old, k), _get(new, k)] for k in keys}
    # a key the stored config lacks (written before infodyn had it) is left to allow_changes
    fixed = [k for k in keys if k in FIXED_BY_CHECKPOINT and _has(old, k)]
    if fixed:
        raise InputError(
            f"{Path(run_dir) / 'config.json'}: {_shown(fixed, changes)} set the initial weights, "
            "which the checkpoint's replace, so the change cannot take effect on resume; resume "
            "with the original values, or train afresh in another directory"
        )
    blocking = [k for k in keys if k not in EXTENDABLE]
    if blocking and not allow_changes:
        shown = _shown(blocking, changes)
        raise InputError(
            f"{Path(run_dir) / 'config.json'}: the config differs from the one this run started "
            f"with: {shown}; resume with the original config, or pass "
            "--allow-config-change to continue under the new settings (recorded in config.json)"
        )
    return changes


def _shown(keys: list[str], changes: dict[str, list[Any]]) -> str:
    """``key (old -> new)`` for the first six keys, then how many more."""
    shown = ", ".join(f"{k} ({_short(changes[k][0])} -> {_short(changes[k][1])})" for k in keys[:6])
    return shown + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")


def _has(data: Any, key: str) -> bool:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _get(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 30 else text[:27] + "..."
