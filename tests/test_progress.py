"""The one progress bar: counts, totals and status reach rich; a disabled bar does nothing."""

from infodyn.progress import ProgressBar


def test_progress_bar_tracks_done_total_and_status():
    with ProgressBar("work", None, unit="items") as bar:
        bar.update(done=2, total=5, status="ok")
        bar.update(advance=1)
        task = bar._bar.tasks[0]
        assert (task.completed, task.total, task.fields["status"]) == (3, 5, "")
    assert bar._bar is None  # closed


def test_disabled_progress_bar_is_a_no_op():
    with ProgressBar("work", 10, enabled=False) as bar:
        bar.update(done=3, status="ignored")
        assert bar._bar is None
