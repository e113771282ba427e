"""The ``infodyn`` command: thin wrappers over the library, one module per subcommand.

Every command answers bad input with one clear line on stderr and exit code 2 (no traceback).
Each module named in ``COMMAND_MODULES`` registers its command(s) on ``app`` when imported.
"""

from __future__ import annotations

import importlib
import sys

from infodyn.cli.app import app, fail
from infodyn.experiments.interrupt import keep_swallowed_interrupts

# before the command modules import JAX: a Ctrl-C during that import is not lost
keep_swallowed_interrupts()

COMMAND_MODULES = (
    "simulate",
    "config",
    "sweep",
    "report",
    "images",
    "demo",
    "info",
    "train",
    "energy",
    "criticality",
    "channel",
    "convert",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"infodyn.cli.{_name}")

__all__ = ["COMMAND_MODULES", "app", "fail", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line and exit 2 for every expected failure
    (:mod:`infodyn.cli.errors`)."""
    from infodyn.cli.errors import run

    sys.exit(run(app, argv))
