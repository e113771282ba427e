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
