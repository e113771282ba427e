"""The sweep's results table and summary figure (infodyn.experiments.sweep_outputs)."""

from infodyn.experiments.rundir import RunDir
from infodyn.experiments.sweep_outputs import write_outputs


def test_summary_metric_absent_or_not_a_number_is_said_and_no_stale_figure_is_left(tmp_path):
    # --metric engine crashed after the results were written (float('jax')); a typo gave no
    # figure and no word, and an earlier run's summary.png stayed in the folder
    run = RunDir(tmp_path)
    rows = [
        {"index": i, "point": f"p{i}", "status": "done", "x": x, "rate": 2.0 * x, "engine": "jax"}
        for i, x in enumerate([1.0, 2.0])
    ]
    files, note = write_outputs(run, rows, {"x": [1.0, 2.0]}, "rate")
    assert note is None and (tmp_path / "figures" / "summary.png").exists()
    files, note = write_outputs(run, rows, {"x": [1.0, 2.0]}, "mean_rate")
    assert "no point has a result named 'mean_rate'" in note and "summary" not in files
    assert "did you mean rate?" in note and "finished points are not run again" in note
    assert not (tmp_path / "figures" / "summary.png").exists()
    files, note = write_outputs(run, rows, {"x": [1.0, 2.0]}, "engine")
    assert "'engine' is not a number" in note
    assert write_outputs(run, rows, {"x": [1.0, 2.0]}, None)[1] is None


def test_summary_of_a_boolean_result_is_refused_and_a_failed_first_row_is_skipped(tmp_path):
    run = RunDir(tmp_path)
    rows = [
        {"index": 0, "point": "p0", "status": "failed", "x": 1.0},
        {"index": 1, "point": "p1", "status": "done", "x": 2.0, "rate": 4.0, "ok": True},
    ]
    files, note = write_outputs(run, rows, {"x": [1.0, 2.0]}, "ok")
    assert note == "the result 'ok' is not a number: no summary figure"
    files, note = write_outputs(run, rows, {"x": [1.0, 2.0]}, "rate")
    assert note is None and files["summary"] == "figures/summary.png"


def test_no_finished_point_is_said_as_such_not_as_a_wrong_metric(tmp_path):
    # every point failed: "no point has a result named 'mean_rate_hz' ... rerun with --metric"
    rows = [{"index": 0, "point": "p0", "status": "failed", "x": 1.0}]
    _, note = write_outputs(RunDir(tmp_path), rows, {"x": [1.0]}, "mean_rate_hz")
    assert note == "no point finished: no summary figure"


def test_a_column_of_mixed_kinds_is_written_to_parquet_as_text(tmp_path):
    """A grid of units = "0-9", [0, 1, 2] (energy) gave a column of text and a list: Arrow
    raised after every point had run (a traceback, no results.json), and every rerun again."""
    import pandas as pd

    run = RunDir(tmp_path)
    rows = [
        {"index": 0, "point": "p0", "status": "done", "units": "0-9", "bits": 1.5, "n": 3},
        {"index": 1, "point": "p1", "status": "done", "units": [0, 1, 2], "bits": 2.5, "n": "x"},
        {"index": 2, "point": "p2", "status": "failed", "units": None},
    ]
    files, _ = write_outputs(run, rows, {"units": ["0-9", [0, 1, 2]]}, "bits")
    table = pd.read_parquet(tmp_path / files["parquet"])
    assert table["units"].tolist()[:2] == ["0-9", "[0, 1, 2]"] and pd.isna(table["units"][2])
    assert table["n"].tolist()[:2] == ["3", "x"] and pd.isna(table["n"][2])
    assert table["bits"].tolist()[:2] == [1.5, 2.5]  # a column of one kind keeps its type


def test_summary_error_bars_are_the_seeds_sample_sd():
    """Two seeds at 1 and 3: sample SD sqrt(2) (ddof 1); the population SD, 1, understated the
    spread of independent seeds by sqrt(N / (N - 1))."""
    import numpy as np

    from infodyn.experiments.sweep_outputs import summary_figure

    rows = [{"status": "done", "x": 1.0, "seed": s, "rate": v} for s, v in enumerate([1.0, 3.0])]
    fig = summary_figure(rows, {"x": [1.0]}, "rate")
    (segment,) = fig.axes[0].containers[0].lines[2][0].get_segments()
    np.testing.assert_allclose(segment[:, 1], [2.0 - np.sqrt(2.0), 2.0 + np.sqrt(2.0)])


def test_the_summary_title_counts_every_point():
    """A sweep of 4 with 2 failed was titled "sweep: 2 points, 2 failed" (a sweep of 2), and
    interrupted points went unmentioned."""
    from infodyn.experiments.sweep_outputs import summary_figure

    rows = [{"status": "done", "x": x, "rate": x} for x in (1.0, 2.0)]
    rows += [{"status": "failed", "x": 3.0}, {"status": "interrupted", "x": 4.0}]
    fig = summary_figure(rows, {"x": [1.0, 2.0, 3.0, 4.0]}, "rate")
    assert fig.axes[0].get_title() == "sweep: 2 of 4 points plotted, 1 failed, 1 interrupted"
    whole = summary_figure(rows[:2], {"x": [1.0, 2.0]}, "rate")
    assert whole.axes[0].get_title() == "sweep: 2 points"


def test_the_summary_line_runs_in_the_order_of_its_numeric_values():
    """--grid x=1.5,0.5,1.0 drew its line in the order given: a zig-zag."""
    from infodyn.experiments.sweep_outputs import summary_figure

    rows = [{"status": "done", "x": x, "rate": 2 * x} for x in (1.5, 0.5, 1.0)]
    fig = summary_figure(rows, {"x": [1.5, 0.5, 1.0]}, "rate")
    line = fig.axes[0].containers[0].lines[0]
    assert list(line.get_xdata()) == [0.5, 1.0, 1.5]
    assert list(line.get_ydata()) == [1.0, 2.0, 3.0]


def test_a_metric_named_like_a_grid_key_plots_the_result(tmp_path, monkeypatch):
    """A result named like a grid column goes to results.<name>: --metric <name> plotted the
    grid's own values against themselves."""
    import infodyn.experiments.sweep_outputs as so
    from infodyn.experiments.rundir import RunDir

    rows = [
        {"status": "done", "point": f"p{x}", "bin_ms": x, "results.bin_ms": 10.0 * x}
        for x in (1, 2)
    ]
    seen, original = [], so.summary_figure
    monkeypatch.setattr(so, "summary_figure", lambda r, g, m: seen.append(m) or original(r, g, m))
    _, why_not = so.write_outputs(
        RunDir(tmp_path / "s", "sweep"), rows, {"bin_ms": [1, 2]}, "bin_ms"
    )
    assert why_not is None and seen == ["results.bin_ms"]
