"""The step journal of a command without a checkpoint of its own: ``DIR/progress.json``.

The channel experiment and the image pipeline run a list of independent steps (one network, one
stage). Each finished step's result is written to the journal at once (atomically), with

- ``command``: the command that started the run (``"channel"``, ``"images"``, ``"demo"``);
- ``config``: a hash of the resolved config (:func:`config_digest`): a resumed run must share it;
- ``settings``: that config itself, so a refusal names the keys that changed;
- ``checksums``: a hash of each step's JSON text, so a damaged entry (an edit, a bad disk) is
  found on resume and that step run again, rather than crashing the run or, worse, entering its
  results unnoticed.

A step that leaves a checkpoint of its own (the image pipeline's training) writes the journal
as it begins (:meth:`StepJournal.begin`), so its checkpoint is always beside a journal that
names the config.

``--resume`` reuses the steps recorded for the same command and config; a journal of another
command or config is refused (a folder holding another command's finished run is refused
before, by :class:`~infodyn.experiments.rundir.RunDir`), and a plain rerun over an interrupted
run is refused too, so that neither loses the other's work. A run that failed on bad input part
way marks its journal ``"failed"`` (:meth:`StepJournal.fail`): a plain rerun, with the config
corrected, may start afresh over that one. ``--resume`` with nothing to resume
(no journal and no checkpoint: a misspelt ``--out``, or a finished run) is refused by the
commands (:func:`check_resumable`): it used to start the whole run afresh, over a finished
one's results even with another config. Any other command refuses a folder holding a journal
(:class:`~infodyn.experiments.rundir.RunDir`). When the run completes,
:meth:`StepJournal.finish` removes the journal. A journal written before checksums and the
command were recorded is read without those checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infodyn.atomic import to_jsonable, write_text
from infodyn.errors import InputError
from infodyn.experiments.resume import changed_keys
from infodyn.experiments.rundir import command_in


def config_digest(config: Any) -> str:
    """A stable hash of a JSON-able config (what a resumed run must share with the first)."""
    return _checksum(json.dumps(config, sort_keys=True, default=str))


def _canonical(result: Any) -> str:
    """A step result as canonical JSON text (NumPy values converted, NaN kept as NaN)."""
    return json.dumps(to_jsonable(result, keep_nonfinite=True), sort_keys=True)


def _checksum(text: str) -> str:
    """The first 16 hex digits of the SHA-256 of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_checksum(result: Any) -> str:
    """The checksum of ``result`` as a JSON file stores it (NumPy values converted, NaN and
    inf as null: :func:`~infodyn.atomic.write_json`), the same for the result read back: what
    a sweep point's done marker keeps to find an edited or damaged one."""
    return _checksum(json.dumps(to_jsonable(result), sort_keys=True))


def check_resumable(
    run_dir: str | os.PathLike, command: str, checkpoint: str | None = None
) -> None:
    """Raise :class:`InputError` unless ``run_dir`` holds an interrupted run's journal, or the
    ``checkpoint`` (a path in it) of a step interrupted before any step was journaled (the
    image pipeline's training), for ``--resume`` (checked before the folder is made)."""
    run_dir = Path(run_dir)
    if (run_dir / StepJournal.NAME).exists():
        return
    complete = (
        command_in(run_dir / "config.json") == command and (run_dir / "results.json").exists()
    )
    if checkpoint is not None and (run_dir / checkpoint).exists() and not complete:
        return  # (a complete run's checkpoint is a leftover: resuming it replaced the results)
    if complete:
        raise InputError(
            f"{run_dir}: its {command} run is complete (results.json), there is nothing to "
            "resume; run without --resume to run it again (its results are then replaced)"
        )
    raise InputError(
        f"{run_dir}: no interrupted {command} run to resume (no {StepJournal.NAME}); run "
        "without --resume to start one"
    )


def _failed_run_of(path: Path, command: str) -> dict[str, Any] | None:
    """The journal at ``path`` if it is that of a ``command`` run that failed
    (:meth:`StepJournal.fail`), which a plain rerun may replace, else None."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    failed = isinstance(data, dict) and "failed" in data and data.get("command") == command
    return data if failed else None


class StepJournal:
    """Finished steps of one run of ``command`` under the config hashed as ``digest``.

    ``resume=False`` starts afresh and refuses a folder holding an interrupted run (its
    journal); ``resume=True`` reuses the recorded steps and refuses a journal of another
    command or config, naming the file. Every refusal is an :class:`InputError` raised
    before anything in the folder changes.
    """

    NAME = "progress.json"

    def __init__(
        self,
        run_dir: str | os.PathLike,
        digest: str,
        resume: bool,
        command: str,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(run_dir) / self.NAME
        self.digest = digest
        self.command = command
        self.settings = settings  # the config hashed as digest, kept to name changed keys
        self._texts: dict[str, str] = {}  # step -> its result's canonical JSON text
        self._mine = False  # the file on disk is this run's (written or resumed by it)
        if not resume:
            failed = _failed_run_of(self.path, command) if self.path.exists() else None
            if failed is not None:
                self._warn_discarded(failed)
            elif self.path.exists():
                owner = command_in(self.path) or command
                raise InputError(
                    f"{self.path.parent} holds an interrupted {owner} run ({self.NAME}): pass "
                    "--resume to continue it, or choose another --out (this command changed "
                    "nothing)"
                )
            return
        if self.path.exists():  # the callers asked check_resumable first
            self._load()
            self._mine = True

    @classmethod
    def of_config(
        cls, run_dir: str | os.PathLike, config: Any, resume: bool, command: str
    ) -> StepJournal:
        """The journal of a run under the pydantic ``config``: its digest and, to name the
        keys a resumed run changed, the config itself."""
        settings = config.model_dump(mode="json")
        return cls(run_dir, config_digest(settings), resume, command, settings)

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
            steps, old = data["steps"], data["config"]
            checksums = data.get("checksums")
            if not isinstance(steps, dict):
                raise TypeError(f"'steps' is a {type(steps).__name__}, not a table")
            if checksums is not None and not isinstance(checksums, dict):
                raise TypeError(f"'checksums' is a {type(checksums).__name__}, not a table")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{self.path}: corrupt progress file ({type(exc).__name__}); delete it to "
                "start the run again"
            ) from None
        owner = data.get("command")
        if owner is not None and owner != self.command:
            raise InputError(
                f"{self.path}: written by infodyn {owner}, not infodyn {self.command}; resume "
                f"it with infodyn {owner}, or choose another --out"
            )
        if old != self.digest:
            before, which = data.get("settings"), ""
            if isinstance(before, dict) and self.settings is not None:
                keys = changed_keys(before, self.settings)
                more = " ..." if len(keys) > 8 else ""
                which = f" (changed: {', '.join(keys[:8])}{more})" if keys else ""
            raise InputError(
                f"{self.path}: written for a different config{which}; rerun "
                "with the original config, or without --resume (and another --out) to start "
                "afresh"
            )
        damaged = []
        for step, result in steps.items():
            text = _canonical(result)
            if checksums is None or checksums.get(step) == _checksum(text):
                self._texts[step] = text
            else:
                damaged.append(step)
        if damaged:
            warnings.warn(
                f"{self.path}: the entries of {', '.join(map(repr, damaged))} do not match "
                "their checksums (edited or damaged); those steps will be run again",
                stacklevel=3,
            )

    def __contains__(self, step: str) -> bool:
        return step in self._texts

    @property
    def steps(self) -> dict[str, Any]:
        """The recorded steps and their results (a fresh copy)."""
        return {step: json.loads(text) for step, text in self._texts.items()}

    def get(self, step: str) -> Any:
        """``step``'s recorded result (a fresh copy: changing it changes nothing recorded), or
        ``None``."""
        text = self._texts.get(step)
        return None if text is None else json.loads(text)

    def begin(self) -> None:
        """A step that leaves a checkpoint of its own starts: write the journal now (with the
        steps done so far), so that the checkpoint of an interruption before the step's end is
        resumed only under this config and a plain rerun over it is refused. Without it, an
        image pipeline interrupted in its first step's training left a checkpoint and no
        journal: ``--resume`` took any config (another seed's network then analysed beside the
        checkpoint's), and a plain rerun trained afresh over the checkpoint."""
        self._write()

    def put(self, step: str, result: Any) -> Any:
        """Record ``step``'s ``result`` (NaN kept as NaN) and return it as :meth:`get` will:
        plain JSON types, what a resumed run gets back."""
        self._texts[step] = _canonical(result)
        self._write()
        return self.get(step)

    def _warn_discarded(self, failed: dict[str, Any]) -> None:
        """A plain rerun over a failed run's journal: say which finished steps it discards
        (they were dropped unsaid, hours of work perhaps), and that ``--resume`` keeps them
        where the config is the same."""
        steps = failed.get("steps")
        if not isinstance(steps, dict) or not steps:
            return
        names = ", ".join(map(repr, list(steps)[:5])) + (" ..." if len(steps) > 5 else "")
        same = failed.get("config") == self.digest
        warnings.warn(
            f"{self.path}: the failed {self.command} run's finished steps ({names}) are "
            "discarded: this run starts afresh"
            + ("; --resume would reuse them (the config is the same)" if same else ""),
            stacklevel=4,
        )

    @contextlib.contextmanager
    def failing(self) -> Iterator[None]:
        """Mark the journal failed (:meth:`fail`) when the block raises an
        :class:`InputError` (bad input met part way; an interruption is none)."""
        try:
            yield
        except InputError as exc:
            self.fail(str(exc))
            raise

    def fail(self, reason: str) -> None:
        """The run failed on bad input met part way (not an interruption): mark its journal
        ``"failed"``, so that a plain rerun (the corrected config) starts afresh over it, where
        an interrupted run's journal refuses one; ``--resume`` still reuses its steps. A journal
        this run neither wrote nor resumed (another run's) is left alone."""
        if self._mine and self.path.exists():
            self._write(failed=reason)

    def _write(self, **extra: Any) -> None:
        record = {
            "command": self.command,
            "config": self.digest,
            **({} if self.settings is None else {"settings": self.settings}),
            "steps": self.steps,
            "checksums": {step: _checksum(text) for step, text in self._texts.items()},
            **extra,
        }
        write_text(self.path, json.dumps(record))
        self._mine = True

    def finish(self) -> None:
        """The run completed: its results are in place, the journal is no longer needed."""
        self.path.unlink(missing_ok=True)
