"""MkDocs hook: write the config-file reference from the registered commands at build time.

``docs/config.md`` holds the marker ``<!-- config-reference -->``; this hook replaces it with one
section per command that runs from a TOML config: its complete default config, every key with its
default, units and allowed values (``infodyn config init COMMAND`` prints the same text), read
from the pydantic models so the page cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- config-reference -->"


def config_reference() -> str:
    """The Markdown of every registered command's default config, in order of registration."""
    import infodyn.cli  # noqa: F401  (registers the commands)
    from infodyn.experiments.config import COMMANDS, default_config_toml

    lines: list[str] = []
    for name in COMMANDS:
        lines += [
            f"## `infodyn {name}`",
            "",
            f"`infodyn config init {name}` prints this file:",
            "",
            "```toml",
            default_config_toml(name).rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, config_reference())
    return markdown
