"""The ``infodyn`` command: thin wrappers over the library, one module per subcommand.

Every command answers bad input with one clear line on stderr and exit code 2 (no traceback).
Each module named in ``COMMAND_MODULES`` registers its command(s) on ``app`` when imported.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys

from infodyn.experiments.interrupt import command_line_interrupts

# first, before typer, NumPy and (in the commands) JAX: a Ctrl-C during an import is delivered
# when the import is done, never inside it (a half-imported extension can crash at exit)
command_line_interrupts()

from infodyn.cli.app import app, fail  # noqa: E402 - after the handler, on purpose

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
    from infodyn.cli.errors import run, stopped_at_once
    from infodyn.experiments.interrupt import ignore_signals_at_exit

    if sys.stderr is None:  # started with stderr closed (2>&-): print(file=None) wrote the
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - error lines into stdout's file
    code = run(app, argv)
    if stopped_at_once():  # every file is written and closed (run's finally blocks ran);
        sys.stdout.flush()  # skip the shutdown that raced XLA's threads (stopped_at_once)
        sys.stderr.flush()
        os._exit(code)
    # when the interpreter shuts down (not in a process that catches SystemExit and goes on),
    # before JAX's exit handlers (atexit runs the last registered first): still this code
    atexit.register(ignore_signals_at_exit)
    sys.exit(code)
