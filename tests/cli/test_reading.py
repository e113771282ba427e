"""The progress bar of a command's passes over a spike file (infodyn.cli._reading)."""

from pathlib import Path

from infodyn.cli import _reading
from infodyn.data.read_progress import READ_HOOK


def test_passes_are_counted_and_small_files_get_no_bar(monkeypatch):
    bars = []

    class Bar:
        def __init__(self, label, total, unit):
            self.updates = []
            bars.append(self)

        def __enter__(self):
            return self

        def update(self, **kwargs):
            self.updates.append(kwargs)

        def __exit__(self, *exc):
            self.closed = True

    monkeypatch.setattr(_reading, "ProgressBar", Bar)
    path = Path("run/spikes.h5")
    with _reading.reading_progress(min_spikes=10):
        hook = READ_HOOK.get()
        hook(path, 5, 8)  # a small file: no bar
        for done in (4, 8, 10, 4, 8, 10):  # two passes
            hook(path, done, 10)
    assert READ_HOOK.get() is None and len(bars) == 1 and bars[0].closed
    labels = [u.get("label") for u in bars[0].updates]
    assert labels == ["reading spikes.h5", None, None, "reading spikes.h5 (pass 2)", None, None]
    assert [u["done"] for u in bars[0].updates] == [4, 8, 10, 4, 8, 10]
