"""``infodyn channel``: a tiny end-to-end run and its bad-input path."""

import json
import re

import pytest
from faultkit import cli_in_process, record_calls
from typer.testing import CliRunner

from infodyn.cli import app


def test_channel_cli_tiny_run(tmp_path, monkeypatch):
    from infodyn import progress

    # no line of the counts every minute off a terminal (a loaded CI machine ran it past one)
    monkeypatch.setattr(progress, "OFF_TERMINAL_EVERY_S", float("inf"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[channel]\nn_in = 10\nn_rec = 6\nn_stimuli = 2\nn_steps = 40\nresponse_start = 10\n"
        "input_strengths = [2.0]\nseeds = [0]\nconditions = ['info']\nn_iterations = 1\n"
        "trials_per_stimulus = 2\ntest_trials_per_stimulus = 6\nbin_steps = 10\n"
        "n_subsets = 1\nn_shuffles = 1\nlr = 1e-3\n"
    )
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["channel", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    # progress (infodyn.progress, not a terminal): one plain line per network on stderr (a
    # timestamped line; a CI machine once wrote one more line there, which a failure must show)
    progress_lines = [ln for ln in res.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d ", ln)]
    assert len(progress_lines) == 1, res.stderr
    (line,) = progress_lines
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d strength 2 seed 0, info: (m=\S+|m not resolved) "
        r"I=\S+ bits rate=\S+ Hz  \[\d+ s\]",
        line,
    ), line
    assert res.stdout.startswith("channel: 1 network(s) x 2 conditions (untrained, info) in ")
    assert "\x1b" not in res.output  # it said "2 networks": the rows, untrained included
    results = json.loads((out / "results.json").read_text())
    assert [r["condition"] for r in results["rows"]] == ["untrained", "info"]
    for key in ("mi_bits", "tc_bits", "rate_hz", "m_naive"):
        assert key in results["summary"][0]
    # scalars a sweep tabulates (the rows and the summary are lists, which it leaves out)
    for cond, row in zip(("untrained", "info"), results["rows"], strict=True):
        assert results["means"][cond]["mi_bits"] == pytest.approx(row["mi_bits"])
    assert (out / "figures" / "info_vs_branching.png").stat().st_size > 0
    assert (out / "table.csv").exists() and (out / "config.json").exists()


def test_channel_cli_unknown_key_is_one_line_exit_2(tmp_path):
    from infodyn.cli import main  # noqa: F401  (the entry point maps InputError to exit 2)

    cfg = tmp_path / "bad.toml"
    cfg.write_text("[channel]\nn_rec = 10\nbogus = 1\n")
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from infodyn.cli import main; "
            "sys.argv = ['infodyn', 'channel', sys.argv[1], '--out', sys.argv[2]]; main()",
            str(cfg),
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "bogus" in proc.stderr and "unknown key" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_channel_quiet_turns_progress_off(tmp_path, monkeypatch, capsys):
    """H1 (tests/cli/test_channel_cli.py): ``--quiet`` means no per-network progress lines."""
    (tmp_path / "c.toml").write_text("[channel]\n")
    calls = record_calls(
        monkeypatch, "infodyn.experiments.channel", "run_channel", {"rows": [], "wall_seconds": 0}
    )
    argv = ["channel", tmp_path / "c.toml", "--out", tmp_path / "r"]
    rc, out, err = cli_in_process([*argv, "--quiet"], capsys)
    assert rc == 0, err
    assert calls[-1][1]["progress"] is False
    rc, out, err = cli_in_process(argv, capsys)
    assert rc == 0, err
    assert calls[-1][1]["progress"] is True
