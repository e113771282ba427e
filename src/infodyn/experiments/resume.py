"""Resuming a run only with the config it was started with.

A resumed run continues from a checkpoint made under the settings stored in ``DIR/config.json``.
Continuing with an edited config would mix two runs and then record settings that part of the
run never used, so :func:`check_resume_config` refuses, naming every changed key, unless the
caller passes ``allow_changes=True`` (the CLI's ``--allow-config-change``); the changes are then
kept in ``config.json`` under ``"resumed_with_changes"`` (a training's: :func:`resumed_changes`,
written with its first checkpoint by :func:`record_with_first_checkpoint`). Keys that fix the
network the checkpoint was trained as (:data:`FIXED_BY_CHECKPOINT`: its draw, graph, signs,
seeds) are refused even then: the change would be recorded and never applied, or mix two
networks.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from infodyn.errors import InputError, reading
from infodyn.experiments.dotted import get_dotted
from infodyn.learning.checkpoint import NETWORK_FIXED

#: keys that may differ on resume without changing what was computed (how long to train, how
#: often to checkpoint)
EXTENDABLE = frozenset({"training.iterations", "training.checkpoint_every"})

#: keys that fix the network a checkpoint was trained as: its shapes, graph, storage, initial
#: scales and signs (Dale's law follows ``frac_exc``) and the seeds of its draw and feedback
#: matrix. A resumed run keeps the checkpoint's weights and feedback, so a change would be
#: recorded in config.json but never take effect (a changed ``k_in`` trained on the old graph
#: and recorded the new one), or mix two networks (a graph stored dense takes its mask from a
#: fresh draw: another ``p_connect`` or ``training.seed`` re-masked the trained weights)
FIXED_BY_CHECKPOINT = frozenset(
    [f"training.{key}" for key in ("seed", "feedback_seed")]
    + [f"network.{key}" for key in NETWORK_FIXED]
)


class StaleCheckpoint(InputError):
    """A checkpoint that cannot continue: the files it was made from (weights) have changed
    since. The command line says so and stops; a sweep point starts afresh instead, as it
    runs a finished point again when its input files change."""


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
    run_dir: str | Path,
    new: dict[str, Any],
    allow_changes: bool = False,
    defaults: dict[str, Any] | None = None,
    resolve: Any = None,
) -> dict[str, list[Any]]:
    """Compare the resolved config ``new`` with the one the run in ``run_dir`` started with.

    Returns the changes ``{key: [old, new]}`` (empty when none; a key one side lacks is
    ``"(absent)"`` there). Raises :class:`InputError` naming the changed keys unless they are all
    in :data:`EXTENDABLE` or ``allow_changes`` is true; a change of a key in
    :data:`FIXED_BY_CHECKPOINT` is refused either way, except a key the stored config lacks (a
    run started before infodyn had it) whose new value is its value in ``defaults`` (the
    resolved default config: what the run used; without ``defaults``, any such key is left to
    ``allow_changes``). A missing ``config.json`` is refused the same way (the settings are
    unknown). ``resolve`` (a stored config -> that config with every default this version fills
    in) makes a stored config that predates a key, or lists less (a ``[[loss]]`` term without
    its defaults), equal to the same config resolved now; one it cannot resolve is compared as
    it is.
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
    defaults = json.loads(json.dumps(defaults)) if defaults is not None else None
    seen = old
    if resolve is not None:  # the stored config as this version resolves it: what it lacks
        # (a key or an option added since, with its default) is no change
        with contextlib.suppress(InputError):
            seen = json.loads(json.dumps(resolve(old)))
    keys = changed_keys(seen, new)
    changes = {k: [config_value(old, k), config_value(new, k)] for k in keys}

    def fixed(key: str) -> bool:
        if key not in FIXED_BY_CHECKPOINT:
            return False
        if changes[key][0] != ABSENT:
            return True
        return defaults is not None and changes[key][1] != config_value(defaults, key)

    blocking = [k for k in keys if k not in EXTENDABLE]
    fixed_keys = [k for k in blocking if fixed(k)]
    if fixed_keys:
        others = [k for k in blocking if k not in fixed_keys]
        also = ""
        if others and not allow_changes:
            also = f"; it also differs in {shown_changes(others, changes)} (--allow-config-change)"
        raise InputError(
            f"{Path(run_dir) / 'config.json'}: {shown_changes(fixed_keys, changes)}"
            " fixed the network this checkpoint was trained as (its draw, graph, signs or "
            "seeds): a change on resume would never take effect or would mix two networks; "
            f"resume with the original values, or train afresh in another directory{also}"
        )
    if blocking and not allow_changes:
        raise InputError(
            f"{Path(run_dir) / 'config.json'}: the config differs from the one this run started "
            f"with: {shown_changes(blocking, changes)}; resume with the original config, or pass "
            "--allow-config-change to continue under the new settings (recorded in config.json)"
        )
    return changes


def shown_changes(keys: list[str], changes: dict[str, list[Any]]) -> str:
    """``key (old -> new)`` for the first six keys, then how many more."""
    shown = ", ".join(f"{k} ({_change(*changes[k])})" for k in keys[:6])
    return shown + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")


#: what :func:`check_resume_config` records for a key one config lacks
ABSENT = "(absent)"


def config_value(data: Any, key: str) -> Any:
    """The value of a dotted ``key`` in a nested config dict (:data:`ABSENT` when missing)."""
    try:
        return get_dotted(data, key)
    except KeyError:
        return ABSENT


def _change(old: Any, new: Any) -> str:
    """``old -> new`` as JSON, each cut to 30 characters around where the two first differ (a
    list of loss terms cut at its start showed two equal texts)."""
    a, b = ("absent" if v == ABSENT else json.dumps(v) for v in (old, new))
    if max(len(a), len(b)) <= 30:
        return f"{a} -> {b}"
    first = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(0, first - 10)

    def cut(text: str) -> str:
        part = text[start : start + 27]
        return ("..." if start else "") + part + ("..." if start + 27 < len(text) else "")

    return f"{cut(a)} -> {cut(b)}"


def resumed_changes(
    run_dir: Path, changes: dict[str, list[Any]], trainer: Any, ran: list[int]
) -> Any:
    """A function giving ``config.json``'s ``resumed_with_changes`` once this resume trained:
    every resume with changes so far, oldest first, each ``{"from_iteration": k, "changes":
    {key: [old, new]}}`` (``k``: the checkpoint's iterations it continued from: the
    ``trainer``'s less ``ran``, this call's). Read before anything is written, so that the record
    written with the first checkpoint and at the end are the same; it kept the latest resume's
    changes only, so a run resumed at lr 0.5 and again at 0.1 said it started at 0.5. A record
    of the earlier form (one dict of changes) is kept as an entry without ``from_iteration``."""
    earlier = (stored_config(run_dir) or {}).get("resumed_with_changes") or []
    if isinstance(earlier, dict):
        earlier = [{"changes": earlier}]

    def record() -> dict[str, Any]:
        entry = {"from_iteration": trainer.state.iteration - len(ran), "changes": changes}
        return {"resumed_with_changes": [*earlier, entry]}

    return record


def record_with_first_checkpoint(trainer: Any, run: Any, cfg: Any, record: Any) -> None:
    """Write ``config.json`` with the resumed run's config and ``record()`` (its
    ``resumed_with_changes``; the old ``results.json`` removed) right after the first checkpoint
    trained under it: a resume with changes that then failed before its first checkpoint leaves
    the config as it was, but one stopped after it (Ctrl-C, or a later failure) left checkpoints
    trained at the new lr under a config that still said the old one and recorded no change."""
    save = trainer.save_checkpoint

    def save_then_record(path: Any) -> Any:
        written = save(path)
        if trainer.save_checkpoint is save_then_record:  # once
            trainer.save_checkpoint = save
            run.retire_results()
            run.write_config(cfg, "train", record())
        return written

    trainer.save_checkpoint = save_then_record
