"""The ``infodyn`` command: thin wrappers over the library, one module per subcommand.

Every command answers bad input with one clear line on stderr and exit code 2 (no traceback).
Each module named in ``COMMAND_MODULES`` registers its command(s) on ``app`` when imported.
"""

from __future__ import annotations

import importlib
import sys

from infodyn.cli.app import app, fail

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


def main() -> None:
    """Console-script entry point."""
    from infodyn.errors import InputError

    try:
        app()
    except InputError as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(f"{exc.filename or exc}: no such file")
    except KeyboardInterrupt:
        print("infodyn: interrupted", file=sys.stderr)
        sys.exit(130)
