"""The one progress convention (infodyn.progress): counts, totals and status reach rich; quiet
writes nothing; off a terminal only the log lines appear, plain; on a terminal a bar is drawn
and removed; a stage log writes one line per stage; every long command reports through it."""

import io
import re
import subprocess
import sys

import pytest
from rich.console import Console

from infodyn import progress
from infodyn.progress import ProgressBar, StageLog

LINE = re.compile(r"^\d\d:\d\d:\d\d (.*)  \[\d+ s\]$")


@pytest.fixture
def terminal(monkeypatch):
    """The shared console replaced by one that is a terminal, writing into a buffer."""
    buf = io.StringIO()
    monkeypatch.setattr(progress, "_console", [Console(file=buf, force_terminal=True, width=100)])
    return buf


def _lines(text):
    return [LINE.match(s).group(1) for s in text.splitlines() if s]


def test_progress_bar_tracks_done_total_and_status():
    with ProgressBar("work", None, unit="items") as bar:
        bar.update(done=2, total=5, status="ok")
        bar.update(advance=1)
        task = bar._bar.tasks[0]
        assert (task.completed, task.total, task.fields["status"]) == (3, 5, "")
    assert bar._bar is None  # closed


def test_disabled_progress_bar_is_a_no_op(capsys):
    with ProgressBar("work", 10, enabled=False) as bar:
        bar.update(done=3, status="ignored")
        bar.log("not written")
        assert bar._bar is None
    with StageLog(enabled=False) as log:
        log("a stage", 0.5)
        log.log("not written")
    assert capsys.readouterr() == ("", "")


def test_quiet_progress_writes_nothing_in_a_fresh_process():
    code = (
        "from infodyn.progress import ProgressBar, StageLog\n"
        "with ProgressBar('x', 3, enabled=False) as b:\n    b.update(done=1); b.log('no')\n"
        "with StageLog(enabled=False) as s:\n    s('stage', 0.1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == proc.stderr == ""


def test_off_a_terminal_only_plain_log_lines_reach_stderr(capsys):
    long = "x" * 150  # not wrapped at the console's width
    with ProgressBar("counting", 4, unit="items") as bar:
        bar.update(done=1, status="busy")
        bar.log("first network done")
        bar.update(done=4)
        bar.log(long)
    out, err = capsys.readouterr()
    assert out == ""  # stdout is for results
    assert "\x1b" not in err and "counting" not in err  # no bar, no control codes
    assert _lines(err) == ["first network done", long]


def test_off_a_terminal_the_counts_are_a_line_now_and_then(capsys, monkeypatch):
    """A 158 s simulation into a log file printed nothing until it ended."""
    with ProgressBar("simulating", 100_000, unit="steps") as bar:
        bar.update(done=10)  # within the minute: nothing
        monkeypatch.setattr(progress, "OFF_TERMINAL_EVERY_S", 0.0)
        bar.update(done=40_000, status="18.5 Hz")
        monkeypatch.setattr(progress, "OFF_TERMINAL_EVERY_S", 3600.0)
        bar.update(done=50_000)
    with ProgressBar("stage", 100, unit="%") as bar:
        monkeypatch.setattr(progress, "OFF_TERMINAL_EVERY_S", 0.0)
        bar.update(done=25)
    with ProgressBar("points", None) as bar:
        bar.update(done=3)
    out, err = capsys.readouterr()
    assert out == "" and "\x1b" not in err
    assert _lines(err) == [
        "simulating: 40,000/100,000 steps (40 %), 18.5 Hz",
        "stage: 25 %",
        "points: 3",
    ]


def test_on_a_terminal_the_bar_is_drawn_and_the_lines_stay(terminal, capsys):
    with ProgressBar("work", 4, unit="items") as bar:
        bar.update(done=2)
        bar.log("a line")
    text = terminal.getvalue()
    assert "work" in text and "2/4 items" in text and "a line" in text
    assert capsys.readouterr() == ("", "")  # everything went through the one console


def test_stage_log_writes_one_line_per_stage(capsys):
    with StageLog() as log:
        log("energy model of 8x8 patches", 0.0)
        log("training: 1/3, rate 5.0 Hz", 1 / 3)
        log("training: 2/3, rate 4.0 Hz", 2 / 3)
        log("training: 3/3, rate 3.0 Hz", 1.0)
        log("writing report.html", 1.0)
        assert log._bar._bar.tasks[0].description == "writing report.html"
        assert log._bar._bar.tasks[0].completed == 100
    assert _lines(capsys.readouterr().err) == [
        "energy model of 8x8 patches",
        "training",
        "writing report.html",
    ]


def test_stage_log_draws_its_stage_and_percentage_on_a_terminal(terminal):
    with StageLog() as log:
        log("training: 1/4, rate 5.0 Hz", 0.25)
    text = terminal.getvalue()
    assert "training: 1/4, rate 5.0 Hz" in text and "25 %" in text


def test_simulate_to_file_reports_through_the_bar(tmp_path, terminal):
    import numpy as np

    import infodyn as idn
    from infodyn.network.simulate import simulate_to_file

    net = idn.network.LIF(n_in=4, n_rec=6, n_out=0)
    x = np.zeros((30, 4))
    seen = []
    simulate_to_file(net, net.init(seed=0), x, 30, tmp_path / "a.h5", 10, progress=seen.append)
    assert seen == [10, 20, 30] and terminal.getvalue() == ""
    simulate_to_file(net, net.init(seed=0), x, 30, tmp_path / "b.h5", 10, progress=True)
    assert "simulating" in terminal.getvalue() and "30/30 steps" in terminal.getvalue()


def test_stage_log_clamps_the_fraction_to_0_100():
    with StageLog() as log:
        log("over", 1.5)
        assert log._bar._bar.tasks[0].completed == 100
        log("under", -0.2)
        assert log._bar._bar.tasks[0].completed == 0


def test_on_a_terminal_the_bar_is_removed_when_done(terminal):
    with ProgressBar("work", 4, unit="items") as bar:
        bar.update(done=2)
    text = terminal.getvalue()
    assert "2/4 items" in text
    assert text.endswith("\x1b[1A\x1b[2K")  # transient: the cursor goes up and erases the bar line


def test_log_seconds_count_from_entering_the_bar(monkeypatch, capsys):
    clock = iter([0.0, 100.0, 103.0])  # __init__, __enter__, log
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    with ProgressBar("work", 1, unit="items") as bar:
        bar.log("hello")
    err = capsys.readouterr().err
    assert err.rstrip().endswith("hello  [3 s]"), err


def test_on_a_dumb_terminal_the_counts_are_lines_as_off_one(terminal, monkeypatch):
    """TERM=dumb: rich drew no bar, and the timed count lines (kept for a stderr that is no
    terminal) were not written either: a long run showed nothing until it ended."""
    monkeypatch.setenv("TERM", "dumb")
    with ProgressBar("simulating", 100, unit="steps") as bar:
        monkeypatch.setattr(progress, "OFF_TERMINAL_EVERY_S", 0.0)
        bar.update(done=40)
    assert _lines(terminal.getvalue()) == ["simulating: 40/100 steps (40 %)"]
