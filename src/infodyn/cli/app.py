"""The typer application shared by every subcommand module."""

from __future__ import annotations

import sys
import warnings
from typing import Any, NoReturn

import typer

from infodyn.progress import warning_line

app = typer.Typer(
    name="infodyn",
    help="Train spiking dynamical systems with local learning rules and measure what they encode.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help texts name TOML tables ("[network]"): print them as written
)


def command_line(*words: Any) -> str:
    """``infodyn WORDS...`` as a shell line to paste (``shlex.join``): a resume line built by
    an f-string broke on a path with a space (``--out out dir``)."""
    import shlex

    return shlex.join(["infodyn", *map(str, words)])


def fail(message: str) -> NoReturn:
    """Print one error line to stderr and exit with code 2."""
    print(f"infodyn: error: {message}", file=sys.stderr)
    sys.exit(2)


def print_out(text: str, nl: bool = True) -> None:
    """Print what a command makes on stdout (a config, the version). With stdout closed at
    start (``>&-``) that is one error: ``infodyn config init > &-`` lost the config in silence
    and exited 0. (Other commands' stdout lines only report files they wrote: dropped.)"""
    if sys.stdout is None:
        fail("stdout is closed (>&-), so there is nothing to print to; redirect it (> FILE)")
    typer.echo(text, nl=nl)


def _print_version(value: bool) -> None:
    """``--version``: the package's version, then exit (before any command runs)."""
    if value:
        from infodyn._version import __version__

        print_out(f"infodyn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """infodyn: spiking networks, e-prop, criticality, multivariate information, energy models."""
    warnings.showwarning = warning_line  # warnings a command does not collect: one line
