"""Run directories: every command writes its resolved config, data, figures and results here.

A run directory holds ``config.json`` (the resolved config and the package version),
``results.json``, figures as PNG and, once written, ``report.html``. All files are written
atomically, so an interrupted run never leaves a file that looks complete, and the config is
written with the results at the end (:meth:`RunDir.finish`), so a rerun into the same folder that
fails part way does not pair a new config with the old results.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from infodyn.atomic import atomic_path, write_json
from infodyn.errors import writing


class RunDir:
    """A folder for one run's outputs."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        with writing(self.path):  # unwritable, or a file in the way: one InputError
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / "figures").mkdir(exist_ok=True)

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        return write_json(self.path / name, obj)

    def write_config(self, config: Any, command: str, extra: dict[str, Any] | None = None) -> Path:
        """Store the resolved config with the package version, so the run can be repeated;
        ``extra`` entries (e.g. ``resumed_with_changes``) are stored beside it."""
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
                "config": config,
                **(extra or {}),
            },
        )

    def finish(
        self, config: Any, command: str, results: Any, extra: dict[str, Any] | None = None
    ) -> Path:
        """Write ``config.json`` and then ``results.json``: the last files of a run, so that a
        rerun which fails part way leaves the previous run's config and results together."""
        self.write_config(config, command, extra)
        return self.write_json("results.json", results)

    def savefig(self, fig: Any, name: str, dpi: int = 110) -> Path:
        """Save a matplotlib figure as ``figures/NAME.png`` atomically and close it."""
        import matplotlib.pyplot as plt

        target = self.path / "figures" / f"{name}.png"
        with atomic_path(target, ".png") as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        plt.close(fig)
        return target

    def figures(self) -> list[Path]:
        return sorted((self.path / "figures").glob("*.png"))
