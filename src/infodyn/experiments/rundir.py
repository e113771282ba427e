"""Run directories: every command writes its resolved config, data, figures and results here.

A run directory holds ``config.json`` (the resolved config and the package version),
``results.json``, figures as PNG and, once written, ``report.html``. All files are written
atomically, so an interrupted run never leaves a file that looks complete, and the config is
written with the results at the end (:meth:`RunDir.finish`), so a rerun into the same folder that
fails part way does not pair a new config with the old results.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infodyn.atomic import atomic_path, write_json
from infodyn.errors import InputError, as_path, require, writing
from infodyn.experiments.interrupt import run_finished
from infodyn.experiments.sweep_lock import folder_lock, refuse_if_held

#: the lock every command holds in its run folder while it runs (:meth:`RunDir.locked`)
RUN_LOCK = ".run.lock"

#: the mark a run leaves in its folder from the moment it takes it (:meth:`RunDir.locked`) to
#: its results: the files of a run stopped before its ``config.json`` (Ctrl-C, kill -9) are
#: its own, and the next run of the command may replace them (they were refused as the user's)
STARTED = ".run-started.json"


def command_in(file: Path) -> str | None:
    """The ``"command"`` named in a JSON file infodyn wrote (``config.json``, ``progress.json``);
    ``None`` when the file is absent, unreadable or names none."""
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    command = data.get("command") if isinstance(data, dict) else None
    return command if isinstance(command, str) else None


def interrupted_note(path: Path) -> str | None:
    """What to do with an interrupted run in ``path`` (found by its step journal,
    ``progress.json``: images, channel; a simulation's ``checkpoint/``; a training's
    ``checkpoint.npz``), or ``None``; a finished run may keep a checkpoint too, so callers
    ask where results are missing."""
    command = command_in(path / "progress.json")
    if command is None and (path / "checkpoint" / "state.npz").is_file():
        command = "simulate"
    if command is None and (path / "checkpoint.npz").is_file():
        command = "train"
    if command is None:
        return None
    return (
        f"the {command} run here was interrupted (its results come when it ends): resume it "
        f"with `infodyn {command} CONFIG --out {path} --resume`."
    )


def _refuse_other_command(path: Path, command: str) -> None:
    # an interrupted channel or image pipeline run has its journal and no config.json yet, an
    # interrupted simulation its checkpoint/ (a train run there stranded it: simulate then
    # named the train run, and without --resume the interrupted simulation)
    for name, what in (
        ("config.json", "run"),
        ("progress.json", "interrupted run"),
        ("checkpoint/config.json", "interrupted run"),
    ):
        other = command_in(path / name)
        if other is not None and other != command:
            raise InputError(
                f"{path} holds an infodyn {other} {what} ({name}): another run ({command}) there "
                f"would mix the two runs' files; choose another --out (e.g. {path / command})"
            )


#: the files every command writes into its run folder (besides its own: ``writes``)
RUN_FILES = ("config.json", "results.json")

#: the files whose ``"command"`` marks a folder as an infodyn run, interrupted or finished
RUN_MARKERS = ("config.json", "progress.json", "checkpoint/config.json")


def _refuse_foreign_files(path: Path, command: str, writes: tuple[str, ...]) -> None:
    # a folder of the user's own (no run of this command in it: other commands' are refused
    # before) whose files this run would replace: `infodyn simulate --out data` replaced the
    # user's recording data/spikes.h5 without a word, an images run their results.json
    if not path.is_dir() or any(command_in(path / n) == command for n in (*RUN_MARKERS, STARTED)):
        return
    held = [n for n in dict.fromkeys((*RUN_FILES, *writes)) if (path / n).exists()]
    if held:
        them = "it" if len(held) == 1 else "them"
        raise InputError(
            f"{path} holds {', '.join(held)} but no infodyn {command} run (no config.json of "
            f"one): this run would replace {them}; choose another --out (e.g. {path / command}), "
            f"or move {them} away"
        )


def _refuse_writing_over(path: Path, source: Any, names: tuple[str, ...]) -> None:
    # `infodyn energy DIR/model.npz --out DIR` replaced the user's spike file with the model
    if not isinstance(source, str | os.PathLike) or not Path(source).exists():
        return
    for name in (*RUN_FILES, *names):
        mine = path / name
        if mine.exists() and os.path.samefile(mine, source):
            raise InputError(
                f"{source}: this run writes {name} into {path}, which would replace its own "
                "input; give another --out (or move the file)"
            )


def png_bytes(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib figure rendered as PNG (tight bounding box), then closed."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return buffer.getvalue()


class RunDir:
    """A folder for one run's outputs."""

    def __init__(
        self,
        path: str | os.PathLike,
        command: str | None = None,
        hold_figures: bool = False,
        writes: tuple[str, ...] = (),
        reads: Any = None,
        mark: bool = False,
    ) -> None:
        """Make the folder (``figures/`` is made by the first figure, so a run refused part way
        leaves no empty one). With ``command``, refuse a folder that holds the
        run of another command (its ``config.json`` says which, or the ``progress.json`` of an
        interrupted run): writing there would leave a mix of two runs' files, e.g. a simulate
        run's ``spikes.h5`` beside a train run's config. ``hold_figures``: keep the figures in
        memory and write them in :meth:`finish`, just before the config and results (a rerun
        stopped in its analysis left its first figures beside the previous run's results).
        ``writes``: the files the command writes here besides ``config.json`` and
        ``results.json``; with ``command``, a folder that holds one of them, or those two, but
        no run of the command (a folder of the user's own) is refused: they would be
        replaced. ``reads``: the run's input file, refused when it is one of those files.
        ``mark``: :meth:`locked` marks the folder as this run's (:data:`STARTED`): for commands
        that write a data file before their ``config.json`` and have no checkpoint or step
        journal of their own (info, energy, sweep)."""
        self.path = as_path(path, "the run directory")
        self.command = command
        self.mark = mark and command is not None
        if self.path.is_symlink() and not self.path.exists():  # was "a file is in the way"
            raise InputError(
                f"{self.path}: a symbolic link to {os.readlink(self.path)}, which leads to no "
                "folder (a lost target, or a loop); make that folder or give another --out"
            )
        # a run going on there: said first (its checkpoint read as an interrupted run)
        refuse_if_held(self.path, RUN_LOCK, self._what())
        _refuse_writing_over(self.path, reads, writes)
        self.saved: set[Path] = set()  # the figures this run wrote (see finish's prune)
        self.held: dict[Path, bytes] | None = {} if hold_figures else None
        # a finished run of the same command is here: what finish(prune=True) may remove
        self.replaces_run = command is not None and command_in(self.path / "config.json") == command
        if command is not None:
            _refuse_other_command(self.path, command)
            _refuse_foreign_files(self.path, command, writes)
        self.created = not self.path.exists()  # made by this run (see removed_if_failed)
        with writing(self.path):  # unwritable, or a file in the way: one InputError
            self.path.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's run lock (:data:`RUN_LOCK`, as
        :func:`~infodyn.experiments.sweep_lock.folder_lock` holds a sweep's) for the block:
        one run at a time in a folder, whatever its command. Two ``info`` runs into one
        folder left one's config and results beside the other's ``information.npz``, and a
        ``simulate`` and an ``info`` started together into a new folder both succeeded, their
        files mixed. A run of another command that finished while this one started is
        refused once the lock is held."""
        with folder_lock(self.path, RUN_LOCK, self._what()):
            if self.command is not None:
                _refuse_other_command(self.path, self.command)
            if not self.mark or self.replaces_run:  # its config.json says whose they are
                yield
                return
            before = self._written()
            earlier = (self.path / STARTED).exists()  # a stopped run's, whose files are here
            self.write_json(STARTED, {"command": self.command, "pid": os.getpid()})
            try:
                yield
            finally:  # a run that wrote nothing leaves no mark (see STARTED); files it
                # removed (temporaries) are no writing, and an earlier run's mark stays
                after = self._written()
                if not earlier and None not in (before, after) and after <= before:
                    self._unmark()

    def _written(self) -> set[str] | None:
        """The names of the run files here and in ``figures/``, without the lock and the mark
        (None when the folder cannot be read: the mark is then kept)."""
        figures = self.path / "figures"
        try:
            names = {p.name for p in self.path.iterdir()} - {RUN_LOCK, STARTED}
            return names | (
                {f"figures/{p.name}" for p in figures.iterdir()} if figures.is_dir() else set()
            )
        except OSError:
            return None

    def _unmark(self) -> None:
        with contextlib.suppress(OSError):
            (self.path / STARTED).unlink(missing_ok=True)

    def _what(self) -> str:
        return f"infodyn {self.command} run" if self.command else "infodyn run"

    @contextlib.contextmanager
    def removed_if_failed(self) -> Iterator[None]:
        """Remove the folder this run made (:attr:`created`) if the block fails or is stopped
        before anything was written there: a run stopped in its analysis left an empty --out
        folder. A folder that existed before is kept whatever happens."""
        try:
            yield
        except BaseException:
            if self.created:
                self.remove_if_empty()
            raise

    def file(self, name: str) -> Path:
        return self.path / name

    def remove_if_empty(self) -> None:
        """Remove the folder (and an empty ``figures/``) when nothing was written: for a run
        that made a fresh folder and failed before its first file."""
        for folder in (self.path / "figures", self.path):
            with contextlib.suppress(OSError):
                folder.rmdir()

    def retire_results(self) -> None:
        """Remove the previous run's ``results.json``: called just before this run's data file
        (``spikes.h5``, ``information.npz``) replaces its own, so that a run which dies between
        that file and :meth:`finish` leaves data without results, never the old results beside
        the new data (read back as describing it)."""
        with writing(self.path / "results.json"):
            self.file("results.json").unlink(missing_ok=True)

    def write_json(self, name: str, obj: Any) -> Path:
        return write_json(self.path / name, obj)

    def write_results(self, results: Any) -> Path:
        """Write ``results.json``, the run's last file: from here on a signal to the command line
        leaves its exit code 0 (:func:`~infodyn.experiments.interrupt.run_finished`)."""
        written = self.write_json("results.json", results)
        self._unmark()  # a finished run: its config.json says whose the files are
        run_finished()
        return written

    def write_config(self, config: Any, command: str, extra: dict[str, Any] | None = None) -> Path:
        """Store the resolved config with the package version and the working directory (which
        its relative paths are read from), so the run can be repeated; ``extra`` entries
        (e.g. ``resumed_with_changes``) are stored beside it."""
        from infodyn._version import __version__

        if hasattr(config, "model_dump"):
            from infodyn.experiments.config import resolved

            config = resolved(config)  # every default filled in, so the run can be repeated
        return self.write_json(
            "config.json",
            {
                "command": command,
                "infodyn_version": __version__,
                "python": platform.python_version(),
                # what the config's relative paths were read from (see check_config_paths)
                "working_directory": os.getcwd(),
                "config": config,
                **(extra or {}),
            },
        )

    def finish(
        self,
        config: Any,
        command: str,
        results: Any,
        extra: dict[str, Any] | None = None,
        prune: bool = False,
    ) -> Path:
        """Write ``config.json`` and then ``results.json``: the last files of a run, so that a
        rerun which fails part way leaves the previous run's config and results together.

        ``prune`` (a command whose every figure this object wrote, in one go: not a resumed
        one): when the folder held a finished run of the same command (its ``config.json``),
        remove that run's figures (``figures/*.png``, not subfolders) this run did not write,
        and its ``report.html`` (of ``infodyn report``): they described the old run, and a
        report of the new one embedded them. Nothing is removed from a folder that held no
        such run (a user's own ``--out``), and a file that cannot be removed is left."""
        for target, png in (self.held or {}).items():
            self._write_png(target, png)
        self.write_config(config, command, extra)
        written = self.write_results(results)
        if prune:
            old = [p for p in (self.path / "figures").glob("*.png") if p not in self.saved]
            self.retire_files([*old, self.path / "report.html"])
        return written

    def retire_files(self, paths: list[Path]) -> None:
        """Remove ``paths``, files of the finished run this folder held, but only when it held
        one of this command (:attr:`replaces_run`: its ``config.json``): nothing is removed
        from a folder of the user's own. A file that cannot be removed is left."""
        if not self.replaces_run:
            return
        for path in paths:
            if path.is_file():
                with contextlib.suppress(OSError):
                    path.unlink()

    def savefig(self, fig: Any, name: str, dpi: int = 110) -> Path:
        """Save a matplotlib figure as ``figures/NAME.png`` atomically and close it."""
        return self.save_png(png_bytes(fig, dpi), name)

    def save_png(self, png: bytes, name: str) -> Path:
        """Write a rendered figure (:func:`png_bytes`) as ``figures/NAME.png``, atomically."""
        require(  # None was saved as figures/None.png; text a raw TypeError after the folder
            isinstance(png, bytes) and isinstance(name, str) and name,
            f"save_png takes the PNG's bytes and a figure name, got {type(png).__name__} and "
            f"{name!r}",
        )
        require(  # "../../x" was written outside the run folder
            not Path(name).is_absolute() and ".." not in Path(name).parts,
            f"a figure name stays inside the run's figures/ folder, got {name!r}",
        )
        target = self.path / "figures" / f"{name}.png"
        self.saved.add(target)
        if self.held is not None:  # written by finish
            self.held[target] = png
        else:
            self._write_png(target, png)
        return target

    def _write_png(self, target: Path, png: bytes) -> None:
        with writing(target.parent):
            target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, ".png") as tmp:
            tmp.write_bytes(png)

    def figures(self) -> list[Path]:
        return sorted((self.path / "figures").glob("*.png"))
