"""MkDocs hook: write the command-line reference from the typer app at build time.

``docs/cli.md`` holds the marker ``<!-- cli-reference -->``; this hook replaces it with one
section per command (usage, help text, a table of arguments and options), read from the click
command that typer builds from ``infodyn.cli.app``, so the page cannot drift from the code.
"""

from __future__ import annotations

import re
from typing import Any

MARKER = "<!-- cli-reference -->"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _command_markdown(name: str, command: Any, parent: Any) -> list[str]:
    ctx = command.make_context(name, [], parent=parent, resilient_parsing=True)
    lines = [f"## `{ctx.command_path}`", ""]
    help_text = (command.help or "").split("\f")[0].strip()
    if help_text:
        lines += [help_text, ""]
    usage = command.get_usage(ctx).removeprefix("Usage:").strip()
    usage = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), usage)  # typer's {arg} -> ARG
    lines += ["```", usage, "```", ""]
    if hasattr(command, "list_commands"):  # a group: its subcommands follow
        for sub in command.list_commands(ctx):
            lines += _command_markdown(sub, command.get_command(ctx, sub), ctx)
        return lines
    rows = []
    for param in command.params:
        record = param.get_help_record(ctx)
        if record is None:  # hidden
            continue
        names, text = record
        rows.append(f"| `{_cell(names)}` | {_cell(text)} |")
    if rows:
        lines += ["| argument / option | help |", "| --- | --- |", *rows, ""]
    return lines


def cli_reference() -> str:
    """The Markdown of every ``infodyn`` command, in the app's order of registration."""
    import typer

    from infodyn.cli import app

    root = typer.main.get_command(app)
    ctx = root.make_context("infodyn", [], resilient_parsing=True)
    lines: list[str] = []
    for name in root.list_commands(ctx):
        lines += _command_markdown(name, root.get_command(ctx, name), ctx)
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
