"""The command line's shared pieces (infodyn.cli.app)."""

import shlex

from infodyn.cli.app import command_line


def test_a_resume_line_survives_paths_with_spaces_and_quotes():
    """The resume lines of simulate, train, channel and demo were f-strings: `--out out dir`
    pasted back was "unexpected extra argument(s)"."""
    line = command_line("simulate", "my sim.toml", "--out", "out dir/it's", "--resume")
    assert shlex.split(line) == [
        "infodyn", "simulate", "my sim.toml", "--out", "out dir/it's", "--resume",
    ]  # fmt: skip
    assert command_line("demo", "--out", "run") == "infodyn demo --out run"
